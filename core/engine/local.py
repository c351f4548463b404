"""The default engine: every item in the calling process, one after the other (nothing to install).

This is how DyadLab ran analysis before there were engines, and what ``dyadlab analyze`` does without
``--workers``/``--scheduler``/``--cluster``. Progress is reported straight from the item function, so a
``Cancelled`` raised by the caller's progress callback stops the item it is in (its partial output is
discarded by the item's own atomic writer).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dyadlab.core.engine.base import Engine, ItemFunction, OnDone, OnProgress, Outcome, WorkItem

IN_PROCESS = "in-process"


class InProcessEngine(Engine):
    description = "in-process"

    @property
    def in_process(self) -> bool:
        return True

    def run(self, fn: ItemFunction, items: Sequence[WorkItem], *, on_progress: OnProgress | None = None,
            on_done: OnDone | None = None) -> None:
        with one_opencv_thread():
            for item in items:
                def progress(done: float, total: float, message: str = "", item: WorkItem = item) -> None:
                    if on_progress is not None:
                        on_progress(item, done / total if total else 1.0)

                started = time.time()
                value = fn(item.payload, progress)
                if on_done is not None:
                    on_done(item, Outcome(value=value, worker=IN_PROCESS, started=started, ended=time.time()))


@contextmanager
def one_opencv_thread() -> Iterator[None]:
    """OpenCV on one thread while items run, as in every Dask worker (``dask_engine``): its multi-threaded
    ``warpAffine`` rounds a few pixels of a face crop differently (seen: 3 crops of 750 by up to 3 levels
    after JPEG), and the cache must not depend on the engine."""
    try:
        import cv2
    except ImportError:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
