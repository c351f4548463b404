"""``analyze_project``: plan the (session, participant, task) work, run it on an engine, summarise.

This is the one entry point the CLI (``dyadlab analyze``) and the GUI's job runner call. The parent reads
the store once to build picklable ``AnalysisTask`` objects, skips those whose result is already in the
feature cache (so a rerun is instant and an interrupted run resumes), cuts the rest into work items
(faces in time-chunks: ``core.features.chunks``), runs them on an engine (``core.engine``: in this process,
a Dask LocalCluster, a scheduler or a job queue) and writes the results that belong in the store (pose
keypoint series) itself, so workers never touch the database.
Bad media never stop the run: each problem becomes a ``TaskWarning`` in the returned summary.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyadlab.core import model
from dyadlab.core.engine.base import Engine, Outcome, WorkItem
from dyadlab.core.errors import DyadLabError
from dyadlab.core.features.cache import TASKS, FeatureCache, content_hash, result_key
from dyadlab.core.features.chunks import (
    CHUNK_FRAMES,
    CHUNKED_TASKS,
    ChunkResult,
    ChunkTask,
    expected_cost_s,
    finish_chunked,
    plan_chunks,
    run_work,
)
from dyadlab.core.features.frames import INDEX_SUBDIR
from dyadlab.core.features.tasks import (
    AnalysisTask,
    AudioSource,
    TaskResult,
    TaskWarning,
    UtteranceSpan,
    VideoSource,
    run_task,
)
from dyadlab.core.progress import ProgressCallback, report

DEFAULT_WHAT: tuple[str, ...] = ("faces", "audio")  # pose is opt-in: ~4x the cost of faces on a CPU


def default_params() -> dict[str, dict[str, Any]]:
    from dyadlab.core.features.audio_features import DEFAULT_AUDIO_PARAMS
    from dyadlab.core.features.faces import DEFAULT_FACE_PARAMS
    from dyadlab.core.features.pose import DEFAULT_POSE_PARAMS

    return {"faces": {**DEFAULT_FACE_PARAMS, "chunk_frames": CHUNK_FRAMES}, "audio": dict(DEFAULT_AUDIO_PARAMS),
            "pose": {**DEFAULT_POSE_PARAMS, "chunk_frames": CHUNK_FRAMES}}


@dataclass
class SummaryRow:
    session: str
    participant: str
    frames: int
    faces_found: float | None  # fraction of frames with an aligned face (None: faces not analysed)
    compute_s: float
    media_s: float
    cached: bool

    @property
    def speed(self) -> float | None:
        """Media seconds analysed per second of compute (≥ 1: faster than real time)."""
        return self.media_s / self.compute_s if self.compute_s > 0 else None


@dataclass(frozen=True)
class ItemSpan:
    """When and where one work item ran (wall clock where it ran), for the benchmark's timeline."""

    label: str
    worker: str | None
    started: float | None
    ended: float | None
    cpu_s: float


@dataclass
class AnalysisSummary:
    results: list[TaskResult] = field(default_factory=list)
    warnings: list[TaskWarning] = field(default_factory=list)  # planning warnings + every task's
    elapsed_s: float = 0.0
    timeline: list[ItemSpan] = field(default_factory=list)  # the items computed, in the order they ended

    @property
    def computed(self) -> list[TaskResult]:
        return [r for r in self.results if not r.cached and r.error is None]

    @property
    def cached(self) -> list[TaskResult]:
        return [r for r in self.results if r.cached]

    @property
    def failed(self) -> list[TaskResult]:
        return [r for r in self.results if r.error is not None]

    def result(self, session: str, participant: str, task: str) -> TaskResult | None:
        for r in self.results:
            if (r.session_name, r.participant_code, r.task) == (session, participant, task):
                return r
        return None

    def rows(self) -> list[SummaryRow]:
        rows: dict[tuple[str, str], SummaryRow] = {}
        for r in self.results:
            row = rows.setdefault((r.session_name, r.participant_code),
                                  SummaryRow(r.session_name, r.participant_code, 0, None, 0.0, 0.0, True))
            row.frames = max(row.frames, r.frames)
            row.compute_s += 0.0 if r.cached else r.elapsed_s
            row.media_s = max(row.media_s, r.media_s)
            row.cached = row.cached and r.cached
            if r.task == "faces" and r.frames:
                row.faces_found = r.valid_frames / r.frames
        return list(rows.values())

    def table(self) -> str:
        head = f"{'session':<16} {'part.':<6} {'frames':>7} {'faces %':>8} {'time s':>8} {'media s':>8} {'×RT':>6}"
        lines = [head, "-" * len(head)]
        for row in self.rows():
            faces = "-" if row.faces_found is None else f"{100 * row.faces_found:.1f}"
            speed = "cached" if row.cached else ("-" if row.speed is None else f"{row.speed:.2f}")
            lines.append(f"{row.session:<16} {row.participant:<6} {row.frames:>7} {faces:>8} {row.compute_s:>8.1f} "
                         f"{row.media_s:>8.1f} {speed:>6}")
        lines.append(f"{len(self.computed)} computed, {len(self.cached)} cached, {len(self.failed)} failed in "
                     f"{self.elapsed_s:.1f} s wall time")
        return "\n".join(lines)


# -- planning ---------------------------------------------------------------------------------------------

def select_sessions(sessions_all: list[model.Session], wanted: Iterable[int | str] | None) -> list[model.Session]:
    if wanted is None:
        return sessions_all
    by_id = {s.id: s for s in sessions_all}
    by_name = {s.name: s for s in sessions_all}
    out = []
    for w in wanted:
        s = by_id.get(w) if isinstance(w, int) else by_name.get(str(w)) or (
            by_id.get(int(w)) if str(w).isdigit() else None)
        if s is None:
            raise DyadLabError(f"no session {w!r} in this project",
                               hint=f"sessions: {', '.join(by_name) or 'none'}")
        out.append(s)
    return out


def _audio_source(tracks: list[model.AudioTrack], p: model.Participant, project: Any,
                  hashes: dict[str, str]) -> AudioSource | None:
    """The participant's own channel (dedicated mono tracks first), else a mix track, else None."""
    own = [(t.channels or len(t.channel_participants) or 1, t.id, t, c)
           for t in tracks for c, who in enumerate(t.channel_participants) if who == p.id]
    if own:
        _, _, t, channel = min(own, key=lambda x: (x[0], x[1]))
        path = project.media_path(t.path)
        return AudioSource(str(path), t.id, t.name, channel, t.offset_us, _hash(path, hashes), True, t.duration_us)
    mixes = [t for t in tracks if not any(who is not None for who in t.channel_participants)]
    if not mixes:
        return None
    t = mixes[0]
    path = project.media_path(t.path)
    return AudioSource(str(path), t.id, t.name, None, t.offset_us, _hash(path, hashes), False, t.duration_us)


def _hash(path: Path, hashes: dict[str, str]) -> str:
    key = str(path)
    if key not in hashes:
        hashes[key] = content_hash(path) if path.is_file() else "missing"
    return hashes[key]


def _key_params(params: dict[str, Any], video: VideoSource | None, audio: AudioSource | None,
                spans: tuple[UtteranceSpan, ...]) -> dict[str, Any]:
    """Everything besides media content that changes a result: parameters, crop, offsets, channel, spans."""
    return {**params, "crop": video.crop.__dict__ if video and video.crop else None,
            "video_offset_us": video.offset_us if video else None,
            "audio": [audio.channel, audio.offset_us] if audio else None,
            "utterance_spans": [[u.start_us, u.end_us] for u in spans]}


def plan_tasks(project: Any, sessions: Iterable[int | str] | None = None, what: Sequence[str] = DEFAULT_WHAT,
               params: dict[str, dict[str, Any]] | None = None) -> tuple[list[AnalysisTask], list[TaskWarning]]:
    """The tasks to run (cached or not) and the warnings found while planning (missing views, audio)."""
    unknown = [w for w in what if w not in TASKS]
    if unknown:
        raise DyadLabError(f"unknown analysis {', '.join(unknown)}", hint=f"choose from {', '.join(TASKS)}")
    merged = default_params()
    for name, extra in (params or {}).items():
        merged.setdefault(name, {}).update(extra)
    tasks: list[AnalysisTask] = []
    warnings: list[TaskWarning] = []
    hashes: dict[str, str] = {}
    index_subdir = (Path(project.cache_dir) / INDEX_SUBDIR).relative_to(project.root).as_posix()
    with project.store.transaction() as tx:
        chosen = select_sessions(tx.sessions.list(), sessions)
        plan = [(s, tx.participants.list(s.id), tx.views.list(s.id), tx.audio.list(s.id),
                 tx.utterances.list(s.id)) for s in chosen]
    for session, participants, views, tracks, utterances in plan:
        for p in participants:
            def warn(task: str, code: str, message: str, s: model.Session = session,
                     p: model.Participant = p) -> None:
                warnings.append(TaskWarning(s.name, p.code, task, code, message))

            video = _video_source(views, p, project, hashes, warn)
            for name in what:
                audio, spans = None, ()
                if name in ("faces", "pose"):
                    if video is None:
                        shared = [v.name for v in views if v.participant_id is None]
                        hint = (f"; view {shared[0]!r} shows both — give each participant a view with a crop"
                                if shared else "")
                        warn(name, "no_view", f"no video view for this participant{hint}")
                        continue
                    if video.content_hash == "missing":
                        warn(name, "unreadable", f"video file missing: {video.path}")
                        continue
                else:
                    audio = _audio_source(tracks, p, project, hashes)
                    if audio is None or audio.content_hash == "missing":
                        warn(name, "no_audio", "no audio track for this participant"
                             if audio is None else f"audio file missing: {audio.path}")
                        continue
                    spans = tuple(UtteranceSpan(u.name, u.start_us, u.end_us) for u in utterances
                                  if u.participant_id == p.id)
                media = [m.content_hash for m in (video, audio) if m is not None]
                key = result_key(name, media, _key_params(merged[name], video, audio, spans))
                tasks.append(AnalysisTask(name, str(project.root), session.id, session.name, p.id, p.code,
                                          video, audio, spans, dict(merged[name]), key, index_subdir))
    return tasks, warnings


def _video_source(views: list[model.View], p: model.Participant, project: Any, hashes: dict[str, str],
                  warn: Any) -> VideoSource | None:
    """The participant's view (the first, when several show them)."""
    own = [v for v in views if v.participant_id == p.id]
    if not own:
        return None
    v = own[0]
    if len(own) > 1:
        warn("faces", "several_views", f"{len(own)} views show this participant; analysing {v.name!r} only")
    path = project.media_path(v.path)
    return VideoSource(str(path), v.id, v.name, v.crop, v.offset_us, v.frame_count, _hash(path, hashes))


# -- running ----------------------------------------------------------------------------------------------

class _Progress:
    """Turns per-task fractions into the total and per-session callbacks."""

    def __init__(self, tasks: list[AnalysisTask], progress: ProgressCallback | None,
                 session_progress: ProgressCallback | None) -> None:
        self.tasks = {(t.key, t.task): t for t in tasks}
        self.fraction = dict.fromkeys(self.tasks, 0.0)
        self.progress, self.session_progress = progress, session_progress

    def update(self, key: str, task: str, fraction: float) -> None:
        self.fraction[(key, task)] = max(self.fraction[(key, task)], min(fraction, 1.0))
        t = self.tasks[(key, task)]
        report(self.progress, sum(self.fraction.values()), len(self.fraction), t.label)
        same = [k for k, other in self.tasks.items() if other.session_id == t.session_id]
        report(self.session_progress, sum(self.fraction[k] for k in same), len(same), t.session_name)


def analyze_project(project: Any, sessions: Iterable[int | str] | None = None, what: Sequence[str] = DEFAULT_WHAT,
                    workers: int = 1, progress: ProgressCallback | None = None, *,
                    params: dict[str, dict[str, Any]] | None = None,
                    session_progress: ProgressCallback | None = None, engine: Engine | None = None) -> AnalysisSummary:
    """Analyse the chosen sessions (all by default); ``what`` ⊆ faces, audio, pose.

    ``engine`` runs the work items (``core.engine``); without one, ``workers`` ≤ 1 runs them in this
    process and ``workers`` > 1 on a Dask LocalCluster of that many processes, started and closed here.
    ``params`` overrides task parameters, e.g. ``{"audio": {"window": 1064}}``. Raising ``Cancelled``
    from ``progress`` stops the run; finished results and chunks stay cached, unfinished ones leave nothing
    behind. Only this process writes the database.
    """
    start = time.perf_counter()
    cache = FeatureCache(project.root)
    cache.remove_stale_temp_dirs()
    tasks, warnings = plan_tasks(project, sessions, what, params)
    summary = AnalysisSummary(warnings=list(warnings))
    tracker = _Progress(tasks, progress, session_progress)
    todo = []
    for t in tasks:
        if cache.is_done(t.session_id, t.participant_id, t.task, t.key):
            _finish(project, t, run_task(t), summary, tracker)  # reads the manifest, computes nothing
        else:
            todo.append(t)
    if engine is None and todo:
        from dyadlab.core.engine import EngineSpec, open_engine

        with open_engine(EngineSpec.for_workers(workers)) as own:
            _run(project, todo, summary, tracker, own)
    elif todo:
        _run(project, todo, summary, tracker, engine)
    summary.elapsed_s = time.perf_counter() - start
    order = {(t.session_name, t.participant_code, t.task): i for i, t in enumerate(tasks)}
    summary.results.sort(key=lambda r: order.get((r.session_name, r.participant_code, r.task), 0))
    return summary


def _run(project: Any, todo: list[AnalysisTask], summary: AnalysisSummary, tracker: _Progress, engine: Engine) -> None:
    """Cut the tasks into items and run them, the longest first; the engine's workers start meanwhile."""
    engine.prepare()  # worker processes come up while the frame indexes of the views are read or built
    work = _WorkPlan(project, todo, summary, tracker)
    if work.items:
        engine.run(run_work, work.items, on_progress=work.progress, on_done=work.done)


class _WorkPlan:
    """The work items of the tasks to compute, and the client's side of their outcomes: progress per task
    (chunks weighted by their frames) and each task finished — chunked ones once all their chunks are in."""

    def __init__(self, project: Any, todo: list[AnalysisTask], summary: AnalysisSummary,
                 tracker: _Progress) -> None:
        self.project, self.summary, self.tracker = project, summary, tracker
        self.items: list[WorkItem] = []
        self.chunks: dict[tuple[str, str], list[ChunkTask]] = {}
        self.results: dict[tuple[str, str], list[ChunkResult]] = {}
        self.chunk_fraction: dict[str, float] = {}
        for t in todo:
            if t.task not in CHUNKED_TASKS:
                self.items.append(WorkItem(f"{t.task}-{t.key}", t.label, t))
                continue
            try:
                planned = plan_chunks(t)
            except DyadLabError:  # an unreadable view: the task fails here, as run_task says
                _finish(project, t, run_task(t), summary, tracker)
                continue
            self.chunks[(t.key, t.task)] = planned
            self.results[(t.key, t.task)] = []
            self.items.extend(WorkItem(c.key, c.label, c) for c in planned)
        # longest first: on N workers the run ends with short items, not with one long item running alone
        self.items.sort(key=lambda item: -expected_cost_s(item.payload))

    def progress(self, item: WorkItem, fraction: float) -> None:
        payload = item.payload
        if not isinstance(payload, ChunkTask):
            self.tracker.update(payload.key, payload.task, fraction)
            return
        t = payload.task
        self.chunk_fraction[item.key] = fraction
        planned = self.chunks[(t.key, t.task)]
        total = sum(c.rows for c in planned) or 1
        self.tracker.update(t.key, t.task, sum(self.chunk_fraction.get(c.key, 0.0) * c.rows for c in planned) / total)

    def done(self, item: WorkItem, outcome: Outcome) -> None:
        payload = item.payload
        if not isinstance(payload, ChunkTask):
            result = outcome.value if outcome.error is None else _failed(payload, outcome.error)
            self._ran(item, outcome, float(result.stats.get("cpu_s", 0.0)))
            _finish(self.project, payload, result, self.summary, self.tracker)
            return
        t = payload.task
        got = outcome.value if outcome.error is None else ChunkResult(payload.index, payload.rows,
                                                                      error=f"{payload.where}: {outcome.error}")
        self._ran(item, outcome, got.cpu_s)
        self.progress(item, 1.0)
        results = self.results[(t.key, t.task)]
        results.append(got)
        if len(results) == len(self.chunks[(t.key, t.task)]):
            _finish(self.project, t, finish_chunked(t, results), self.summary, self.tracker)


    def _ran(self, item: WorkItem, outcome: Outcome, cpu_s: float) -> None:
        self.summary.timeline.append(ItemSpan(item.label, outcome.worker, outcome.started, outcome.ended, cpu_s))


def _failed(task: AnalysisTask, error: str) -> TaskResult:
    result = TaskResult.of(task)
    result.error = error
    result.warn("failed", f"not analysed ({error})")
    return result


def _finish(project: Any, task: AnalysisTask, result: TaskResult, summary: AnalysisSummary,
            tracker: _Progress) -> None:
    if task.task == "pose" and result.error is None and result.result_dir and task.video is not None:
        from dyadlab.core.features.pose import write_keypoint_series

        write_keypoint_series(project.store, session_id=task.session_id, participant_id=task.participant_id,
                              view_id=task.video.view_id, result_dir=Path(result.result_dir), key=task.key)
    summary.results.append(result)
    summary.warnings.extend(result.warnings)
    tracker.update(task.key, task.task, 1.0)


def cache_listing(project: Any) -> list[dict[str, Any]]:
    """One row per cached result (session and participant names from the store where they still exist)."""
    cache = FeatureCache(project.root)
    with project.store.transaction() as tx:
        sessions = {s.id: s.name for s in tx.sessions.list()}
        codes = {p.id: p.code for p in tx.participants.list()}
    rows = []
    for e in cache.entries():
        rows.append({"session": sessions.get(e.session_id, f"#{e.session_id} (deleted)"),
                     "participant": codes.get(e.participant_id, f"#{e.participant_id}"), "task": e.task,
                     "frames": e.manifest.get("frames", 0), "valid": e.manifest.get("valid_frames", 0),
                     "bytes": e.size_bytes(), "created": e.created[:19], "key": e.path.name,
                     "warnings": len(e.manifest.get("warnings", [])), "path": str(e.path)})
    return rows

