"""Run one long core function off the GUI thread behind a progress dialog (no project needed).

The Jobs panel runs work as separate processes, but it lives in a project. What happens before a project
is open — building the demo project, creating a project by importing media into it — runs here instead:
a worker thread calls ``work(progress)`` (a ``core.progress`` callback), a modal progress dialog shows
its messages, and ``done(result)`` or ``failed(exception)`` is called on the GUI thread when it ends.

The dialog's Cancel button asks the work to stop: the next progress call raises ``core.progress.Cancelled``
in the worker, the work rolls back what it made (the core functions used here leave nothing behind on any
exception), and ``cancelled()`` is called instead of ``failed``: a cancel is the user's choice, not an
error, so no error box follows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QPushButton, QWidget

from dyadlab.core.progress import Cancelled


class _Worker(QThread):
    progressed = Signal(float, float, str)
    succeeded = Signal(object)
    raised = Signal(object)

    def __init__(self, work: Callable[[Callable[[float, float, str], None]], Any], parent: QObject) -> None:
        super().__init__(parent)
        self.work = work
        self.cancel_requested = False  # set on the GUI thread, read here: a plain bool is enough

    def _progress(self, done: float, total: float, message: str) -> None:
        if self.cancel_requested:
            raise Cancelled("cancelled by the user")
        self.progressed.emit(float(done), float(total), str(message))

    def run(self) -> None:
        try:
            result = self.work(self._progress)
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, which reports it
            self.raised.emit(exc)
        else:
            self.succeeded.emit(result)


class TaskProgress(QObject):
    """One run of ``work``; keep a reference until ``done``/``failed`` has been called."""

    def __init__(self, title: str, work: Callable, done: Callable[[Any], None],
                 failed: Callable[[BaseException], None], parent: QWidget,
                 cancelled: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setObjectName("TaskProgress")
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.worker = _Worker(work, self)
        self.worker.progressed.connect(self._show)
        self.worker.succeeded.connect(lambda result: self._end(lambda: done(result)))
        self.worker.raised.connect(
            lambda exc: self._end((cancelled or (lambda: None)) if isinstance(exc, Cancelled) else lambda: failed(exc)))
        self.dialog.canceled.connect(self.cancel)
        self.running = True
        self.worker.start()
        self.dialog.show()

    def cancel(self) -> None:
        """Ask the work to stop at its next progress call; the dialog says so until it has."""
        if not self.running:
            return
        self.worker.cancel_requested = True
        self.dialog.show()  # QProgressDialog hides itself on cancel; keep it up until the work has stopped
        self.dialog.setLabelText("Cancelling…")
        button = self.dialog.findChild(QPushButton)
        if button is not None:
            button.setEnabled(False)

    def _show(self, done: float, total: float, message: str) -> None:
        if self.worker.cancel_requested:
            return
        self.dialog.setValue(int(1000 * done / total) if total else 0)
        if message:
            self.dialog.setLabelText(message)

    def _end(self, then: Callable[[], None]) -> None:
        self.worker.wait()
        self.running = False
        self.dialog.canceled.disconnect(self.cancel)
        self.dialog.reset()
        self.dialog.close()
        self.dialog.deleteLater()
        then()
