"""Run one long core function off the GUI thread behind a progress dialog (no project needed).

The Jobs panel runs work as separate processes, but it lives in a project. What happens before a project
is open — building the demo project, creating a project by importing media into it — runs here instead:
a worker thread calls ``work(progress)`` (a ``core.progress`` callback), a modal progress dialog shows
its messages, and ``done(result)`` or ``failed(exception)`` is called on the GUI thread when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget


class _Worker(QThread):
    progressed = Signal(float, float, str)
    succeeded = Signal(object)
    raised = Signal(object)

    def __init__(self, work: Callable[[Callable[[float, float, str], None]], Any], parent: QObject) -> None:
        super().__init__(parent)
        self.work = work

    def run(self) -> None:
        try:
            result = self.work(lambda done, total, message: self.progressed.emit(float(done), float(total),
                                                                                  str(message)))
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, which reports it
            self.raised.emit(exc)
        else:
            self.succeeded.emit(result)


class TaskProgress(QObject):
    """One run of ``work``; keep a reference until ``done``/``failed`` has been called."""

    def __init__(self, title: str, work: Callable, done: Callable[[Any], None],
                 failed: Callable[[BaseException], None], parent: QWidget) -> None:
        super().__init__(parent)
        self.dialog = QProgressDialog(title, None, 0, 1000, parent)
        self.dialog.setObjectName("TaskProgress")
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.worker = _Worker(work, self)
        self.worker.progressed.connect(self._show)
        self.worker.succeeded.connect(lambda result: self._end(lambda: done(result)))
        self.worker.raised.connect(lambda exc: self._end(lambda: failed(exc)))
        self.running = True
        self.worker.start()
        self.dialog.show()

    def _show(self, done: float, total: float, message: str) -> None:
        self.dialog.setValue(int(1000 * done / total) if total else 0)
        if message:
            self.dialog.setLabelText(message)

    def _end(self, then: Callable[[], None]) -> None:
        self.worker.wait()
        self.running = False
        self.dialog.reset()
        self.dialog.close()
        self.dialog.deleteLater()
        then()
