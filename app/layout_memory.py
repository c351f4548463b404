"""Remembering the window per project: geometry, docks, splitter and the video layout.

Kept in QSettings under a key derived from the project folder's resolved path, so two projects can
have different arrangements and a read-only project still remembers its layout.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter


def settings_group(root: Path) -> str:
    return "projects/" + hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]


def save_layout(window: QMainWindow, root: Path, splitter: QSplitter, extra: dict[str, str]) -> None:
    s = QSettings()
    s.beginGroup(settings_group(root))
    s.setValue("path", str(Path(root).resolve()))
    s.setValue("geometry", window.saveGeometry())
    s.setValue("state", window.saveState())
    s.setValue("splitter", splitter.saveState())
    for key, value in extra.items():
        s.setValue(key, value)
    s.endGroup()
    s.sync()


def restore_layout(window: QMainWindow, root: Path, splitter: QSplitter) -> dict[str, str]:
    """Apply what was saved for ``root``; returns the extra values (empty when nothing was saved)."""
    s = QSettings()
    s.beginGroup(settings_group(root))
    extra: dict[str, str] = {}
    try:
        if not s.contains("geometry"):
            return extra
        for key, apply in (("geometry", window.restoreGeometry), ("state", window.restoreState),
                           ("splitter", splitter.restoreState)):
            value = s.value(key)
            if isinstance(value, QByteArray):
                apply(value)
        for key in s.childKeys():
            if key not in {"geometry", "state", "splitter", "path"}:
                extra[key] = str(s.value(key))
    finally:
        s.endGroup()
    return extra
