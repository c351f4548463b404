"""Where a model's inputs for frame ``f`` of a participant come from: the feature cache, else the media.

Models are trained on what ``dyadlab analyze`` caches (aligned face crops, frame-centred audio windows,
openSMILE functionals). Inference reads the same cache when it holds an up-to-date result for the
participant (same media content, same frame times), and otherwise computes the inputs of just the frames
asked for, with the analysis's own functions and parameters — decode the frame, find and align the face
(``features.faces`` / ``features.alignment``), cut the audio window (``features.audio_windows``) — so a
model sees the same numbers either way and a project that was never analysed still gets predictions.

Frames are the frames of the participant's view (frame ``i`` = entry ``i`` of its frame index, never
``t × fps``); a participant without a readable view uses the frame grid its cached audio analysis used.
A frame whose input cannot be had (no face found, the audio window's centre outside the recording, a
frame that does not decode) is *invalid*: its data is the cache's zeros and the caller must not predict
it. Nothing is interpolated.

Faces computed here are found for frames that follow one another (playback), so they are tracked for
speed as in the analysis: the detector every ``faces.TRACK_REDETECT_FRAMES`` frames, and face mesh on one
frame in the project's face param ``mesh_every`` at most (that of the cached analysis, else the default), the
landmarks carried by optical flow in between (``faces.LandmarkFlow``; it meshes whenever the eyes move on their
own). The eyes, hence the crops, stay within 2 px of the analysis's on the demo (tests/core/inference/test_live_faces.py).

``speech(frames)`` says where the participant speaks, for models trained on speech frames only: the
trainer's own reading of the cache's voice activity (``trainer.project_source.speech_frames``) when the
cached audio analysis is current, else the analysis's ``EnergyVad`` run over the whole recording (its noise
floor is a percentile of every window's level, so it cannot be decided from a slice) once per participant.

Not thread-safe: one ``InputProvider`` per thread (the live worker owns its own). ``InputProvider.map``
is the one exception, by construction: it runs a function per participant on the provider's own small pool,
each participant's ``ParticipantInputs`` (decoder, face finder, LRU) used by one pool thread at a time. A
participant also computes under its own lock and its LRU has one: the live worker's background search for
the next frame's faces can meet a step that asks for earlier frames (a recurrent model's context), and face
mesh and the face track must see one frame at a time; a step whose frames are computed already only reads
the LRU, so it does not wait for the search.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from dyadlab.core.errors import DyadLabError, MediaError
from dyadlab.core.features.cache import CacheEntry, CacheMiss, FeatureStore
from dyadlab.core.features.chunk_store import ChunkedArray
from dyadlab.core.features.crop_codec import resize_crops
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.loader import MODALITY_SOURCES, ModelInput

SMILE_MARGIN_S = 0.5  # audio kept around the windows when functionals are computed on a slice
MAP_THREADS = 4  # participants prepared side by side (a dyad needs 2)
T = TypeVar("T")
VAD_CHUNK = 4096  # audio windows cut at once when voice activity is decided from the media
LRU_FRAMES = 96  # computed frames kept per participant: a recurrent model's context (19 frames) and then some


@dataclass(frozen=True)
class ParticipantTimeline:
    """The frames a participant's predictions are indexed by, in session time (µs)."""

    session_id: int
    participant_id: int
    code: str
    view_id: int | None  # None: the audio analysis's regular grid (no readable view)
    times_us: np.ndarray  # int64, strictly increasing: when each frame appears
    end_us: int  # when the last frame stops being shown

    def __len__(self) -> int:
        return len(self.times_us)

    def frame_at(self, t_us: int) -> int | None:
        """The frame on screen at session time ``t_us``; None before the first or after the last."""
        if t_us >= self.end_us:
            return None
        i = int(np.searchsorted(self.times_us, t_us, side="right")) - 1
        return i if i >= 0 else None

    def frame_end_us(self, i: int) -> int:
        return int(self.times_us[i + 1]) if i + 1 < len(self.times_us) else self.end_us

    def frames_in(self, start_us: int, end_us: int) -> np.ndarray:
        """Frames that appear within ``[start_us, end_us)``."""
        lo, hi = np.searchsorted(self.times_us, [start_us, end_us], side="left")
        return np.arange(lo, hi, dtype=np.int64)

    @property
    def frame_rate_hz(self) -> float:
        """Mean frame rate (for a series without a view; display only)."""
        span = self.end_us - int(self.times_us[0]) if len(self) else 0
        return len(self) * 1e6 / span if span > 0 else 0.0


class _LRU(OrderedDict):
    """Least-recently-used store of per-frame computed inputs (bounded; ``put``/``take``/``peek`` thread-safe)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._mutex = threading.Lock()

    def put(self, key: Any, value: Any) -> None:
        with self._mutex:
            self[key] = value
            self.move_to_end(key)
            while len(self) > self.size:
                self.popitem(last=False)

    def take(self, key: Any) -> Any:
        """The value (None if absent), now the most recently used."""
        with self._mutex:
            value = self.get(key)
            if value is not None:
                self.move_to_end(key)
            return value

    def peek(self, key: Any) -> Any:
        """The value (None if absent), its place unchanged."""
        with self._mutex:
            return self.get(key)


@dataclass
class _Face:
    crop: np.ndarray  # uint8 [S, S, 3] (zeros when invalid)
    valid: bool
    box: np.ndarray  # float32 [4] x, y, w, h view px (NaN when none)
    affine: np.ndarray  # float32 [2, 3] view px -> crop px, as the analysis's ``affine`` (zeros when invalid)


class ParticipantInputs:
    """Model inputs of one participant of one session (cache first, media otherwise)."""

    def __init__(self, project: Any, session_id: int, participant_id: int, code: str, tasks: dict[str, Any],
                 *, use_cache: bool = True) -> None:
        self.project, self.session_id, self.participant_id, self.code = project, session_id, participant_id, code
        self.tasks = tasks  # analysis task name -> AnalysisTask (as `dyadlab analyze` would plan it)
        self.use_cache = use_cache
        self.features = FeatureStore(project)
        session = next((t.session_name for t in tasks.values()), f"session {session_id}")
        self.where = f"{session}/{code}"  # how messages name this participant
        self.stats: Counter[str] = Counter()  # "<modality>:cache" / "<modality>:computed" frames served
        self._entries: dict[str, CacheEntry | None] = {}
        self._loaded: dict[str, Any] = {}
        self._lru = _LRU(LRU_FRAMES)
        self._lock = threading.RLock()  # held while computing: decoder, face finder, signal (module docstring)
        self._signal: Any = None
        self._finder: Any = None
        self._aligner: Any = None
        self._decoder: Any = None
        self._view: Any = None
        self._speech: np.ndarray | None = None
        self.timeline = self._timeline()

    # -- timeline ---------------------------------------------------------------------------------------
    def _timeline(self) -> ParticipantTimeline:
        from dyadlab.core.features.frames import load_index

        video = next((t.video for t in self.tasks.values() if t.video is not None), None)
        problem = "it has neither a video view nor an audio track"
        if video is not None:
            try:
                index = load_index(video.path, next(iter(self.tasks.values())).index_dir)
            except MediaError as exc:
                problem = f"its view cannot be read ({exc.problem})"
            else:
                return ParticipantTimeline(self.session_id, self.participant_id, self.code, video.view_id,
                                           index.pts_us + video.offset_us, video.offset_us + index.duration_us)
        try:  # the grid the audio analysis used (even when its features are not to be used)
            audio = self.features.entry(self.session_id, self.participant_id, "audio") if "audio" in self.tasks else None
        except CacheMiss:
            audio = None
        if audio is not None:
            times = np.asarray(audio.array("times_us"), dtype=np.int64)
            if len(times):
                step = int(np.median(np.diff(times))) if len(times) > 1 else 40_000
                return ParticipantTimeline(self.session_id, self.participant_id, self.code, None, times,
                                           int(times[-1]) + step)
        raise InferenceError(f"{self.where}: no frames to predict, {problem}",
                             hint="add a view for this participant, or run `dyadlab analyze` for its audio")

    # -- the feature cache ------------------------------------------------------------------------------
    def _cached(self, task: str, *, check_times: bool = True) -> CacheEntry | None:
        """The participant's latest analysis result of ``task`` if it was computed from the current media."""
        key = f"{task}:{check_times}"
        if key in self._entries:
            return self._entries[key]
        entry = None
        planned = self.tasks.get(task)
        if self.use_cache and planned is not None:
            try:
                found = self.features.entry(self.session_id, self.participant_id, task)
            except CacheMiss:
                found = None
            hashes = [m.content_hash for m in (planned.video, planned.audio) if m is not None]
            if found is not None and [m["content_hash"] for m in found.manifest.get("media", [])] == hashes:
                entry = found
            if entry is not None and check_times:
                times = np.asarray(entry.array("times_us"))
                if not np.array_equal(times, self.timeline.times_us):  # view moved or re-indexed since
                    entry = None
        self._entries[key] = entry
        return entry

    def _cached_kind(self, kind: str) -> Any:
        """``LoadedFeature`` of ``kind`` from an up-to-date cached result, else None."""
        if kind not in self._loaded:
            from dyadlab.core.features.cache import ARRAY_KINDS

            entry = self._cached(ARRAY_KINDS[kind][0])
            try:
                self._loaded[kind] = None if entry is None else self.features.load(
                    self.session_id, self.participant_id, kind, key=entry.path.name)
            except CacheMiss:  # e.g. openSMILE was switched off for that run
                self._loaded[kind] = None
        return self._loaded[kind]

    def params(self, task: str) -> dict[str, Any]:
        """Analysis parameters: those of the cached result (the user's choice), else the defaults."""
        entry = self._cached(task, check_times=False)
        if entry is not None:
            return dict(entry.manifest.get("params", {}))
        planned = self.tasks.get(task)
        if planned is None:
            what = "video view" if task == "faces" else "audio track"
            raise InferenceError(f"{self.where}: no {what}, so its {task} input cannot be computed",
                                 hint=f"add a {what} for this participant")
        return dict(planned.params)

    # -- inputs -----------------------------------------------------------------------------------------
    def inputs(self, spec: ModelInput, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(data [n, *spec.shape], valid [n])`` for ``frames`` (sorted, unique, inside the timeline)."""
        frames = np.asarray(frames, dtype=np.int64)
        try:
            cached = self._from_cache(spec, frames)
            if cached is not None:
                self.stats[f"{spec.name}:cache"] += len(frames)
                return cached
            self.stats[f"{spec.name}:computed"] += len(frames)
            if spec.kind == "image":
                return self._faces(frames, spec.shape[0])
            with self._lock:
                if spec.kind == "waveform":
                    return self._windows(frames, spec.shape[0])
                return self._functionals(spec.name, frames)
        except DyadLabError as exc:
            if isinstance(exc, InferenceError):
                raise
            raise InferenceError(f"{self.where}: cannot compute input {spec.name!r}: {exc}") from exc
        except (OSError, RuntimeError, ValueError) as exc:
            raise InferenceError(f"{self.where}: cannot compute input {spec.name!r} "
                                 f"({type(exc).__name__}: {exc})") from exc

    def _from_cache(self, spec: ModelInput, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        loaded = self._cached_kind(MODALITY_SOURCES[spec.name].feature)
        if loaded is None:
            return None
        data, valid = loaded.data, loaded.valid
        if spec.kind == "waveform":
            have, want = data.shape[1], spec.shape[0]
            if want > have:
                return None  # the cached windows are shorter than the model's: cut them from the signal
            lo = have // 2 - want // 2  # same centre sample as a window cut with the model's length
            return np.ascontiguousarray(data[frames, lo:lo + want]), valid[frames]
        if spec.kind == "image":
            if isinstance(data, ChunkedArray):  # read at the model's size as the trainer reads them (face_size)
                return np.asarray(data.at_size(spec.shape[0])[frames]), valid[frames]
            return resize_crops(np.asarray(data[frames]), spec.shape[0]), valid[frames]
        return np.asarray(data[frames], dtype=np.float32), valid[frames]

    def speech(self, frames: np.ndarray) -> np.ndarray:
        """Whether the participant speaks at each of ``frames`` (bool ``[n]``), as the trainer's speech frames."""
        if self._speech is None:
            try:
                with self._lock:  # it may load the signal
                    self._speech = self._speech_frames()
            except DyadLabError as exc:
                if isinstance(exc, InferenceError):
                    raise
                raise InferenceError(f"{self.where}: cannot tell where the participant speaks: {exc}") from exc
        return self._speech[np.asarray(frames, dtype=np.int64)]

    def _speech_frames(self) -> np.ndarray:
        from dyadlab.trainer.project_source import SPEECH_THRESHOLD, speech_frames

        entry = self._cached("audio")
        if entry is not None:
            try:
                return speech_frames(self.features, self.session_id, self.participant_id, key=entry.path.name)
            except CacheMiss:
                pass  # an older result without voice activity: decide it from the media below
        from dyadlab.core.features.audio_windows import cut_windows, window_starts
        from dyadlab.core.features.voice_activity import EnergyVad

        signal = self._participant_signal()
        length = int(self.params("audio").get("window", 1600))
        vad = EnergyVad()
        levels = np.zeros(len(self.timeline), np.float32)
        starts, inside = window_starts(signal, self.timeline.times_us, length)
        for lo in range(0, len(levels), VAD_CHUNK):  # bounded memory on long recordings
            pick = np.flatnonzero(inside[lo:lo + VAD_CHUNK]) + lo
            if len(pick):
                levels[pick] = vad.levels_db(cut_windows(signal.samples, starts[pick], length))
        return vad.decide(levels, inside) > SPEECH_THRESHOLD

    def boxes(self, frames: np.ndarray) -> np.ndarray:
        """Face boxes ``float32 [n, 4]`` (x, y, w, h in view pixels) where known, else NaN rows."""
        frames = np.asarray(frames, dtype=np.int64)
        out = np.full((len(frames), 4), np.nan, np.float32)
        cached = self._cached_kind("face_boxes")
        if cached is not None:
            out[:] = cached.data[frames]
            out[~cached.valid[frames]] = np.nan
            return out
        for k, f in enumerate(frames.tolist()):
            face = self._lru.peek(("face", f))
            if face is not None:
                out[k] = face.box
        return out

    # -- computed from the media ------------------------------------------------------------------------
    def _participant_signal(self) -> Any:
        if self._signal is None:
            from dyadlab.core.features.audio_windows import load_participant_signal

            audio = self.tasks["audio"].audio if "audio" in self.tasks else None
            if audio is None:
                raise InferenceError(f"{self.where}: no audio track, so audio inputs cannot be computed",
                                     hint="add an audio track (or map a channel of one) to this participant")
            self._signal = load_participant_signal(audio.path, audio.channel, audio.offset_us,
                                                   int(self.params("audio").get("sample_rate", 16_000)))
        return self._signal

    def _windows(self, frames: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        from dyadlab.core.features.audio_windows import cut_windows, window_starts

        signal = self._participant_signal()
        starts, inside = window_starts(signal, self.timeline.times_us[frames], length)
        windows = np.zeros((len(frames), length), np.float32)
        windows[inside] = cut_windows(signal.samples, starts[inside], length)
        return windows, inside

    def _functionals(self, name: str, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """openSMILE functionals of the frames' windows, from a slice of the signal around them.

        The slice starts on the 10 ms descriptor hop grid and keeps ``SMILE_MARGIN_S`` of context on both
        sides, so every window is quantised and computed as in the whole-signal analysis.
        """
        from dyadlab.core.features.audio_features import LLD_HOP_S, SMILE_SETS, SmileFunctionals
        from dyadlab.core.features.audio_windows import window_starts

        dim = SMILE_SETS[name][1]
        out = np.zeros((len(frames), dim), np.float32)
        valid = np.zeros(len(frames), bool)
        todo = []
        for k, f in enumerate(frames.tolist()):
            hit = self._lru.take((name, f))
            if hit is None:
                todo.append(k)
            else:
                out[k], valid[k] = hit
        if todo:
            signal = self._participant_signal()
            length = int(self.params("audio").get("window", 1600))
            starts, inside = window_starts(signal, self.timeline.times_us[frames[todo]], length)
            values = np.zeros((len(todo), dim), np.float32)
            if inside.any():
                hop = int(round(signal.sample_rate * LLD_HOP_S))
                margin = int(SMILE_MARGIN_S * signal.sample_rate)
                lo = max(0, (int(starts[inside].min()) - margin) // hop * hop)
                hi = min(len(signal.samples), int(starts[inside].max()) + length + margin)
                got, _ = SmileFunctionals(name).run(signal.samples[lo:hi], signal.sample_rate, starts[inside] - lo,
                                                    np.full(int(inside.sum()), length))
                values[inside] = np.where(np.isfinite(got), got, 0.0)  # as the analysis does
            for j, k in enumerate(todo):
                out[k], valid[k] = values[j], inside[j]
                self._lru.put((name, int(frames[k])), (values[j], bool(inside[j])))
        return out, valid

    def _faces(self, frames: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        crops = np.zeros((len(frames), size, size, 3), np.uint8)
        valid = np.zeros(len(frames), bool)
        for k, f in enumerate(frames.tolist()):
            face = self._lru.take(("face", f))
            if face is None:
                with self._lock:  # the finder sees one frame at a time (another thread may have done it meanwhile)
                    face = self._lru.take(("face", f))
                    if face is None:
                        face = self._detect(f)
                        self._lru.put(("face", f), face)
            if face.valid:
                crops[k] = resize_crops(face.crop[None], size)[0]
                valid[k] = True
        return crops, valid

    def _detect(self, frame: int) -> _Face:
        """Decode one frame of the view and find, align and crop the participant's face in it."""
        from dyadlab.core.features import faces
        from dyadlab.core.features.alignment import AlignmentSpec, FaceAligner

        params = {**faces.DEFAULT_FACE_PARAMS, **self.params("faces")}
        if self._finder is None:
            self._open_view()
            self._finder = faces.ParticipantFaceFinder(params, redetect_every=faces.TRACK_REDETECT_FRAMES,
                                                       mesh_every=int(params["mesh_every"]))
            self._aligner = FaceAligner(AlignmentSpec(int(params["size"]), float(params["eye_y"]),
                                                      float(params["eye_distance"])))
        size = self._aligner.spec.size
        nothing = _Face(np.zeros((size, size, 3), np.uint8), False, np.full(4, np.nan, np.float32),
                        np.zeros((2, 3), np.float32))
        try:
            rgb = np.ascontiguousarray(self._decoder.get_frame(frame))
        except (MediaError, TimeoutError):
            return nothing  # the frame does not decode: invalid, like the analysis's NOT_DECODED
        seen = self._finder.observe(rgb, frame)  # tracked (and the mesh skipped) while frames follow on
        if seen.eyes is None:
            return nothing
        crop, affine = self._aligner.align(rgb, *seen.eyes)
        return _Face(crop, True, np.asarray(seen.box, np.float32), affine.astype(np.float32))

    def _open_view(self) -> None:
        from dyadlab.core.media.decoder import CropDecoder, VideoDecoder

        task = self.tasks.get("faces")
        if task is None or task.video is None:
            raise InferenceError(f"{self.where}: no readable video view, so face inputs cannot be computed",
                                 hint="add a view (or a crop of a shared view) for this participant")
        self._view = VideoDecoder.for_file(task.video.path, index_cache_dir=task.index_dir, readahead=4)
        self._decoder = CropDecoder(self._view, task.video.crop)

    def close(self) -> None:
        """Release the decoder thread and the face models (idempotent)."""
        if self._finder is not None:
            self._finder.close()
            self._finder = None
        if self._decoder is not None:
            self._decoder.close()
            self._view.close()
            self._decoder = self._view = None
        self._lru.clear()
        self._loaded.clear()


class InputProvider:
    """``ParticipantInputs`` of any (session, participant) of a project, opened on first use and kept."""

    def __init__(self, project: Any, *, use_cache: bool = True) -> None:
        self.project = project
        self.use_cache = use_cache
        self._open: dict[tuple[int, int], ParticipantInputs] = {}
        self._errors: dict[tuple[int, int], InferenceError] = {}
        self._pool: Any = None  # ThreadPoolExecutor of ``map``, made on first use

    def map(self, fn: Callable[[int], T], participant_ids: Sequence[int]) -> list[T]:
        """``[fn(pid) for pid in participant_ids]`` with one pool thread per participant (distinct ids only).

        Why: decoding a frame and finding a face in it (mediapipe, OpenCV) release the GIL, so the
        participants of a live step are prepared side by side. The first exception is re-raised.
        """
        if len(set(participant_ids)) != len(participant_ids):
            raise ValueError("InputProvider.map takes each participant once")
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=MAP_THREADS, thread_name_prefix="inference-inputs")
        futures = [self._pool.submit(fn, pid) for pid in participant_ids]
        return [f.result() for f in futures]

    def participant(self, session_id: int, participant_id: int) -> ParticipantInputs:
        key = (session_id, participant_id)
        if key not in self._open and key not in self._errors:
            self._plan(session_id)
        if key in self._errors:
            raise self._errors[key]
        if key not in self._open:
            raise InferenceError(f"participant {participant_id} is not in session {session_id}")
        return self._open[key]

    def _plan(self, session_id: int) -> None:
        """Plan the session's analysis as ``dyadlab analyze`` would (paths, crops, offsets, parameters)."""
        from dyadlab.core.features.pipeline import plan_tasks

        try:
            tasks, _ = plan_tasks(self.project, [session_id], what=("faces", "audio"))
            with self.project.store.transaction() as tx:
                participants = tx.participants.list(session_id)
        except DyadLabError as exc:
            raise InferenceError(f"cannot prepare session {session_id} for inference: {exc}") from exc
        by_participant: dict[int, dict[str, Any]] = {p.id: {} for p in participants}
        for task in tasks:
            by_participant[task.participant_id][task.task] = task
        for p in participants:
            key = (session_id, p.id)
            if key in self._open:
                continue
            try:
                self._open[key] = ParticipantInputs(self.project, session_id, p.id, p.code, by_participant[p.id],
                                                    use_cache=self.use_cache)
            except InferenceError as exc:
                self._errors[key] = exc  # raised when that participant is asked for

    def timeline(self, session_id: int, participant_id: int) -> ParticipantTimeline:
        return self.participant(session_id, participant_id).timeline

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for inputs in self._open.values():
            inputs.close()
        self._open.clear()
        self._errors.clear()

    def __enter__(self) -> InputProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
