"""Live inference during playback: a worker thread that predicts the frame on screen, newest first.

Why a thread with a bounded queue: the playback thread must never wait for a model. ``submit(t_us)`` only
appends to a queue of one or two requests (dropping the oldest when full) and returns; the worker takes
the *newest* request, skips the stale ones — a model slower than the frame rate falls behind gracefully
instead of drifting ever further into the past — and reports how far it lags (results per second against
requests per second, and how many requests it skipped) so the GUI can say so.

Per request it predicts every participant's frame at that time with every enabled model — one call per
model for all participants (``predict_many``: both frames in one forward pass, their inputs prepared side by
side; the models share one ``InputProvider``, so a frame is decoded and its face found once for all of
them) — (through the prediction cache by default, so a span played twice is computed once; new predictions are committed at most
once a second — a commit per frame would cost more than the model), and calls ``on_result`` with a
``LiveResult``. A model whose forward pass raises or returns NaN is disabled on its own and reported once
through ``on_error(model_id, message)``; the other models keep running. Input problems of a frame (no face,
a frame that does not decode) make that participant's entry invalid with a reason, not the model disabled.

Requests it skipped are remembered: once no request has come for ``backfill_after_s`` (playback stopped), the
worker computes them one by one through the prediction cache (with ``use_cache``), so the curves have no
holes; a new request always goes first.

On the CPU the models it loads run through ONNX Runtime (``onnx_runtime.use_onnx_runtime``; ``runtime="torch"``
keeps torch): the same graph, a fraction of torch's time per call; ``int8`` runs their int8 dynamic
quantisation (default: per model kind, ``onnx_runtime.INT8_DEFAULT``). Without torch (the desktop bundle) the
models are loaded as ONNX from the start (``loader.load_model``). Faces are tracked between detections
(``InputProvider``), so a frame that follows the previous one costs the face mesh, not detector + mesh.

Callbacks run on the worker thread: the GUI hops to its own thread with a queued signal. The worker is
plain Python (no Qt); ``clock`` is injectable so tests can drive it with a fake clock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.inference.errors import InferenceError, ModelOutputError
from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.runner import NO_INPUT, FramePrediction, FramePredictor

log = logging.getLogger(__name__)

LAG_RATIO = 0.9  # achieved below this share of the requested rate counts as lagging
RATE_WINDOW_S = 2.0  # requests and results of this many recent seconds measure the rates
FLUSH_INTERVAL_S = 1.0  # computed predictions are committed to the store at most this often
BACKFILL_IDLE_S = 0.5  # no request for this long: playback has stopped, so skipped frames are filled in
PREFETCH_MAX_STEP = 4  # the next request is guessed this many frames ahead at most (else the next frame)
BACKFILL_LIMIT = 100_000  # skipped request times remembered for filling in (about an hour at 25 fps)
WORKER_NICE = 0  # the worker thread's nice increment (Linux; threads it starts inherit it); 0: as the GUI


@dataclass(frozen=True)
class ParticipantPrediction:
    """One model's prediction for one participant at the requested time."""

    model_id: int
    participant_id: int
    code: str
    frame: int | None  # the participant's view frame on screen (None: outside the view)
    probs: np.ndarray | None  # float32 [C] (None when there is no prediction)
    label: str | None  # the most probable class
    confidence: float | None  # its probability
    face_box: tuple[float, float, float, float] | None  # x, y, w, h in view pixels, when known
    reason: str | None = None  # why there is no prediction (no face, outside the view, model disabled ...)

    @property
    def valid(self) -> bool:
        return self.probs is not None


@dataclass(frozen=True)
class LiveResult:
    """What the overlay shows for one request (delivered through ``on_result``)."""

    t_us: int
    predictions: tuple[ParticipantPrediction, ...]
    latency_ms: float  # from submit to delivery (worker clock)
    skipped_count: int  # stale requests this one superseded (dropped unanswered)
    skipped_total: int
    fps: float  # results delivered per second, recently
    requested_fps: float  # requests submitted per second, recently
    lagging: bool  # the worker cannot keep up: it skipped requests or delivers below the requested rate
    behind_frames: float = 0.0  # how far the overlay is behind the playhead: the latency in frames of the video

    def prediction(self, participant_id: int, model_id: int | None = None) -> ParticipantPrediction | None:
        for p in self.predictions:
            if p.participant_id == participant_id and (model_id is None or p.model_id == model_id):
                return p
        return None


def _rate(stamps: deque[float]) -> float:
    """Events per second over the stamps kept (0 with fewer than two)."""
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return 0.0
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


@dataclass
class _Request:
    t_us: int
    submitted: float
    superseded: int = 0  # older requests dropped in favour of this one


@dataclass
class _Counters:
    submitted: int = 0
    completed: int = 0
    skipped_total: int = 0
    backfilled: int = 0  # skipped requests computed after playback stopped
    submits: deque[float] = field(default_factory=deque)
    results: deque[float] = field(default_factory=deque)


class LiveInferenceWorker:
    """Predicts the frame at the playhead on a worker thread; ``submit`` never blocks.

    ``models``: registered model ids (loaded on the worker thread when it starts) and/or ready
    ``FramePredictor`` objects (``PredictionCache``, ``ModelRunner``, or a test double). ``participants``
    defaults to every participant of the session. With ``use_cache`` (default) predictions go through the
    store's prediction cache; without it they are computed every time and not stored.
    """

    def __init__(self, project: Any, session_id: int, models: Sequence[int | FramePredictor], *,
                 on_result: Callable[[LiveResult], None],
                 on_error: Callable[[int | None, str], None] | None = None,
                 participants: Sequence[int] | None = None, queue_size: int = 1, use_cache: bool = True,
                 device: str | None = None, clock: Callable[[], float] = time.monotonic,
                 provider: InputProvider | None = None, runtime: str = "onnx", int8: bool | None = None,
                 backfill_after_s: float | None = BACKFILL_IDLE_S, nice: int | None = None) -> None:
        if not 1 <= queue_size <= 2:
            raise ValueError(f"queue_size must be 1 or 2, got {queue_size}")
        if runtime not in ("onnx", "torch"):
            raise ValueError(f"runtime must be 'onnx' or 'torch', got {runtime!r}")
        self.runtime = runtime
        self.int8 = int8  # int8-quantised ONNX models: None = per model kind (onnx_runtime.INT8_DEFAULT)
        self.backfill_after_s = backfill_after_s  # None: skipped frames are not filled in
        self.nice = WORKER_NICE if nice is None else int(nice)
        self.runtimes: dict[int, str] = {}  # model id -> "onnxruntime" | "torch (why)", once loaded
        self._exports: dict[int, tuple[Any, Any]] = {}  # model id -> (LoadedModel, OnnxExport) still running
        self._prefetcher: Any = None  # one thread finding the next step's faces while the models run
        self._prefetching: Any = None  # its Future
        self._last_frames: dict[int, int] = {}  # participant -> frame of the last step
        self.project, self.session_id = project, session_id
        self._wanted = list(models)
        self.on_result, self.on_error = on_result, on_error
        self._participant_ids = list(participants) if participants is not None else None
        self.queue_size, self.use_cache, self.device, self.clock = queue_size, use_cache, device, clock
        self._provider = provider
        self._own_provider = provider is None
        self.predictors: list[FramePredictor] = []
        self._owned: list[Any] = []  # predictors this worker made (and closes)
        self.disabled: dict[int, str] = {}  # model id -> why it was disabled
        self._participants: list[tuple[int, str]] = []
        self._frame_rate = 25.0  # of the participants' video, once prepared
        self._reported: set[tuple[int | None, str]] = set()
        self._queue: deque[_Request] = deque()
        self._missed: deque[int] = deque(maxlen=BACKFILL_LIMIT)  # times of skipped requests, to fill in later
        self._cond = threading.Condition()
        self._busy = False
        self._stopping = False
        self._counters = _Counters()
        self._thread = threading.Thread(target=self._run, name=f"live-inference:{session_id}", daemon=True)
        self._started = False
        self.prepared = threading.Event()  # set once the models are loaded (or failed to) and inputs are open

    # -- playback side (any thread, never blocks) ---------------------------------------------------------
    def start(self) -> LiveInferenceWorker:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def submit(self, t_us: int) -> None:
        """Ask for a prediction at session time ``t_us``; returns at once (an older waiting request is dropped)."""
        now = self.clock()
        with self._cond:
            c = self._counters
            request = _Request(int(t_us), now)
            if len(self._queue) >= self.queue_size:
                dropped = self._queue.popleft()
                request.superseded = dropped.superseded + 1
                self._missed.append(dropped.t_us)
                c.skipped_total += 1
            self._queue.append(request)
            c.submitted += 1
            _keep_recent(c.submits, now)
            self._cond.notify()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Finish the request in progress, drop the rest, release models and media. Idempotent."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()
        if self._started and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no request is waiting or running (tests, benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._queue or self._busy) and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @property
    def stats(self) -> dict[str, Any]:
        with self._cond:
            c = self._counters
            return {"submitted": c.submitted, "completed": c.completed, "skipped": c.skipped_total,
                    "backfilled": c.backfilled,
                    "fps": _rate(c.results), "requested_fps": _rate(c.submits), "disabled": dict(self.disabled)}

    def __enter__(self) -> LiveInferenceWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- worker thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            lower_thread_priority(self.nice)  # before _prepare: the threads it starts inherit the priority
            try:
                self._prepare()
            finally:
                self.prepared.set()
            while True:
                backfill: int | None = None
                with self._cond:
                    while not self._queue and not self._stopping:
                        if not (self._missed and self.use_cache and self.backfill_after_s is not None):
                            self._cond.wait()
                        elif not self._cond.wait(self.backfill_after_s) and not self._queue and not self._stopping:
                            backfill = self._missed.popleft()  # idle: playback stopped, fill a skipped frame
                            break
                    if self._stopping:
                        return
                    if backfill is None:
                        request = self._queue.pop()  # the newest; anything older is stale
                        request.superseded += sum(r.superseded + 1 for r in self._queue)
                        self._counters.skipped_total += len(self._queue)
                        self._missed.extend(r.t_us for r in self._queue)
                        self._queue.clear()
                    self._busy = True
                try:
                    if self._exports:
                        self._swap_ready()
                    if backfill is not None:
                        self._compute(_Request(backfill, self.clock()), prefetch=False)  # cached, not shown
                        with self._cond:
                            self._counters.backfilled += 1
                    else:
                        predictions = self._compute(request)
                        self._deliver(predictions, request)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        except Exception as exc:  # noqa: BLE001 - the worker must report, never die silently
            log.exception("live inference stopped")
            self._report(None, f"live inference stopped: {exc}")
        finally:
            self._close()

    def _prepare(self) -> None:
        """Load the models and open the session's inputs (on this thread: it may take seconds)."""
        from dyadlab.core.inference.predictions import PredictionCache

        if self._provider is None:
            self._provider = InputProvider(self.project)
        with self.project.store.transaction() as tx:
            participants = tx.participants.list(self.session_id)
        wanted = self._participant_ids
        self._participants = [(p.id, p.code) for p in participants if wanted is None or p.id in wanted]
        self._frame_rate = self._video_rate()
        for item in self._wanted:
            if not isinstance(item, int):
                self.predictors.append(item)  # the caller's: the caller closes it
                continue
            try:
                if self.use_cache:
                    cache = PredictionCache(self.project, item, provider=self._provider, device=self.device,
                                            flush_interval_s=FLUSH_INTERVAL_S)
                    self._accelerate(item, cache.runner.loaded)  # loads now: a bad model is reported early
                    self.predictors.append(cache)
                    self._owned.append(cache)
                else:
                    from dyadlab.core.inference.loader import load_model
                    from dyadlab.core.inference.runner import ModelRunner

                    runner = ModelRunner(load_model(self.project, item, device=self.device), self._provider)
                    self._accelerate(item, runner.loaded)
                    self.predictors.append(runner)
                    self._owned.append(runner)
            except InferenceError as exc:
                self._disable(item, str(exc))
                self._report(item, str(exc))

    def _video_rate(self) -> float:
        """Frames per second of the first participant's video (what ``behind_frames`` counts in; 25 if unknown)."""
        for pid, _ in self._participants:
            try:
                rate = self._provider.timeline(self.session_id, pid).frame_rate_hz
            except InferenceError:
                continue
            if rate > 0:
                return rate
        return 25.0

    def _accelerate(self, model_id: int, loaded: Any) -> None:
        """Run ``loaded`` through ONNX Runtime when asked and possible: its export starts now (a child process)
        and the model runs on torch until ``_swap_ready`` finds it done (the reason is kept when it fails)."""
        from dyadlab.core.inference.onnx_runtime import OnnxExport, OnnxModule, use_onnx_runtime

        if isinstance(loaded.module, OnnxModule):  # loaded so already (no torch here: the desktop bundle)
            int8 = self._int8_for(loaded)
            why = use_onnx_runtime(loaded, int8=int8) if int8 else None
            self.runtimes[model_id] = _runtime_name(loaded) + ("" if why is None else f" (no int8: {why})")
            return
        if self.runtime != "onnx" or loaded.device != "cpu":
            self.runtimes[model_id] = "torch" if self.runtime != "onnx" else f"torch (it runs on {loaded.device})"
            return

        try:
            self._exports[model_id] = (loaded, OnnxExport(Path(loaded.path)))
            self.runtimes[model_id] = "torch (exporting to ONNX)"
        except OSError as exc:
            self.runtimes[model_id] = f"torch (cannot export: {exc})"
        self._swap_ready()

    def _swap_ready(self) -> None:
        """Switch the models whose ONNX export has finished to ONNX Runtime (on this thread, between steps)."""
        from dyadlab.core.inference.onnx_runtime import use_onnx_runtime

        for model_id, (loaded, export) in list(self._exports.items()):
            if export.done:
                del self._exports[model_id]
                int8 = self._int8_for(loaded)
                why = use_onnx_runtime(loaded, export, int8=int8)
                if why is not None and int8:  # the int8 version could not be made: the float export then
                    why = use_onnx_runtime(loaded, export)
                self.runtimes[model_id] = _runtime_name(loaded) if why is None else f"torch ({why})"

    def _int8_for(self, loaded: Any) -> bool:
        """Run this model int8-quantised? As asked, else as ``INT8_DEFAULT`` says for its kind."""
        from dyadlab.core.inference.onnx_runtime import INT8_DEFAULT, model_kind

        return self.int8 if self.int8 is not None else INT8_DEFAULT.get(model_kind(loaded.metadata), False)

    def _compute(self, request: _Request, *, prefetch: bool = True) -> list[ParticipantPrediction]:
        """Every participant × model at the request's time: per model one call for all participants.

        With ``prefetch``, the faces of this step are made ready first, then those of the frames the next
        request will probably ask for are found in the background while the models run (the faces are the
        costly part of a step, the forward pass the other; on two cores they overlap)."""
        frames = {pid: self._frame_of(pid, request.t_us) for pid, _ in self._participants}
        wanted = {pid: np.array([frame]) for pid, (frame, _) in frames.items() if frame is not None}
        self._await_prefetch()
        if prefetch and wanted:
            self._prefetch_faces(wanted)
        by_model: dict[int, dict[int, ParticipantPrediction]] = {}
        for predictor in self.predictors:
            if predictor.model_id not in self.disabled and wanted:
                by_model[predictor.model_id] = self._predict(predictor, wanted)
        out: list[ParticipantPrediction] = []
        for pid, code in self._participants:
            frame, reason = frames[pid]
            for predictor in self.predictors:
                mid = predictor.model_id
                if mid in self.disabled:
                    out.append(ParticipantPrediction(mid, pid, code, frame, None, None, None, None, "model disabled"))
                elif frame is None:
                    out.append(ParticipantPrediction(mid, pid, code, None, None, None, None, None, reason))
                else:
                    out.append(by_model[mid][pid])
        return out

    def _frame_of(self, pid: int, t_us: int) -> tuple[int | None, str | None]:
        """The participant's frame on screen at ``t_us``, or None and why."""
        try:
            timeline = self._provider.timeline(self.session_id, pid)
        except InferenceError as exc:
            self._report(None, str(exc))
            return None, str(exc)
        frame = timeline.frame_at(t_us)
        return frame, None if frame is not None else "outside the participant's view"

    def _predict(self, predictor: FramePredictor, wanted: dict[int, np.ndarray]) -> dict[int, ParticipantPrediction]:
        """One model on one frame of each participant in ``wanted`` (one batched call when it can)."""
        mid = predictor.model_id
        codes = dict(self._participants)
        many = getattr(predictor, "predict_many", None)
        try:
            try:
                got = many(self.session_id, wanted) if many is not None else None
            except InferenceError as exc:
                if isinstance(exc, ModelOutputError):
                    raise
                got = None  # one participant's inputs failed: ask each alone below, to keep the others
            if got is None:
                got = {}
                for pid, frames in wanted.items():
                    try:
                        got[pid] = predictor.predict(self.session_id, pid, frames)
                    except ModelOutputError:
                        raise
                    except InferenceError as exc:  # this frame's inputs: the model stays enabled
                        self._report(mid, str(exc))
                        got[pid] = exc
            for pid, prediction in got.items():
                if not isinstance(prediction, Exception) and prediction.valid[0] and \
                        not np.all(np.isfinite(prediction.probs[0])):
                    raise ModelOutputError(f"{predictor.label} returned non-finite probabilities at frame "
                                           f"{int(wanted[pid][0])}")
        except ModelOutputError as exc:
            self._disable(mid, str(exc))
            self._report(mid, f"{predictor.label} disabled: {exc}")
            return {pid: self._none(mid, pid, codes[pid], int(f[0]), "model disabled") for pid, f in wanted.items()}
        except Exception as exc:  # noqa: BLE001 - an unexpected failure of one model must not stop the others
            log.exception("%s failed", predictor.label)
            self._disable(mid, f"{type(exc).__name__}: {exc}")
            self._report(mid, f"{predictor.label} disabled: {type(exc).__name__}: {exc}")
            return {pid: self._none(mid, pid, codes[pid], int(f[0]), "model disabled") for pid, f in wanted.items()}
        out = {}
        for pid, prediction in got.items():
            frame = int(wanted[pid][0])
            if isinstance(prediction, Exception):
                out[pid] = self._none(mid, pid, codes[pid], frame, str(prediction))
                continue
            box = self._box(pid, frame)
            if not prediction.valid[0]:
                out[pid] = self._none(mid, pid, codes[pid], frame, _reason(prediction), box)
                continue
            probs = prediction.probs[0]
            k = int(np.argmax(probs))
            out[pid] = ParticipantPrediction(mid, pid, codes[pid], frame, probs, predictor.classes[k],
                                             float(probs[k]), box)
        return out

    @staticmethod
    def _none(mid: int, pid: int, code: str, frame: int, reason: str,
              box: tuple[float, float, float, float] | None = None) -> ParticipantPrediction:
        return ParticipantPrediction(mid, pid, code, frame, None, None, None, box, reason)

    def _box(self, pid: int, frame: int) -> tuple[float, float, float, float] | None:
        try:
            box = self._provider.participant(self.session_id, pid).boxes(np.array([frame]))[0]
        except InferenceError:
            return None
        return None if np.isnan(box).any() else tuple(float(v) for v in box)

    def _deliver(self, predictions: list[ParticipantPrediction], request: _Request) -> None:
        now = self.clock()
        with self._cond:
            c = self._counters
            c.completed += 1
            _keep_recent(c.results, now)
            fps, wanted, total = _rate(c.results), _rate(c.submits), c.skipped_total
        skipped = request.superseded
        lagging = skipped > 0 or (wanted > 0 and fps > 0 and fps < LAG_RATIO * wanted)
        latency = now - request.submitted
        result = LiveResult(request.t_us, tuple(predictions), 1000.0 * latency, skipped, total, fps, wanted, lagging,
                            latency * self._frame_rate)
        try:
            self.on_result(result)
        except Exception:  # noqa: BLE001 - a broken overlay must not stop inference
            log.exception("on_result callback failed")

    def _disable(self, model_id: int, why: str) -> None:
        with self._cond:  # ``stats`` copies the dict from other threads
            self.disabled[model_id] = why

    def _report(self, model_id: int | None, message: str) -> None:
        """Tell ``on_error`` once per distinct (model, message)."""
        if (model_id, message) in self._reported:
            return
        self._reported.add((model_id, message))
        log.warning("%s", message)
        if self.on_error is not None:
            try:
                self.on_error(model_id, message)
            except Exception:  # noqa: BLE001
                log.exception("on_error callback failed")

    def _face_spec(self) -> Any:
        """The image input of the first model that takes one (faces are cached per frame for all sizes)."""
        for predictor in self.predictors:
            if predictor.model_id in self.disabled:
                continue
            runner = getattr(predictor, "runner", predictor)
            loaded = getattr(runner, "loaded", None)
            for spec in getattr(loaded, "inputs", ()):
                if spec.kind == "image":
                    return spec
        return None

    def _prefetch_faces(self, wanted: dict[int, np.ndarray]) -> None:
        """Find this step's faces now, then start finding the next step's (``_await_prefetch`` collects it)."""
        spec = self._face_spec()
        if spec is None:
            return
        provider, sid = self._provider, self.session_id

        def faces(frames: dict[int, int]) -> None:
            def one(pid: int) -> None:
                with contextlib.suppress(InferenceError):  # the step itself reports it
                    provider.participant(sid, pid).inputs(spec, np.array([frames[pid]]))
            provider.map(one, list(frames))

        now = {pid: int(f[0]) for pid, f in wanted.items()}
        faces(now)
        following = {}
        for pid, f in now.items():
            step = f - self._last_frames.get(pid, f - 1)
            following[pid] = f + (step if 0 < step <= PREFETCH_MAX_STEP else 1)
        self._last_frames = now
        following = {pid: f for pid, f in following.items() if f < len(provider.timeline(sid, pid))}
        if following:
            if self._prefetcher is None:
                from concurrent.futures import ThreadPoolExecutor

                self._prefetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-prefetch")
            self._prefetching = self._prefetcher.submit(faces, following)

    def _await_prefetch(self) -> None:
        """Wait for the background face finding (it uses the participants' inputs, which are single-threaded)."""
        if self._prefetching is not None:
            try:
                self._prefetching.result()
            except Exception:  # noqa: BLE001 - a prefetch is only a guess; the step computes what it needs
                log.debug("face prefetch failed", exc_info=True)
            self._prefetching = None

    def _close(self) -> None:
        self._await_prefetch()
        if self._prefetcher is not None:
            self._prefetcher.shutdown(wait=True)
        for predictor in self._owned:
            predictor.close()
        if self._own_provider and self._provider is not None:
            self._provider.close()


def lower_thread_priority(increment: int) -> bool:
    """Add ``increment`` to the calling thread's nice value (Linux: nice is per thread, and threads it starts
    afterwards inherit it); False where that is not possible (other systems, or ``increment`` <= 0)."""
    if increment <= 0 or not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + increment)
    except OSError:
        return False
    return True


def _runtime_name(loaded: Any) -> str:
    """``"onnxruntime"`` or ``"onnxruntime int8"`` (``LiveInferenceWorker.runtimes``)."""
    return "onnxruntime int8" if getattr(loaded.module, "int8", False) else "onnxruntime"


def _reason(prediction: FramePrediction) -> str:
    """Why the (single) frame of ``prediction`` has none; a predictor without ``reason`` says "no input"."""
    reason = getattr(prediction, "reason", None)
    return (reason(0) if reason is not None else None) or NO_INPUT


def _keep_recent(stamps: deque[float], now: float) -> None:
    stamps.append(now)
    while len(stamps) > 2 and stamps[0] < now - RATE_WINDOW_S:
        stamps.popleft()
