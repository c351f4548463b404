"""What every engine promises: run a picklable function over work items, report progress and each outcome.

Why an abstraction: analysis and batch inference are the same shape — many independent items (a session ×
participant × time-chunk), each a pure function from a plain description to files in a content-hash cache
plus a small result the client keeps. The in-process engine (``local.InProcessEngine``) runs them one after
the other, as DyadLab always has; the Dask engine (``dask_engine.DaskEngine``) spreads them over a
LocalCluster, an existing scheduler or a Slurm/PBS/SGE job queue. Callers (``core.features.pipeline``,
``core.inference.batch``) never know which one they hold.

Contract of ``Engine.run(fn, items, on_progress, on_done)``:

* ``fn(payload, progress)`` runs once per item, possibly in another process or on another machine, so ``fn``
  is a module-level function and ``payload`` picklable; ``progress(done, total, message)`` is how it reports.
* Items start in the order given (callers put the longest first, so the last to finish is a short one), and
  an item waits for a free worker rather than in a busy worker's queue: an idle worker never watches the
  rest of the run queued behind a long item.
* ``on_progress(item, fraction)`` and ``on_done(item, outcome)`` are always called in the caller's thread,
  so they may write the database (only the client writes it). Raising ``Cancelled`` (or a
  ``KeyboardInterrupt``) from ``on_progress``/``on_done`` stops the run: queued items are dropped, running
  ones are cancelled where the engine can (their half-written chunks never become visible: each item
  publishes atomically), and the exception propagates.
* ``outcome.error`` is set only when the engine could not get a value at all (a worker died on the item
  too many times, the item raised on a worker; in-process the exception simply propagates); ordinary bad
  input is the function's own business (its value says so).
* ``EngineLost`` is raised when the engine itself goes away (a scheduler that stops answering); whatever
  finished is in the cache, so running the same command again resumes.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dyadlab.core.errors import DyadLabError
from dyadlab.core.progress import ProgressCallback

ItemFunction = Callable[[Any, ProgressCallback], Any]
PROGRESS_EVERY_S = 0.25  # a running item reports its progress at most this often (plus its end)


@dataclass(frozen=True)
class WorkItem:
    """One unit of work: ``key`` is unique within a run and stable across runs (the Dask task key)."""

    key: str
    label: str  # what a person reads in a progress bar or an error ("demo01/A faces 0:00-1:00")
    payload: Any  # picklable argument of the item function


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: str | None = None  # set when no value could be had (see the module docstring)
    worker: str | None = None  # where it ran ("in-process", a worker address), for the benchmark's spread
    started: float | None = None  # wall clock (time.time()) where it ran, when the item began and ended:
    ended: float | None = None  # the benchmark's timeline of a run (None when no value came back)


OnProgress = Callable[[WorkItem, float], None]
OnDone = Callable[[WorkItem, Outcome], None]


class EngineLost(DyadLabError):
    """The engine (its scheduler) went away mid-run; finished items are cached and a rerun resumes."""


class Engine(ABC):
    """See the module docstring. Use as a context manager: ``close`` releases what the engine started."""

    description: str = "engine"

    @property
    @abstractmethod
    def in_process(self) -> bool:
        """True when items run in the caller's process (no pickling, shared memory and caches)."""

    @abstractmethod
    def run(self, fn: ItemFunction, items: Sequence[WorkItem], *, on_progress: OnProgress | None = None,
            on_done: OnDone | None = None) -> None:
        """Run ``fn`` over ``items``; returns when every item is done (see the module docstring)."""

    def prepare(self) -> None:  # noqa: B027 - optional: the in-process engine has nothing to start
        """Start whatever ``run`` will need (worker processes, a connection) without waiting for it, so that
        it comes up while the caller still plans the work; ``run`` waits for it."""

    def close(self) -> None:  # noqa: B027 - optional: the in-process engine holds nothing
        """Release workers and connections this engine started (nothing for the in-process engine)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ThrottledProgress:
    """A ``ProgressCallback`` turning ``(done, total)`` into a fraction sent at most every ``every_s``
    seconds (and always at the end), so a fast inner loop does not flood a scheduler or a pipe."""

    def __init__(self, send: Callable[[float], None], every_s: float = PROGRESS_EVERY_S) -> None:
        self.send, self.every_s = send, every_s
        self._last = 0.0

    def __call__(self, done: float, total: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last >= self.every_s or done >= total:
            self._last = now
            self.send(done / total if total else 1.0)
