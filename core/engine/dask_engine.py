"""The Dask engine: items as ``dask.distributed`` futures on a LocalCluster, a running scheduler or a job queue.

Why Dask: it already does what a corpus needs — a scheduler that hands items to whichever worker is free,
reruns an item elsewhere when its worker dies (up to ``distributed.scheduler.allowed-failures`` times),
worker processes that stay up between items (so models load once per worker, not per item), and
dask-jobqueue to put those workers on Slurm/PBS/SGE nodes. ``dask`` is imported only here and only when
a Dask engine is asked for: the in-process default, the window and ``dyadlab --help`` never import it.

Order: items go to the scheduler only as workers free up (at most one per worker thread in flight), in the
order given. Left to itself the scheduler hands each single-thread worker two items at once (its
``worker-saturation`` queuing, or eager assignment when there are few items), so a worker that finished its
short items sat idle while a long one's successor waited in the other worker's queue: on the 60 s demo session
one worker got both faces chunks (20 s of CPU) and the other both audio items (14 s) — the run took the longer.

Progress: the item function runs inside ``_run_on_worker``, which sends ``{"key", "fraction"}`` a few times a
second as a worker event on ``PROGRESS_TOPIC``; the client subscribes to the topic and hands the events to
the caller's ``on_progress`` in the caller's thread (see ``core.engine.base``). Cancel cancels the futures.
A lost scheduler cancels every future with ``scheduler-connection-lost``: ``run`` turns that into
``EngineLost`` with how many items finished (they are in the cache) and that a rerun resumes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from dyadlab.core.engine.base import (
    Engine,
    EngineLost,
    ItemFunction,
    OnDone,
    OnProgress,
    Outcome,
    ThrottledProgress,
    WorkItem,
)
from dyadlab.core.errors import DyadLabError

PROGRESS_TOPIC = "dyadlab-progress"
KEY_PREFIX = "dyadlab-"
POLL_S = 0.25
CONNECT_TIMEOUT_S = 10.0
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # a process per core
# A worker's own housekeeping, sampled less often: its statistical profiler (every 10 ms) and event-loop and
# system monitors took ~10 % of a core beside a busy item on this machine (bench/engines.py).
WORKER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
                 "distributed.admin.system-monitor.interval": "5s"}


_MMAP_THRESHOLD, _TRIM_THRESHOLD = -3, -1  # glibc's mallopt parameters (malloc.h)
_heap_tuned = False


def _tune_heap() -> None:
    """Undo what Dask's nanny does to every worker's heap, once per worker process.

    The nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand memory back eagerly). Setting it
    also freezes glibc's mmap threshold at 128 KiB, so every decoded frame (2.7 MB at 720p) and every large
    numpy temporary becomes a fresh mmap with its page faults: the same numpy-heavy item took 1.5× the CPU
    of an in-process run here. A worker restores large thresholds at run time (``mallopt``).
    """
    global _heap_tuned
    if _heap_tuned:
        return
    _heap_tuned = True
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to undo
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_MMAP_THRESHOLD, 32 * 1024 * 1024)
        libc.mallopt(_TRIM_THRESHOLD, 128 * 1024 * 1024)


def _run_on_worker(fn: ItemFunction, key: str, payload: Any) -> tuple[Any, str, float, float]:
    """Inside a worker: run one item, streaming its progress to the client; returns (value, worker, wall clock
    at its start and end)."""
    started = time.time()
    for name, value in WORKER_ENV.items():  # an external worker was not started with them
        os.environ.setdefault(name, value)  # read by torch when an item first imports it
    _tune_heap()
    from distributed import get_worker

    worker = get_worker()
    with contextlib.suppress(ImportError):
        import cv2

        cv2.setNumThreads(1)
    progress = ThrottledProgress(lambda f: worker.log_event(PROGRESS_TOPIC, {"key": key, "fraction": f}))
    value = fn(payload, progress)
    return value, str(worker.address), started, time.time()


class DaskEngine(Engine):
    """Items as futures of a ``distributed.Client``; closes the cluster it started (see the module).

    ``start`` (instead of ``client``) defers starting a cluster until there is work: a rerun that finds
    everything cached starts no worker and submits no job. It returns ``(client, cluster)``.
    """

    def __init__(self, client: Any = None, *, cluster: Any = None, description: str = "dask",
                 start: Callable[[], tuple[Any, Any]] | None = None, stop_workers_at_once: bool = False) -> None:
        self._client, self.cluster = client, cluster  # cluster: owned, closed with the engine
        self._start = start
        self.stop_workers_at_once = stop_workers_at_once  # see close()
        self._starting: threading.Thread | None = None
        self._started: tuple[Any, Any] | BaseException | None = None
        self.description = description
        self.timings: dict[str, float] = {}  # wall clock of "start" and "up" (cluster started here), "closed"

    def prepare(self) -> None:
        """Start the cluster in a thread (worker processes spawning, importing) while the caller plans."""
        if self._client is not None or self._start is None or self._starting is not None:
            return
        self._starting = threading.Thread(target=self._start_cluster, name="dyadlab-dask-start", daemon=True)
        self._starting.start()

    def _start_cluster(self) -> None:
        assert self._start is not None
        self.timings["start"] = time.time()
        try:
            self._started = self._start()
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that asks for the client
            self._started = exc
        self.timings["up"] = time.time()

    @property
    def client(self) -> Any:
        if self._client is None:
            if self._starting is None:
                self._start_cluster()
            else:
                self._starting.join()
            started, self._started = self._started, None
            if isinstance(started, BaseException):
                self._starting = None  # a later call tries again
                raise started
            assert started is not None
            self._client, self.cluster = started
        return self._client

    @property
    def in_process(self) -> bool:
        return False

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def worker_addresses(self) -> list[str]:
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    def run(self, fn: ItemFunction, items: Sequence[WorkItem], *, on_progress: OnProgress | None = None,
            on_done: OnDone | None = None) -> None:
        if not items:
            return
        from distributed import wait
        from distributed.client import FuturesCancelledError

        by_key = {item.key: item for item in items}
        events: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        client = self.client
        client.subscribe_topic(PROGRESS_TOPIC, lambda event: events.put(event[1]))
        waiting = list(reversed(items))  # .pop() gives the next item in the caller's order
        futures: dict[Any, WorkItem] = {}
        pending: set[Any] = set()
        finished = 0
        try:
            while waiting or pending:
                try:
                    free = self._threads() - len(pending) if waiting else 0
                    for _ in range(max(free, 0 if pending else 1)):  # nothing in flight: one item, even with
                        item = waiting.pop()                           # no worker yet (a job queue's are coming)
                        future = client.submit(_run_on_worker, fn, item.key, item.payload,
                                               key=KEY_PREFIX + item.key, pure=False)
                        futures[future] = item
                        pending.add(future)
                        if not waiting:
                            break
                    done, not_done = wait(list(pending), timeout=POLL_S, return_when="FIRST_COMPLETED")
                    pending = set(not_done)
                except TimeoutError:
                    done = set()
                except FuturesCancelledError as exc:
                    raise self._lost(exc, finished, len(items)) from None
                except Exception as exc:
                    # the scheduler went away between two waits; right after it goes, the client may still say
                    # "running" while an RPC (scheduler_info, submit) already fails with a closed comm (an OSError)
                    if client.status != "running" or isinstance(exc, OSError):
                        raise self._lost(None, finished, len(items)) from None
                    raise
                while True:
                    try:
                        event = events.get_nowait()
                    except queue.Empty:
                        break
                    item = by_key.get(event.get("key", ""))
                    if item is not None and on_progress is not None:
                        on_progress(item, float(event["fraction"]))
                for future in done:
                    outcome = self._outcome(future, finished, len(items))
                    finished += 1
                    if on_done is not None:
                        on_done(futures[future], outcome)
        except BaseException:
            if pending and client.status == "running":
                client.cancel(list(pending), force=True)
            raise
        finally:
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(PROGRESS_TOPIC)

    def _threads(self) -> int:
        """Worker threads the scheduler has now (workers of a job queue come and go)."""
        return int(self.client.scheduler_info(n_workers=0).get("total_threads", 0))

    def _outcome(self, future: Any, finished: int, total: int) -> Outcome:
        if future.status == "finished":
            value, worker, started, ended = future.result()
            return Outcome(value=value, worker=worker, started=started, ended=ended)
        if future.status == "cancelled":
            raise self._lost(None, finished, total)
        exc = future.exception()
        from distributed import KilledWorker

        if isinstance(exc, KilledWorker):
            return Outcome(error="the workers running it died every time it was tried (out of memory? a crash in "
                                 "native code?); the other items went on")
        return Outcome(error=f"{type(exc).__name__}: {exc}")

    def _lost(self, exc: BaseException | None, finished: int, total: int) -> EngineLost:
        # a scheduler killed mid-run often reaches the client first as its futures cancelled with no reason given
        # ("1 Future cancelled:"), before the client's status changes: then both causes are named
        why = "the connection to the scheduler was lost" if exc is None or "connection-lost" in str(exc) \
            else ("the connection to the scheduler was lost or the work was cancelled on it "
                  f"({str(exc).splitlines()[0]})")
        logging.getLogger("distributed.client").setLevel(logging.CRITICAL)  # its reconnect tracebacks: noise
        return EngineLost(f"Dask scheduler {self.address}: {why} after {finished} of {total} items finished",
                          hint="finished items are in the cache: run the same command again (with a working "
                               "scheduler) and it resumes where this run stopped")

    def close(self) -> None:
        if self._starting is not None and self._client is None:  # prepared, never used: wait, then close it
            with contextlib.suppress(Exception):
                self.client  # noqa: B018
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close(timeout=CONNECT_TIMEOUT_S)
        if self.cluster is not None and self.stop_workers_at_once:
            _kill_worker_processes(self.cluster)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=CONNECT_TIMEOUT_S)
        self.timings["closed"] = time.time()


def _kill_worker_processes(cluster: Any) -> None:
    """End a LocalCluster's worker processes at once. Once the client is gone they hold nothing: every item
    published its chunk or left only a temp file that is never read (as when a worker dies). A graceful stop
    made each worker close its services and tear down an interpreter holding MediaPipe and openSMILE: the
    engine's close took 0.5–2 s after the last item (bench/analyze.py), against 0.1 s this way."""
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def local_cluster(workers: int) -> DaskEngine:
    """A LocalCluster of ``workers`` single-threaded worker processes on this machine.

    ``distributed`` is imported by ``start``, in the thread ``prepare`` starts, not here: the import is
    0.65 s of CPU that held up the cluster's start, and now overlaps with the client planning the work.
    """
    if workers < 1:
        raise DyadLabError(f"--workers must be at least 1, got {workers}")

    def start() -> tuple[Any, Any]:
        import dask
        from distributed import Client, LocalCluster

        with dask.config.set(WORKER_CONFIG):  # the nannies hand their config to the workers they start
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   memory_limit=0, env=dict(WORKER_ENV), silence_logs=logging.ERROR)
        return Client(cluster), cluster

    return DaskEngine(start=start, description=f"Dask LocalCluster, {workers} worker processes",
                      stop_workers_at_once=True)


def connect(address: str, *, wait_for_workers_s: float = 60.0) -> DaskEngine:
    """A running scheduler (``tcp://host:8786``); fails clearly when it cannot be reached or has no workers."""
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise DyadLabError(f"cannot reach the Dask scheduler at {address}: {exc}",
                           hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`, "
                                "or drop --scheduler to run here") from exc
    try:
        client.wait_for_workers(1, timeout=wait_for_workers_s)
    except TimeoutError as exc:
        client.close()
        raise DyadLabError(f"the Dask scheduler at {address} has no workers (waited {wait_for_workers_s:.0f} s)",
                           hint="start workers with `dask worker ADDRESS` on machines that see the project "
                                "folder") from exc
    return DaskEngine(client, description=f"Dask scheduler {address}")
