"""The projects this user opened lately, newest first, remembered in QSettings.

The start page and File ▸ Open recent list them; one that cannot be opened any more (folder moved or
deleted, or no longer a DyadLab project) stays in the list, greyed, with the reason, so the user knows
why instead of wondering where it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings

KEY = "recent_projects"
MAX_RECENT = 10


@dataclass(frozen=True)
class RecentProject:
    root: Path
    problem: str | None  # why it cannot be opened now; None when it can

    @property
    def label(self) -> str:
        return f"{self.root.name}  —  {self.root.parent}"


def _stored() -> list[str]:
    value = QSettings().value(KEY, [])
    if isinstance(value, str):  # QSettings gives a one-item list back as a plain string
        value = [value]
    return [str(v) for v in value or []]


def remember(root: Path) -> None:
    """Put ``root`` first in the list (once)."""
    path = str(Path(root).resolve())
    QSettings().setValue(KEY, [path] + [p for p in _stored() if p != path][:MAX_RECENT - 1])


def problem_of(root: Path) -> str | None:
    """Why ``root`` cannot be opened as a project now, or None."""
    from dyadlab.core.project import DB_NAME, read_database_url

    if not root.exists():
        return "folder not found"
    if not root.is_dir():
        return "not a folder"
    if not (root / DB_NAME).exists() and read_database_url(root) is None:
        return "not a DyadLab project any more"
    return None


def recent_projects() -> list[RecentProject]:
    return [RecentProject(Path(p), problem_of(Path(p))) for p in _stored()]
