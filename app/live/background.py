"""One computation at a time off the GUI thread, its result handed back through a queued signal.

Why: the inspector's report (predicting missing frames, then a confusion matrix over whole sessions) and the
model's proposals (utterance predictions) take seconds to minutes; run on the GUI thread they freeze the
window. ``BackgroundCall.start(fn)`` runs ``fn`` on a plain daemon thread and emits ``done(result)`` or
``failed(exception)`` queued to the GUI thread, so the slots may touch widgets. Starting again while a call
runs supersedes it: the older result is dropped when it arrives (a thread cannot be interrupted, but its
answer to a question nobody asks any more must not overwrite the newer one).

``fn`` must not touch widgets; the store opens a connection per transaction, so it may use the project.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal


class BackgroundCall(QObject):
    """Runs the newest of the calls started, off the GUI thread; ``busy`` while one runs."""

    done = Signal(object)  # the call's return value (GUI thread)
    failed = Signal(object)  # the exception it raised (GUI thread)
    busy_changed = Signal(bool)
    _finished = Signal(int, bool, object)  # generation, ok, value — emitted on the worker thread

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._finished.connect(self._land, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on a new thread; a call still running is superseded (its result is dropped)."""
        self._generation += 1
        generation = self._generation

        def work() -> None:
            try:
                value, ok = fn(), True
            except Exception as exc:  # noqa: BLE001 - handed to ``failed`` on the GUI thread
                value, ok = exc, False
            with contextlib.suppress(RuntimeError):  # the panel (and this object) went away: nobody to tell
                self._finished.emit(generation, ok, value)

        was_busy = self.busy
        self._thread = threading.Thread(target=work, name=f"{self.name}:{generation}", daemon=True)
        self._thread.start()
        if not was_busy:
            self.busy_changed.emit(True)

    def cancel(self) -> None:
        """Forget the running call: its result will be dropped (the session changed, the panel closes)."""
        self._generation += 1
        if self._thread is not None:
            self._thread = None
            self.busy_changed.emit(False)

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until the running call's thread ends (tests, shutdown); False on timeout. Signals still queue."""
        thread = self._thread
        if thread is None:
            return True
        deadline = time.monotonic() + timeout
        thread.join(max(0.0, deadline - time.monotonic()))
        return not thread.is_alive()

    def _land(self, generation: int, ok: bool, value: Any) -> None:
        if generation != self._generation:
            return  # superseded or cancelled
        self._thread = None
        self.busy_changed.emit(False)
        (self.done if ok else self.failed).emit(value)
