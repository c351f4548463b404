"""Analysis work cut into items an engine runs anywhere: session × participant × time-chunk.

Why time-chunks: one long session (an hour of UDIVA) is hours of face tracking; as one item it would keep
one worker busy while the others idle at the end of a run. Faces (and pose) are therefore cut into chunks of
``chunk_frames`` frames (default ``CHUNK_FRAMES``, 60 s at 25 fps), each an independent item: it decodes
its frame range (``ViewDecoder(first, stop)``), starts its face finder fresh on its first frame (so a
chunk's rows depend only on its frames, and ``chunk_frames`` is part of the cache key), and commits its
rows atomically as one chunk file of the content-hash cache (``FeatureCache.chunk_writer``). A rerun, a
retry after a worker died, or a second cluster finds the chunk done (``chunk_done``) and computes nothing;
a killed worker leaves only a temp file that is never read.

Pose is cut the same way. Audio stays one item per participant through ``run_task``: its voice activity
(a noise floor over all windows) and utterance functionals need the whole stream, and openSMILE's ComParE
values depend on where the signal starts (its utterances change with the zeros padded before it), so audio cut
into chunks would not give the same cache. It costs about half of faces (bench/analyze.py): the engine starts
items longest first (``expected_cost_s``), so an audio item fills a worker while the other finishes faces.

The client (``core.features.pipeline``) finishes a chunked result when all its chunks are in
(``finish_chunked``): it reads the chunks' flags back, writes the user's warnings, and publishes the
manifest with ``FeatureCache.finish_result`` — the only step that makes the result visible. A chunk that
fails (bad media) is reported with the file and the time span it covers; the other chunks and items go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from dyadlab.core.errors import DyadLabError, MediaError
from dyadlab.core.features.tasks import AnalysisTask, TaskResult, manifest_of, retire_older_code
from dyadlab.core.progress import Cancelled, ProgressCallback
from dyadlab.core.time_format import format_time

CHUNK_FRAMES = 1500  # frames per time-chunk (60 s at 25 fps): minutes of work, a few MB of cache
CHUNKED_TASKS: tuple[str, ...] = ("faces", "pose")
# CPU seconds per second of one participant's media on the 2-core reference machine (bench/analyze.py: faces
# 8.8 s per minute with face mesh on 1 frame in 4, audio 4.7 s, pose about 4× faces); only their order matters
COST_S_PER_MEDIA_S = {"faces": 0.15, "audio": 0.08, "pose": 0.6}


@dataclass(frozen=True)
class ChunkTask:
    """Frames ``[first_row, first_row + rows)`` of one (session, participant, task)."""

    task: AnalysisTask
    index: int
    first_row: int
    rows: int
    start_us: int  # session time of the chunk's first frame
    end_us: int  # session time where the chunk ends

    @property
    def key(self) -> str:
        return f"{self.task.task}-{self.task.key}-c{self.index:06d}"

    @property
    def span(self) -> str:
        return f"{format_time(self.start_us / 1e6, precision=0)}–{format_time(self.end_us / 1e6, precision=0)}"

    @property
    def label(self) -> str:
        return f"{self.task.label} {self.span}"

    @property
    def where(self) -> str:
        """The media file and the time span, for a user looking for the bad spot."""
        return f"{self.task.video.path if self.task.video else '?'}, {self.span}"


@dataclass
class ChunkResult:
    """What an item sends back: the chunk's committed meta, or why it failed (with file and time)."""

    index: int
    rows: int
    meta: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    error: str | None = None


def chunk_frames(task: AnalysisTask) -> int:
    return int(task.params.get("chunk_frames", CHUNK_FRAMES))


def plan_chunks(task: AnalysisTask) -> list[ChunkTask]:
    """The chunks of a chunked task (reads the view's frame index; raises MediaError when unreadable)."""
    from dyadlab.core.features.frames import load_index

    assert task.video is not None
    index = load_index(task.video.path, task.index_dir)
    n, step = len(index), max(1, chunk_frames(task))
    offset = task.video.offset_us
    return [ChunkTask(task, k, a, min(step, n - a), int(index.time_of(a)) + offset,
                      int(index.end_of(min(a + step, n) - 1)) + offset)
            for k, a in enumerate(range(0, n, step))]


def expected_cost_s(payload: AnalysisTask | ChunkTask) -> float:
    """About how long an item takes (the engine starts the longest first); 0 when its length is unknown."""
    if isinstance(payload, ChunkTask):
        media_s = (payload.end_us - payload.start_us) / 1e6
        name = payload.task.task
    else:
        name = payload.task
        media = payload.audio if name == "audio" else None
        if media is not None and media.duration_us:
            media_s = media.duration_us / 1e6
        elif payload.video is not None and payload.video.expected_frames:
            media_s = payload.video.expected_frames / 25.0  # nominal: only the order of items matters
        else:
            media_s = 0.0
    return media_s * COST_S_PER_MEDIA_S.get(name, 0.1)


def run_work(payload: AnalysisTask | ChunkTask, progress: ProgressCallback | None = None) -> Any:
    """The engine's item function: a whole task (``run_task``) or one time-chunk (``run_chunk``)."""
    if isinstance(payload, ChunkTask):
        return run_chunk(payload, progress)
    from dyadlab.core.features.tasks import run_task

    return run_task(payload, progress)


def run_chunk(chunk: ChunkTask, progress: ProgressCallback | None = None) -> ChunkResult:
    """Compute one chunk into the cache (or find it there). Bad media become ``error``; never raises but
    ``Cancelled``."""
    from dyadlab.core.features.cache import FeatureCache

    task = chunk.task
    cache = FeatureCache(task.project_root)
    where = dict(session_id=task.session_id, participant_id=task.participant_id, task=task.task, key=task.key)
    out = ChunkResult(chunk.index, chunk.rows)
    if cache.chunk_done(**where, index=chunk.index):
        out.meta, out.cached = cache.chunk_meta(**where, index=chunk.index), True
        return out
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        with cache.chunk_writer(**where, index=chunk.index, first_row=chunk.first_row, rows=chunk.rows) as writer:
            out.meta = _rows_function(task.task)(task, writer, chunk.first_row, chunk.first_row + chunk.rows,
                                                 progress)[0]
            writer.commit(meta=out.meta)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - bad media in one chunk: reported, the rest goes on
        problem = exc.problem if isinstance(exc, DyadLabError) else f"{type(exc).__name__}: {exc}"
        out.error = f"{chunk.where}: {problem}"
    out.elapsed_s, out.cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    return out


def _rows_function(name: str) -> Any:
    """The task's ``(task, writer, first, stop, progress) -> (meta, *row flags)`` function."""
    if name == "faces":
        from dyadlab.core.features.faces import faces_rows

        return faces_rows
    if name == "pose":
        from dyadlab.core.features.pose import pose_rows

        return pose_rows
    raise DyadLabError(f"{name} is not analysed in time-chunks")


def _summarise(task: AnalysisTask, result: TaskResult, index: Any, stored: Any, metas: list[dict[str, Any]]) -> None:
    """The task's counts and warnings over all its chunks, from the row flags read back from the cache."""
    import numpy as np

    def rows(name: str, dtype: Any = None) -> np.ndarray:
        return np.asarray(stored.array(name)[:], dtype=dtype)

    if task.task == "faces":
        from dyadlab.core.features.faces import summarise_faces

        summarise_faces(task, result, index, rows("flags"), rows("valid", bool), metas)
    else:
        from dyadlab.core.features.pose import summarise_pose

        summarise_pose(task, result, index, rows("valid", bool), rows("hands.valid", bool), metas)


def finish_chunked(task: AnalysisTask, chunks: list[ChunkResult]) -> TaskResult:
    """Publish a chunked result once all its chunks are in (client side); failed chunks fail the task."""
    from dyadlab.core.features.cache import FeatureCache, old_format_message
    from dyadlab.core.features.frames import load_index

    result = TaskResult.of(task)
    chunks = sorted(chunks, key=lambda c: c.index)
    result.elapsed_s = sum(c.elapsed_s for c in chunks)
    failed = [c for c in chunks if c.error]
    if failed:
        result.error = "; ".join(c.error for c in failed if c.error)
        for c in failed:
            result.warn("unreadable", f"chunk not analysed: {c.error}")
        done = len(chunks) - len(failed)
        result.warn("failed", f"{len(failed)} of {len(chunks)} time-chunks failed; the {done} others are cached "
                              "and a rerun computes only the failed ones")
        return result
    cache = FeatureCache(task.project_root)
    where = (task.session_id, task.participant_id, task.task, task.key)
    try:
        assert task.video is not None
        index = load_index(task.video.path, task.index_dir)
        _summarise(task, result, index, cache.partial(*where), [c.meta for c in chunks])
        result.stats["cpu_s"] = round(sum(c.cpu_s for c in chunks), 3)
        result.stats["chunks"] = len(chunks)
        old = cache.old_format_entries(task.session_id, task.participant_id, task.task)
        result.result_dir = str(cache.finish_result(*where, manifest_of(task, result), rows=len(index)))
        for entry in old:
            result.warn("old_cache", old_format_message(entry))
        cache.retire_old_format(task.session_id, task.participant_id, task.task)
        for message in retire_older_code(task):
            result.warn("old_cache", message)
    except (MediaError, DyadLabError) as exc:
        result.error = str(exc)
        result.warn("failed", f"not analysed: {exc}")
    return result
