"""The one place ``core.inference.live.LiveInferenceWorker`` meets Qt.

Why: the worker is a plain thread that calls ``on_result``/``on_error`` *on that thread*; widgets may only be
touched on the GUI thread. The bridge re-emits both callbacks as Qt signals of a QObject living in the GUI
thread, so every connected slot runs queued on the GUI thread. ``submit`` forwards straight to the worker
(which never blocks), so the playback timer never waits on a model.

The worker runs in a child process (``core.inference.live_process``: its own GIL and a lower priority, so the
views keep their frames while a face model runs), or, with ``DYADLAB_LIVE_PROCESS=0`` or where no process can
be spawned, on a thread of this process (``LiveInferenceWorker``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 2.0  # the worker finishes the frame in progress; a slow model is abandoned (daemon thread)
PROCESS_ENV = "DYADLAB_LIVE_PROCESS"  # "0": run the worker on a thread of the window's process


def use_process() -> bool:
    """Run live inference in a child process (the default), unless switched off or impossible here."""
    from dyadlab.core.inference.live_process import process_worker_available

    return os.environ.get(PROCESS_ENV, "1") != "0" and process_worker_available()


class LiveBridge(QObject):
    """Owns one worker at a time (one session, a set of models); GUI-thread object, thread-safe emitters."""

    result = Signal(object)  # core LiveResult
    failed = Signal(object, str)  # model id (None: the worker as a whole), message

    def __init__(self) -> None:
        super().__init__()
        self.worker: Any = None

    def connect_result(self, slot: Any) -> None:
        """Queued explicitly: the signal is emitted on the worker thread."""
        self.result.connect(slot, Qt.ConnectionType.QueuedConnection)

    def connect_failed(self, slot: Any) -> None:
        self.failed.connect(slot, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, project: Any, session_id: int, model_ids: list[int]) -> None:
        """Start a worker on ``model_ids`` (stopping any earlier one); raises InferenceError from the core."""
        from dyadlab.core.inference.live import LiveInferenceWorker
        from dyadlab.core.inference.live_process import ProcessLiveWorker

        self.stop()
        options = {"on_result": self.result.emit, "on_error": self.failed.emit}
        if use_process():
            try:
                self.worker = ProcessLiveWorker(project, session_id, list(model_ids), **options).start()
                return
            except OSError:  # no process could be started here (limits, a sandbox): the thread then
                log.warning("live inference process could not start; running it on a thread", exc_info=True)
        self.worker = LiveInferenceWorker(project, session_id, list(model_ids), **options).start()

    def submit(self, t_us: int) -> None:
        if self.worker is not None:
            self.worker.submit(int(t_us))

    def stop(self) -> None:
        worker, self.worker = self.worker, None
        if worker is None:
            return
        try:
            worker.stop(timeout=STOP_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a worker failing to stop must not keep the window from closing
            log.exception("live worker did not stop cleanly")
