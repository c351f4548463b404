"""Work around reference-count bugs in PySide6 6.12.0 that steal references to ``True`` and ``None``.

Measured here: every ``SignalInstance.emit()`` returns ``True`` without a new reference, and void
methods such as ``QUndoStack.undo/redo``, ``QWidget.setParent`` and ``QTimer.singleShot`` return
``None`` without one. Each call drops the singleton's reference count by one; pyqtgraph emits several
signals per zoom step and the player emits the time ~60 times a second, so after minutes of use the
count reaches zero and CPython 3.11 aborts the whole process ("Fatal Python error: bool_dealloc /
none_dealloc") — mid-session (committed edits survive, the app dies) or, in short runs, at exit.

``apply()`` detects the leaks with a few probe calls (so a fixed PySide6 is left alone) and gives
``True``, ``False`` and ``None`` a reference count so large it can never reach zero — what CPython
3.12 does for them ("immortal objects"). Idempotent; called when the main window is created.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)
_BOOST = 1 << 40
_PROBES = 16
_applied = False


def singletons_leak() -> bool:
    """True when emitting a signal or calling a void Qt method loses references to True/None."""
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        ping = Signal()

    probe, child = Probe(), Probe()
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(_PROBES):
        probe.ping.emit()
        child.setParent(None)
    after = sys.getrefcount(True), sys.getrefcount(None)
    return any(a <= b - _PROBES // 2 for a, b in zip(after, before, strict=True))


def apply() -> bool:
    """Protect ``True``/``False``/``None`` if this PySide6 leaks them; True when the guard was installed."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not singletons_leak():
        return False
    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    _applied = True
    log.info("this PySide6 leaks references to True/None; True, False and None made effectively immortal")
    return True
