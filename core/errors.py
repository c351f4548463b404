"""One exception hierarchy for everything DyadLab reports to a user.

Every message names the file (and line or time where there is one), what is wrong, and, where it is
known, how to fix it. The CLI prints ``str(error)`` and exits non-zero; the GUI shows it in a dialog.
"""

from __future__ import annotations

from pathlib import Path


class DyadLabError(Exception):
    """Base class: a problem the user can understand and act on."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint
        self.problem = message
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        text = where + message
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class ProjectError(DyadLabError):
    """A project folder is missing, not a project, or cannot be opened."""


class SchemaVersionError(ProjectError):
    """The project's database was written by a newer DyadLab (or is not a DyadLab database)."""


class StoreError(DyadLabError):
    """A database operation failed (locked, read-only, constraint violated, disk full)."""


class ConflictError(StoreError):
    """An edit was made against a stale version of a row (optimistic locking)."""


class ImportFormatError(DyadLabError):
    """An input file is malformed; nothing was imported."""


class LabelSchemeError(DyadLabError):
    """A label scheme is invalid, or a value is not in the scheme."""


class MediaError(DyadLabError):
    """A media file is missing, unreadable, truncated or in an unsupported format."""


class ModelRegistryError(DyadLabError):
    """A model registry edit is refused: unknown model id, or an empty, too long or already taken name."""
