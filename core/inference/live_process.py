"""Live inference in a child process: the worker's Python and its threads apart from the window's.

Why: with a face model, the worker thread (face finding, ONNX Runtime, its prefetch and input threads) shared the
window's process on 2 cores, and the views dropped or showed late 4-8 % of their frames (bench/live_window.py)
although the process used only ~130 % CPU: the GUI thread waited for the GIL and for cores behind the worker's
Python code. In a spawned child (never ``fork`` a Qt process) the worker has its own interpreter, so the
window's GIL is the window's, and the child runs at a lower priority (``nice``) so the scheduler gives the
GUI thread and the views' decoders a core first.

``ProcessLiveWorker`` has ``LiveInferenceWorker``'s interface (``start``, ``submit``, ``stop``, ``wait_idle``,
``stats``, ``runtimes``, ``disabled``, ``on_result``/``on_error`` called on a reader thread): the child runs a
plain ``LiveInferenceWorker`` with the same options, so skipping stale requests, lag, backfill after playback
stops and disabling a failing model behave as in-thread. Requests go down one pipe (``submit`` writes a few
bytes and returns); results, errors and the worker's state come up another, read by a thread of this process.

The child opens the project by its folder, as job processes do (team mode: the server that ``project.toml``
names, with this user's credentials from the environment), and commits its predictions through the prediction
cache at most once a second, as the in-thread worker does: predictions are derived data that the next play
recomputes, never an edit of the user. Starting takes seconds (a fresh interpreter imports numpy, ONNX Runtime,
mediapipe): ``runtimes`` stays empty and ``starting`` true until the child reports its models loaded.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dyadlab.core.inference.live import BACKFILL_IDLE_S, LiveResult, lower_thread_priority

log = logging.getLogger(__name__)

# The child's nice increment: the window's threads get the cores first. Quiet bench/live_window.py, two A/B pairs
# (2026-12-06 18:29-18:37): face CNN late frames 7.0/4.0 % at 10 vs 21.9/16.5 % at 5, FER2013 12.1/3.1 vs 20.8/16.4 %,
# predictions complete at both. On a machine busy with other work, 10 lets the overlay fall behind sooner (it says so
# and fills the skipped frames when playback stops); DYADLAB_LIVE_NICE=5 or 0 favours the overlay instead.
PROCESS_NICE = 10
NICE_ENV = "DYADLAB_LIVE_NICE"  # overrides PROCESS_NICE (an integer, 0 = the window's priority)
STOP_GRACE_S = 2.0  # the child finishes the step in progress; after this it is terminated


def _open_project(root: str) -> Any:
    """The project of folder ``root`` without ``open_project``'s one-off work (shipped models, notices):
    the window that started this process has done it."""
    from dyadlab.core.project import DB_NAME, Project
    from dyadlab.core.store import Store
    from dyadlab.core.store.server import read_database_url

    url = read_database_url(root)
    return Project(root=Path(root), store=Store(url) if url is not None else Store.for_sqlite(Path(root) / DB_NAME))


def _lower_process_priority(increment: int) -> None:
    """Lower this (new, still single-threaded) process's priority; threads started later inherit it."""
    if not lower_thread_priority(increment) and increment > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(increment)  # other POSIX systems: nice is per process


def run_child(requests: Any, results: Any, root: str, session_id: int, models: list[int],
              options: dict[str, Any], nice: int) -> None:
    """The child's main: a ``LiveInferenceWorker`` fed from ``requests``, reporting into ``results``."""
    from dyadlab.core.inference.live import LiveInferenceWorker

    _lower_process_priority(nice)
    lock = threading.Lock()
    worker: LiveInferenceWorker | None = None

    def state() -> dict[str, Any]:
        if worker is None:
            return {}
        return {"runtimes": dict(worker.runtimes), "stats": worker.stats, "disabled": dict(worker.disabled)}

    def send(*message: Any) -> None:
        with lock, contextlib.suppress(OSError, EOFError):  # the window went away: nobody to tell
            results.send(message)

    project = None
    try:
        project = _open_project(root)
        worker = LiveInferenceWorker(project, session_id, models,
                                     on_result=lambda r: send("result", r, state()),
                                     on_error=lambda m, s: send("error", m, s, state()), **options)
        worker.start()
        ready = worker.prepared

        def started() -> None:  # the models are loaded (or reported as failing): no longer "starting"
            ready.wait()
            send("started", state())

        threading.Thread(target=started, name="live-started", daemon=True).start()
        while True:
            message = requests.recv()
            if message[0] == "submit":
                worker.submit(message[1])
            elif message[0] == "idle":
                send("idle", worker.wait_idle(message[1]), state())
            else:  # "stop"
                break
    except (EOFError, OSError):
        pass  # the window closed its end (it stopped or died): stop too
    except Exception as exc:  # noqa: BLE001 - the window must hear why, not see a silent child
        log.exception("live inference process failed")
        send("error", None, f"live inference stopped: {type(exc).__name__}: {exc}", state())
    finally:
        if worker is not None:
            worker.stop(timeout=STOP_GRACE_S)
        send("stopped", state())
        if project is not None:
            project.close()


def default_nice() -> int:
    """The child's nice increment: ``DYADLAB_LIVE_NICE`` when set, else ``PROCESS_NICE``."""
    value = os.environ.get(NICE_ENV, "").strip()
    try:
        return int(value) if value else PROCESS_NICE
    except ValueError:
        log.warning("%s=%r is not an integer: live inference runs at nice %d", NICE_ENV, value, PROCESS_NICE)
        return PROCESS_NICE


def _child_main(*args: Any) -> None:
    """The spawned process's target: ``run_child``, then exit at once — everything is committed and closed by
    then, and an interpreter's teardown of mediapipe and ONNX Runtime takes seconds on a busy machine."""
    try:
        run_child(*args)
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


class ProcessLiveWorker:
    """``LiveInferenceWorker`` run in a spawned, lower-priority child process (registered model ids only).

    The keyword options are the in-thread worker's (``participants``, ``queue_size``, ``use_cache``,
    ``device``, ``runtime``, ``int8``, ``backfill_after_s``); ``nice`` is the child's priority increment.
    """

    def __init__(self, project: Any, session_id: int, models: Sequence[int], *,
                 on_result: Callable[[LiveResult], None],
                 on_error: Callable[[int | None, str], None] | None = None,
                 participants: Sequence[int] | None = None, queue_size: int = 1, use_cache: bool = True,
                 device: str | None = None, runtime: str = "onnx", int8: bool | None = None,
                 backfill_after_s: float | None = BACKFILL_IDLE_S, nice: int | None = None) -> None:
        if not all(isinstance(m, int) for m in models):
            raise TypeError("ProcessLiveWorker runs registered models (ids), not predictor objects")
        if not 1 <= queue_size <= 2:
            raise ValueError(f"queue_size must be 1 or 2, got {queue_size}")
        self.project, self.session_id, self.models = project, session_id, list(models)
        self.on_result, self.on_error = on_result, on_error
        self.nice = default_nice() if nice is None else int(nice)
        self.options: dict[str, Any] = {
            "participants": list(participants) if participants is not None else None, "queue_size": queue_size,
            "use_cache": use_cache, "device": device, "runtime": runtime, "int8": int8,
            "backfill_after_s": backfill_after_s, "nice": 0}  # the whole child is niced already
        self.runtimes: dict[int, str] = {}  # as the child's worker reports them (empty while starting)
        self.disabled: dict[int, str] = {}
        self._stats: dict[str, Any] = {"submitted": 0, "completed": 0, "skipped": 0, "backfilled": 0, "fps": 0.0,
                                       "requested_fps": 0.0, "disabled": {}}
        self.started_s: float | None = None  # when the child said it runs (monotonic), None before
        self._answers: list[Any] = []  # replies to ``wait_idle``
        self._early: int | None = None  # the newest time asked before the child had started
        self._cond = threading.Condition()
        self._process: Any = None
        self._requests: Any = None
        self._reader: threading.Thread | None = None
        self._stopping = False
        self._send_lock = threading.Lock()

    @property
    def starting(self) -> bool:
        """The child is still importing and loading its models (False once it said so, failed or stopped)."""
        return (self.started_s is None and not self._stopping and self._reader is not None
                and self._reader.is_alive())

    def start(self) -> ProcessLiveWorker:
        if self._process is not None:
            return self
        context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt
        child_requests, self._requests = context.Pipe(duplex=False)
        self._results, child_results = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child_main, name=f"live-inference:{self.session_id}", daemon=True,
            args=(child_requests, child_results, str(self.project.root), self.session_id, self.models,
                  self.options, self.nice))
        self._process.start()
        child_requests.close()  # the child's ends: the child holds them now
        child_results.close()
        self._reader = threading.Thread(target=self._read, name=f"live-results:{self.session_id}", daemon=True)
        self._reader.start()
        return self

    def submit(self, t_us: int) -> None:
        """Ask for a prediction at ``t_us``; returns at once (the child skips stale requests). Until the child
        has loaded its models only the newest time is kept (sent when it has): requests would pile up in the
        pipe meanwhile, and a full pipe would block the caller."""
        with self._cond:
            if self.started_s is None:
                self._early = int(t_us)
                return
        self._send(("submit", int(t_us)))

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the child: it finishes the step in progress and commits its predictions; this returns when it
        says so (or after ``timeout``), and the process is reaped in the background (terminated if it hangs
        on its way out). Idempotent."""
        if self._process is None or self._stopping:
            return
        self._stopping = True
        self._send(("stop",))
        if self._reader is not None and threading.current_thread() is not self._reader:
            self._reader.join(timeout)  # it ends at the child's "stopped" (or when the child is gone)
        with contextlib.suppress(OSError):
            self._requests.close()
        threading.Thread(target=self._reap, args=(self._process,), name="live-inference-reaper", daemon=True).start()

    @staticmethod
    def _reap(process: Any) -> None:
        process.join(STOP_GRACE_S)
        if process.is_alive():
            log.warning("live inference process did not end %s s after it stopped: terminated", STOP_GRACE_S)
            process.terminate()
            process.join(STOP_GRACE_S)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the child's worker has no request waiting or running (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.started_s is None and self._reader is not None and self._reader.is_alive():
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    return False
            asked = len(self._answers)
        self._send(("idle", max(0.0, deadline - time.monotonic())))
        with self._cond:
            while len(self._answers) == asked and self._reader is not None and self._reader.is_alive():
                if not self._cond.wait(max(0.0, deadline - time.monotonic()) + 1.0):
                    return False
            return len(self._answers) > asked and bool(self._answers[-1])

    @property
    def stats(self) -> dict[str, Any]:
        with self._cond:
            return dict(self._stats)

    @property
    def pid(self) -> int | None:
        """The child's process id (None before ``start``)."""
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def __enter__(self) -> ProcessLiveWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- this process's side -----------------------------------------------------------------------------
    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock, contextlib.suppress(OSError, ValueError):  # closed: the child is gone
            self._requests.send(message)

    def _read(self) -> None:
        """Results, errors and state from the child, until it ends (on this thread, as in-thread callbacks)."""
        try:
            while True:
                try:
                    message = self._results.recv()
                except (EOFError, OSError):
                    break
                kind, *rest = message
                self._take_state(rest[-1])
                if kind == "started":
                    with self._cond:  # the early request goes before any ``wait_idle`` woken here asks
                        self.started_s = time.monotonic()
                        if self._early is not None:
                            self._send(("submit", self._early))
                            self._early = None
                        self._cond.notify_all()
                elif kind == "result" and not self._stopping:
                    self._call(self.on_result, rest[0])
                elif kind == "error" and self.on_error is not None:
                    self._call(self.on_error, rest[0], rest[1])
                elif kind == "idle":
                    with self._cond:
                        self._answers.append(rest[0])
                        self._cond.notify_all()
                elif kind == "stopped":
                    break
        finally:
            with contextlib.suppress(OSError):
                self._results.close()
            if not self._stopping and self.on_error is not None and self._process is not None:
                self._process.join(STOP_GRACE_S)  # it ended on its own: say how
                code = self._process.exitcode
                if code not in (None, 0):
                    self._call(self.on_error, None, f"live inference process ended (exit code {code})")
            with self._cond:
                self._cond.notify_all()

    def _take_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        with self._cond:
            self.runtimes = state["runtimes"]
            self.disabled = state["disabled"]
            self._stats = state["stats"]

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a broken overlay must not stop the reader
            log.exception("live inference callback failed")


def process_worker_available() -> bool:
    """Whether a child process can be spawned here (a frozen app needs ``multiprocessing.freeze_support``,
    which the bundle's entry point calls; an interpreter without ``sys.executable`` cannot spawn)."""
    return bool(sys.executable)
