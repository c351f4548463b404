"""The on-disk feature cache: where analysis results live, how they are keyed, and how to read them.

Analysis is expensive (face mesh on every frame, 6373 openSMILE functionals per window), so every
result is written once under ``<project>/cache/features/`` and reused until its inputs change.

Layout: ``s<session id>/p<participant id>/<task>/<key>/`` holding one ``.npy`` per array and a
``manifest.json`` written last. ``task`` is one of ``TASKS`` (faces, audio, pose). ``key`` is a hash of

* the *content hash* of every media file the result was computed from (``content_hash``: the file size
  plus SHA-256 of 64 KiB chunks at the start, the end and 8 evenly spaced places; the modification
  time is deliberately left out, so copying or touching a project keeps its cache, while re-encoding a
  file changes its size or sampled bytes and therefore its key. An edit that keeps the size and touches
  only unsampled bytes goes unnoticed: ``dyadlab cache clear`` is the remedy);
* the task's parameters (window length, crop size, view crop and offsets, ...);
* ``CODE_VERSIONS[task]``, bumped whenever the code computing that task changes its output.

A result is written into a hidden ``.tmp-<pid>-...`` directory next to its final place and renamed with
``core.atomic_write.replace_durably`` once complete, so a crash never leaves a half-written result that looks finished; an
interrupted ``analyze`` resumes by skipping the (session, participant, task) results that exist.

``FeatureStore`` is the reader the trainer and the GUI use: ``load(session_id, participant_id, kind)``
gives ``(data, valid, times_us)`` for the kinds in ``ARRAY_KINDS``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from dyadlab.core.atomic_write import replace_durably, write_text_atomically
from dyadlab.core.errors import DyadLabError

FEATURES_DIR = "features"
MANIFEST = "manifest.json"
LAST_USED = "last_used"  # ISO time an analysis run last chose this result (FeatureStore serves the newest)
TMP_PREFIX = ".tmp-"
TASKS: tuple[str, ...] = ("faces", "audio", "pose")

# Bump a task's version when its output changes for the same input and parameters.
CODE_VERSIONS: dict[str, int] = {"faces": 1, "audio": 1, "pose": 1}

# kind -> (task, array file stem). Frame-aligned arrays share the result's valid.npy / times_us.npy
# unless a "<stem>.valid.npy" / "<stem>.times_us.npy" of their own exists (per-utterance arrays).
ARRAY_KINDS: dict[str, tuple[str, str]] = {
    "faces": ("faces", "crops"),  # uint8 [N, S, S, 3] RGB aligned crops (S = 224)
    "face_landmarks": ("faces", "landmarks"),  # float32 [N, 478, 3] view pixels (z in pixel scale)
    "face_boxes": ("faces", "boxes"),  # float32 [N, 4] x, y, w, h view pixels
    "face_eye_angle": ("faces", "eye_angle"),  # float32 [N] degrees, eye line below horizontal
    "face_affine": ("faces", "affine"),  # float32 [N, 2, 3] view pixels -> crop pixels
    "face_score": ("faces", "score"),  # float32 [N] detection confidence 0..1
    "face_flags": ("faces", "flags"),  # uint8 [N] FaceFlag bits
    "audio_windows": ("audio", "windows"),  # float32 [N, L] 16 kHz samples centred on frame times
    "logmel": ("audio", "logmel"),  # float32 [N, n_mels, T]
    "mfcc": ("audio", "mfcc"),  # float32 [N, n_mfcc, T]
    "compare": ("audio", "compare"),  # float32 [N, 6373] openSMILE ComParE_2016 functionals
    "egemaps": ("audio", "egemaps"),  # float32 [N, 88] openSMILE eGeMAPSv02 functionals
    "vad": ("audio", "vad"),  # float32 [N] 1 speech / 0 silence
    "rms_db": ("audio", "rms_db"),  # float32 [N] window RMS in dBFS
    "compare_utterances": ("audio", "compare_utterances"),  # float32 [U, 6373], times = utterance start
    "egemaps_utterances": ("audio", "egemaps_utterances"),  # float32 [U, 88]
    "pose": ("pose", "pose"),  # float32 [N, 33, 4] x, y (view px), z, visibility; NaN when absent
    "hands": ("pose", "hands"),  # float32 [N, 2, 21, 3] person's left, right hand x, y, z; NaN absent
}

_CHUNK = 64 * 1024
_N_MIDDLE_CHUNKS = 8


class CacheMiss(DyadLabError):
    """The requested feature has not been computed (or was cleared)."""


def content_hash(path: str | Path) -> str:
    """A fast, modification-time-independent fingerprint of a media file (see the module docstring)."""
    path = Path(path)
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    offsets = {0, max(size - _CHUNK, 0)}
    offsets.update(int(size * (i + 1) / (_N_MIDDLE_CHUNKS + 1)) for i in range(_N_MIDDLE_CHUNKS))
    with path.open("rb") as f:
        for offset in sorted(offsets):
            f.seek(offset)
            h.update(f.read(_CHUNK))
    return h.hexdigest()[:32]


def result_key(task: str, media_hashes: list[str], params: dict[str, Any]) -> str:
    """The cache key of one result: media content + parameters + code version."""
    blob = json.dumps({"task": task, "media": media_hashes, "params": params,
                       "code_version": CODE_VERSIONS[task]}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class CacheEntry:
    """One finished result on disk."""

    path: Path
    manifest: dict[str, Any]

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def session_id(self) -> int:
        return int(self.manifest["session_id"])

    @property
    def participant_id(self) -> int:
        return int(self.manifest["participant_id"])

    @property
    def created(self) -> str:
        return self.manifest.get("created", "")

    @property
    def used(self) -> str:
        """When an analysis run last produced or reused this result (ISO, UTC)."""
        try:
            return max((self.path / LAST_USED).read_text(encoding="utf-8").strip(), self.created)
        except OSError:
            return self.created

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())


class ResultWriter:
    """Collects the arrays of one result in a temp directory and publishes them atomically.

    Use as a context manager: leaving the block without ``commit`` (an exception, a cancel) deletes the
    temp directory, so nothing half-written is ever visible under the final name.
    """

    def __init__(self, final_dir: Path) -> None:
        self.final_dir = final_dir
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%H%M%S%f")
        self.dir = final_dir.parent / f"{TMP_PREFIX}{os.getpid()}-{stamp}-{final_dir.name}"
        self.dir.mkdir()
        self.arrays: dict[str, dict[str, Any]] = {}
        self._committed = False

    def open_memmap(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.memmap:
        """A zero-filled array backed by ``<name>.npy`` (written progressively, e.g. face crops)."""
        arr = np.lib.format.open_memmap(self.dir / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)
        self.arrays[name] = {"shape": list(shape), "dtype": np.dtype(dtype).str}
        return arr

    def save(self, name: str, array: np.ndarray) -> None:
        array = np.ascontiguousarray(array)
        np.save(self.dir / f"{name}.npy", array, allow_pickle=False)
        self.arrays[name] = {"shape": list(array.shape), "dtype": array.dtype.str}

    def commit(self, manifest: dict[str, Any]) -> Path:
        manifest = dict(manifest, arrays=self.arrays, created=dt.datetime.now(dt.UTC).isoformat())
        write_text_atomically(self.dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, default=str))
        try:
            replace_durably(self.dir, self.final_dir)
        except OSError:
            if not (self.final_dir / MANIFEST).is_file():
                raise
            shutil.rmtree(self.dir, ignore_errors=True)  # another run finished the same result first
        self._committed = True
        return self.final_dir

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed:
            shutil.rmtree(self.dir, ignore_errors=True)


class LoadedFeature(NamedTuple):
    """What ``FeatureStore.load`` returns; unpacks as ``data, valid, times_us``."""

    data: np.ndarray  # read-only memmap (or array) as documented in ARRAY_KINDS
    valid: np.ndarray  # bool [N]: False where nothing was found / computed (data is zeros or NaN there)
    times_us: np.ndarray  # int64 [N]: session time of each row (frame presentation time; utterance start)


class FeatureCache:
    """The cache folder of one project: paths, lookups, listing and clearing (no SQL, no Qt)."""

    def __init__(self, project_root: str | Path) -> None:
        self.root = Path(project_root) / "cache" / FEATURES_DIR

    def task_dir(self, session_id: int, participant_id: int, task: str) -> Path:
        return self.root / f"s{session_id}" / f"p{participant_id}" / task

    def result_dir(self, session_id: int, participant_id: int, task: str, key: str) -> Path:
        return self.task_dir(session_id, participant_id, task) / key

    def is_done(self, session_id: int, participant_id: int, task: str, key: str) -> bool:
        return (self.result_dir(session_id, participant_id, task, key) / MANIFEST).is_file()

    def writer(self, session_id: int, participant_id: int, task: str, key: str) -> ResultWriter:
        return ResultWriter(self.result_dir(session_id, participant_id, task, key))

    def entries(self, *, session_id: int | None = None, participant_id: int | None = None,
                task: str | None = None) -> list[CacheEntry]:
        """Finished results, least recently used first."""
        out: list[CacheEntry] = []
        for manifest_file in self.root.glob("s*/p*/*/*/" + MANIFEST):
            if manifest_file.parent.name.startswith(TMP_PREFIX):
                continue
            try:
                manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            entry = CacheEntry(manifest_file.parent, manifest)
            if session_id is not None and entry.session_id != session_id:
                continue
            if participant_id is not None and entry.participant_id != participant_id:
                continue
            if task is not None and entry.task != task:
                continue
            out.append(entry)
        return sorted(out, key=lambda e: (e.used, str(e.path)))

    def mark_used(self, session_id: int, participant_id: int, task: str, key: str) -> None:
        """Record that a run chose this result, so ``FeatureStore`` serves it (not an older variant)."""
        path = self.result_dir(session_id, participant_id, task, key) / LAST_USED
        with contextlib.suppress(OSError):  # a read-only cache still serves its results
            path.write_text(dt.datetime.now(dt.UTC).isoformat(), encoding="utf-8")

    def latest(self, session_id: int, participant_id: int, task: str) -> CacheEntry | None:
        """The result the most recent analysis run produced or reused."""
        found = self.entries(session_id=session_id, participant_id=participant_id, task=task)
        return found[-1] if found else None

    def stale_temp_dirs(self) -> Iterator[Path]:
        """Temp dirs of runs that are no longer alive (an interrupted analysis)."""
        for path in self.root.glob(f"s*/p*/*/{TMP_PREFIX}*"):
            pid = path.name[len(TMP_PREFIX):].split("-", 1)[0]
            if not pid.isdigit() or not _pid_alive(int(pid)):
                yield path

    def remove_stale_temp_dirs(self) -> int:
        n = 0
        for path in list(self.stale_temp_dirs()):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            n += 1
        return n

    def clear(self, *, task: str | None = None, session_id: int | None = None) -> tuple[int, int]:
        """Delete finished results (all, or one task and/or session); returns (results, bytes) freed."""
        entries = self.entries(session_id=session_id, task=task)
        freed = 0
        for entry in entries:
            freed += entry.size_bytes()
            shutil.rmtree(entry.path, ignore_errors=True)
        if task is None and session_id is None:
            self.remove_stale_temp_dirs()
        return len(entries), freed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FeatureStore:
    """Read-only access to analysis results for the trainer, inference and the GUI.

    ``load(session_id, participant_id, kind)`` returns the result of the task that makes ``kind`` which
    the latest ``analyze`` run produced or reused (or the one with ``key``), memory-mapped so a training
    set larger than memory still loads.
    """

    def __init__(self, project: Any) -> None:
        """``project``: an open ``Project`` or the project folder."""
        root = project if isinstance(project, str | Path) else project.root
        self.cache = FeatureCache(root)

    def entry(self, session_id: int, participant_id: int, task: str, *, key: str | None = None) -> CacheEntry:
        if key is not None:
            path = self.cache.result_dir(session_id, participant_id, task, key)
            if not (path / MANIFEST).is_file():
                raise CacheMiss(f"no {task} result with key {key} for session {session_id}, "
                                f"participant {participant_id}", path=path, hint="run `dyadlab analyze`")
            return CacheEntry(path, json.loads((path / MANIFEST).read_text(encoding="utf-8")))
        entry = self.cache.latest(session_id, participant_id, task)
        if entry is None:
            raise CacheMiss(f"{task} have not been analysed for session {session_id}, participant "
                            f"{participant_id}", path=self.cache.task_dir(session_id, participant_id, task),
                            hint=f"run `dyadlab analyze PROJECT --what {task}`")
        return entry

    def manifest(self, session_id: int, participant_id: int, task: str) -> dict[str, Any]:
        return self.entry(session_id, participant_id, task).manifest

    def load(self, session_id: int, participant_id: int, kind: str, *, key: str | None = None,
             mmap: bool = True) -> LoadedFeature:
        if kind not in ARRAY_KINDS:
            raise DyadLabError(f"unknown feature kind {kind!r}", hint=f"one of {', '.join(ARRAY_KINDS)}")
        task, stem = ARRAY_KINDS[kind]
        entry = self.entry(session_id, participant_id, task, key=key)
        mode = "r" if mmap else None

        def array(name: str, fallback: str) -> np.ndarray:
            own = entry.path / f"{name}.npy"
            return np.load(own if own.is_file() else entry.path / f"{fallback}.npy", mmap_mode=mode)

        data_file = entry.path / f"{stem}.npy"
        if not data_file.is_file():
            raise CacheMiss(f"{kind} is not part of this {task} result (disabled when it was computed)",
                            path=entry.path)
        return LoadedFeature(np.load(data_file, mmap_mode=mode),
                             np.asarray(array(f"{stem}.valid", "valid"), dtype=bool),
                             np.asarray(array(f"{stem}.times_us", "times_us"), dtype=np.int64))

    def utterances(self, session_id: int, participant_id: int) -> list[dict[str, Any]]:
        """The utterances (name, start_us, end_us) whose rows ``*_utterances`` kinds hold, in row order."""
        return list(self.entry(session_id, participant_id, "audio").manifest.get("utterances", []))

