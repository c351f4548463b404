"""One unit of analysis work — (session, participant, task) — as a plain picklable description.

The parent process reads the store once and turns each participant into ``AnalysisTask`` objects that
carry everything a worker needs (absolute media paths, crop, offsets, utterances, parameters, cache
key). Workers therefore never open the database: only the parent writes SQL, and a worker process is a
pure function from a task to files in the feature cache plus a ``TaskResult``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyadlab.core.errors import DyadLabError, MediaError
from dyadlab.core.model import CropRect
from dyadlab.core.progress import Cancelled, ProgressCallback


@dataclass(frozen=True)
class VideoSource:
    path: str  # absolute
    view_id: int
    view_name: str
    crop: CropRect | None
    offset_us: int  # session time of the file's time zero
    expected_frames: int | None  # frame count recorded at import (to notice a truncated file)
    content_hash: str


@dataclass(frozen=True)
class AudioSource:
    path: str
    track_id: int
    track_name: str
    channel: int | None  # None: average all channels (a mix)
    offset_us: int
    content_hash: str
    own_channel: bool  # True when the channel is mapped to this participant, False for a mix
    duration_us: int | None = None  # as recorded at import: what the item will cost (the order items run in)


@dataclass(frozen=True)
class UtteranceSpan:
    name: str
    start_us: int
    end_us: int


@dataclass(frozen=True)
class AnalysisTask:
    task: str  # "faces" | "audio" | "pose"
    project_root: str
    session_id: int
    session_name: str
    participant_id: int
    participant_code: str
    video: VideoSource | None
    audio: AudioSource | None = None
    utterances: tuple[UtteranceSpan, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    index_subdir: str = "cache/frame_index"  # frame-index cache folder, relative to project_root

    @property
    def index_dir(self) -> Path:
        return Path(self.project_root) / self.index_subdir

    @property
    def label(self) -> str:
        return f"{self.session_name}/{self.participant_code} {self.task}"


@dataclass(frozen=True)
class TaskWarning:
    """Something a user should look at; never fatal. ``code`` is stable for tests and filters."""

    session: str
    participant: str
    task: str
    code: str  # no_face | multiple_faces | few_faces | truncated | silent | clipped | length_mismatch |
    #            resampled | no_audio | no_view | mix_audio | no_pose | crop | nonfinite | unreadable |
    #            several_views | failed | damaged | old_cache
    message: str

    def __str__(self) -> str:
        return f"{self.session}/{self.participant} {self.task}: {self.message}"


@dataclass
class TaskResult:
    task: str
    session_id: int
    session_name: str
    participant_id: int
    participant_code: str
    frames: int = 0
    valid_frames: int = 0
    elapsed_s: float = 0.0  # compute time of the run that made the result (0 for nothing computed)
    media_s: float = 0.0  # seconds of media the result covers
    cached: bool = False
    result_dir: str | None = None
    warnings: list[TaskWarning] = field(default_factory=list)
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, task: AnalysisTask) -> TaskResult:
        return cls(task.task, task.session_id, task.session_name, task.participant_id, task.participant_code)

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(TaskWarning(self.session_name, self.participant_code, self.task, code, message))


def run_task(task: AnalysisTask, progress: ProgressCallback | None = None) -> TaskResult:
    """Compute one task into the feature cache (or find it there). Never raises for bad media:
    problems become warnings, and an unexpected failure becomes ``error`` with a ``failed`` warning."""
    import json

    from dyadlab.core.features.cache import MANIFEST, FeatureCache

    cache = FeatureCache(task.project_root)
    final = cache.result_dir(task.session_id, task.participant_id, task.task, task.key)
    if (final / MANIFEST).is_file():
        cache.mark_used(task.session_id, task.participant_id, task.task, task.key)
        return result_from_manifest(json.loads((final / MANIFEST).read_text(encoding="utf-8")), final)
    result = TaskResult.of(task)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        with cache.writer(task.session_id, task.participant_id, task.task, task.key) as writer:
            runner = _runner(task.task)
            runner(task, writer, result, progress)
            result.elapsed_s = time.perf_counter() - start
            result.stats["cpu_s"] = round(time.process_time() - cpu_start, 3)  # all threads of this process
            manifest = manifest_of(task, result)
            result.result_dir = str(writer.commit(manifest))
        for message in cache.retire_old_results(task.session_id, task.participant_id, task.task):
            result.warn("old_cache", message)  # rebuilt in the current format: the old result is deleted
        for message in retire_older_code(task):
            result.warn("old_cache", message)
    except Cancelled:
        raise
    except MediaError as exc:
        result.error = str(exc)
        result.warn("unreadable", f"not analysed: {exc}")
    except DyadLabError as exc:
        result.error = str(exc)
        result.warn("failed", f"not analysed: {exc}")
    except Exception as exc:  # noqa: BLE001 - a worker reports, the run goes on with other tasks
        result.error = f"{type(exc).__name__}: {exc}"
        result.warn("failed", f"not analysed ({result.error})")
    result.elapsed_s = time.perf_counter() - start
    return result


def _runner(name: str):
    if name == "faces":
        from dyadlab.core.features.faces import analyse_faces
        return analyse_faces
    if name == "audio":
        from dyadlab.core.features.audio_features import analyse_audio
        return analyse_audio
    if name == "pose":
        from dyadlab.core.features.pose import analyse_pose
        return analyse_pose
    raise DyadLabError(f"unknown analysis {name!r}", hint="use faces, audio or pose")


# Why each task's ``CODE_VERSIONS`` was last bumped: what ``analyze`` says when it replaces an older result.
CODE_CHANGES: dict[str, str] = {
    "audio": "ComParE's utterance functionals now come from the windows' openSMILE pass (audio_features)",
}


def retire_older_code(task: AnalysisTask) -> list[str]:
    """Call once ``task``'s result is published: deletes this participant's results of the same task that an
    older ``CODE_VERSIONS[task]`` computed (a manifest without ``code_version`` is version 1), so the project
    never serves old values beside new ones, and returns one message per result deleted."""
    import shutil

    from dyadlab.core.features.cache import CODE_VERSIONS, FeatureCache, note_change

    cache = FeatureCache(task.project_root)
    current = CODE_VERSIONS[task.task]
    older = [e for e in cache.entries(session_id=task.session_id, participant_id=task.participant_id,
                                      task=task.task) if int(e.manifest.get("code_version", 1)) < current]
    messages = []
    for entry in older:
        shutil.rmtree(entry.path, ignore_errors=True)
        why = CODE_CHANGES.get(task.task, "its output changed")
        messages.append(f"the cached result of {task.task} code version {entry.manifest.get('code_version', 1)} "
                        f"was recomputed by version {current} ({why}); the old result is deleted")
    if older:
        note_change(cache.root)
    return messages


def manifest_of(task: AnalysisTask, result: TaskResult) -> dict[str, Any]:
    from dyadlab.core.features.cache import CODE_VERSIONS

    media = [s for s in (task.video, task.audio) if s is not None]
    return {
        "task": task.task, "key": task.key, "code_version": CODE_VERSIONS[task.task],
        "session_id": task.session_id, "session": task.session_name,
        "participant_id": task.participant_id, "participant": task.participant_code,
        "params": task.params,
        "media": [{"path": s.path, "content_hash": s.content_hash} for s in media],
        "view_id": task.video.view_id if task.video else None,
        "frames": result.frames, "valid_frames": result.valid_frames, "elapsed_s": round(result.elapsed_s, 3),
        "media_s": result.media_s, "stats": result.stats,
        "warnings": [{"code": w.code, "message": w.message} for w in result.warnings],
        "utterances": [{"name": u.name, "start_us": u.start_us, "end_us": u.end_us} for u in task.utterances]
        if task.task == "audio" else [],
    }


def result_from_manifest(manifest: dict[str, Any], path: Any) -> TaskResult:
    """The ``TaskResult`` of a cached result: what was found then, ``cached=True``, no compute time."""
    r = TaskResult(manifest["task"], int(manifest["session_id"]), manifest["session"],
                   int(manifest["participant_id"]), manifest["participant"],
                   frames=int(manifest["frames"]), valid_frames=int(manifest["valid_frames"]),
                   media_s=float(manifest["media_s"]), cached=True, result_dir=str(path),
                   stats=dict(manifest.get("stats", {})))
    for w in manifest.get("warnings", []):
        r.warn(w["code"], w["message"])
    return r
