"""The file and folder pickers of the File menu and its dialogs, in one place.

Native pickers cannot be driven by a test; tests replace these functions (``monkeypatch``) with the path
the user would have picked, and everything after the pick runs for real.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QWidget


def choose_folder(parent: QWidget, title: str, start: str = "") -> str:
    """A folder the user picks ("" when cancelled)."""
    return QFileDialog.getExistingDirectory(parent, title, start)


def choose_file(parent: QWidget, title: str, filters: str) -> str:
    """An existing file the user picks ("" when cancelled)."""
    return QFileDialog.getOpenFileName(parent, title, "", filters)[0]


def choose_save_file(parent: QWidget, title: str, filters: str) -> str:
    """A file name to write ("" when cancelled)."""
    return QFileDialog.getSaveFileName(parent, title, "", filters)[0]
