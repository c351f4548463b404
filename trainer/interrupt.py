"""Turns SIGTERM and Ctrl-C into a polite request: finish the step, save a checkpoint, exit.

Why: the GUI cancels a training process with SIGTERM, a user with Ctrl-C, a cluster scheduler with
SIGTERM before a kill; in every case the run should keep its progress and be resumable with
``--resume``. While ``GracefulStop`` is active the first signal only sets ``signum``; the training
loop polls ``requested`` after each step. A second Ctrl-C raises ``KeyboardInterrupt`` at once (for a
run stuck somewhere the loop does not poll). Handlers can only be installed in the main thread; from
another thread (a test, a notebook) this is a no-op and signals behave as usual.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class GracefulStop:
    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
