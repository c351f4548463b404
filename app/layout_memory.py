"""Remembering the window per project: geometry, docks, splitter and the video layout.

Kept in QSettings under a key derived from the project folder's resolved path, so two projects can
have different arrangements and a read-only project still remembers its layout.

Three rules make a reopen give back what the user left:
- the dock state is restored only into a window whose layout has settled (``settle``): Qt distributes a
  restored state over the sizes the dock areas and the central widget have *now*, and a freshly built
  window that has never been laid out reports 100×30 docks and a 640×480 centre, which squeezed the
  video + timeline area to a third of its width;
- the geometry is clamped to the screen the window is on (a layout saved on a larger monitor, or one a
  dock's minimum size had stretched, must not open taller than the screen);
- the state carries a version derived from the set of docks: a state saved with other docks is dropped
  whole (Qt refuses a version mismatch) instead of half-applied to the docks that still exist.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

LAYOUT_SCHEMA = 2  # bump when the meaning of a saved state changes (e.g. new default grouping)
STATE_KEYS = {"geometry", "state", "splitter", "path"}


def settings_group(root: Path) -> str:
    return "projects/" + hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]


def layout_version(dock_names: Iterable[str]) -> int:
    """A version number for ``QMainWindow.saveState``: changes whenever the set of docks changes."""
    text = f"{LAYOUT_SCHEMA}:" + ",".join(sorted(dock_names))
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def _dock_names(window: QMainWindow) -> list[str]:
    from PySide6.QtWidgets import QDockWidget

    return [d.objectName() for d in window.findChildren(QDockWidget) if d.parent() is window]


def save_layout(window: QMainWindow, root: Path, splitter: QSplitter, extra: dict[str, str]) -> None:
    s = QSettings()
    s.beginGroup(settings_group(root))
    s.setValue("path", str(Path(root).resolve()))
    s.setValue("geometry", window.saveGeometry())
    s.setValue("state", window.saveState(layout_version(_dock_names(window))))
    s.setValue("splitter", splitter.saveState())
    for key, value in extra.items():
        s.setValue(key, value)
    s.endGroup()
    s.sync()


def clamp_to_screen(window: QMainWindow) -> None:
    """Move and shrink the window so that it lies within the available area of its screen."""
    screen = window.screen()
    if screen is None:
        return
    area: QRect = screen.availableGeometry()
    frame = window.frameGeometry()
    extra_w, extra_h = frame.width() - window.width(), frame.height() - window.height()
    width = min(window.width(), area.width() - extra_w)
    height = min(window.height(), area.height() - extra_h)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    frame = window.frameGeometry()
    x = min(max(frame.x(), area.left()), area.right() + 1 - frame.width())
    y = min(max(frame.y(), area.top()), area.bottom() + 1 - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


def restore_layout(window: QMainWindow, root: Path, splitter: QSplitter,
                   settle: Callable[[], None]) -> dict[str, str]:
    """Apply what was saved for ``root``; returns the extra values (empty when nothing usable was saved).

    ``settle`` lays the window out (delivers its pending layout events); it runs after the geometry is
    applied and before the dock state, so the state is distributed over real sizes.
    """
    s = QSettings()
    s.beginGroup(settings_group(root))
    extra: dict[str, str] = {}
    try:
        geometry, state = s.value("geometry"), s.value("state")
        if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
            return extra
        window.restoreGeometry(geometry)
        clamp_to_screen(window)
        settle()
        if not window.restoreState(state, layout_version(_dock_names(window))):
            return extra  # saved with another set of docks: the defaults apply
        splitter_state = s.value("splitter")
        if isinstance(splitter_state, QByteArray):
            splitter.restoreState(splitter_state)
        for key in s.childKeys():
            if key not in STATE_KEYS:
                extra[key] = str(s.value(key))
    finally:
        s.endGroup()
    return extra
