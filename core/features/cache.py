"""The on-disk feature cache: where analysis results live, how they are keyed, and how to read them.

Analysis is expensive (face mesh on every frame, 6373 openSMILE functionals per window), so every
result is written once under ``<project>/cache/features/`` and reused until its inputs change.

Layout (format 2, ``chunk_store``): ``s<session id>/p<participant id>/<task>/<key>/`` holding
``chunks/*.dlc`` (each a run of rows of every array, encoded as ``array_codecs.STORAGE`` says: JPEG face
crops, float16 / 8-bit features, fixed-point coordinates) and a ``manifest.json`` written last.
Format 1 (before issue 22) held one raw ``.npy`` per array; such results are still read (the manifest has no
``format``), and ``analyze`` rebuilds them with a message (``old_format_message``). ``task`` is one of
``TASKS`` (faces, audio, pose). ``key`` is a hash of

* the *content hash* of every media file the result was computed from (``content_hash``: the file size
  plus SHA-256 of 64 KiB chunks at the start, the end and 8 evenly spaced places; the modification
  time is deliberately left out, so copying or touching a project keeps its cache, while re-encoding a
  file changes its size or sampled bytes and therefore its key. An edit that keeps the size and touches
  only unsampled bytes goes unnoticed: ``dyadlab cache clear`` is the remedy);
* the task's parameters (window length, crop size, view crop and offsets, ...);
* ``CODE_VERSIONS[task]``, bumped whenever the code computing that task changes its output;
* ``CACHE_FORMAT``, so a result of another storage format never has the same key.

Each chunk file is written as a hidden ``.tmp-<pid>-...`` file and renamed once complete, and the manifest
is written after every chunk, so a crash never leaves a half-written result that looks finished; an
interrupted ``analyze`` resumes by skipping the results (and, for chunked runs, the chunks) that exist.

``FeatureStore`` is the reader the trainer and the GUI use: ``load(session_id, participant_id, kind)``
gives ``(data, valid, times_us)`` for the kinds in ``ARRAY_KINDS``; ``window`` gives a time range.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from dyadlab.core.atomic_write import write_text_atomically
from dyadlab.core.errors import DyadLabError
from dyadlab.core.features.array_codecs import DERIVED, mfcc_from_logmel
from dyadlab.core.features.chunk_store import (
    CACHE_FORMAT,
    CHUNK_DIR,
    ChunkError,
    ChunkFile,
    ChunkWriter,
    DerivedRows,
    StoredResult,
    chunk_is_complete,
    chunk_path,
    crops_at_size,
    finish_result,
    is_row_array,
    list_chunks,
    rewrite_without,
)

FEATURES_DIR = "features"
MANIFEST = "manifest.json"
CHANGED_MARKER = ".changed"  # rewritten whenever a result is finished or removed: what a window watches


def note_change(features_root: Path) -> None:
    """Tell whoever watches the cache (the project panel's analysis rows) that results changed, whichever
    process changed them (a ``dyadlab analyze`` in a terminal, a Dask worker's client, ``dyadlab cache``)."""
    with contextlib.suppress(OSError):  # a read-only project: nobody can have changed it from here either
        (features_root / CHANGED_MARKER).write_text(str(time.time_ns()), encoding="utf-8")
LAST_USED = "last_used"  # ISO time an analysis run last chose this result (FeatureStore serves the newest)
TMP_PREFIX = ".tmp-"
TASKS: tuple[str, ...] = ("faces", "audio", "pose")

# Bump a task's version when its output changes for the same input and parameters (and say why in
# ``tasks.CODE_CHANGES``). audio 2: ComParE's utterances from the windows' openSMILE pass.
CODE_VERSIONS: dict[str, int] = {"faces": 1, "audio": 2, "pose": 1}

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


class FeatureDropped(CacheMiss):
    """The result exists but this feature was dropped from it (``dyadlab cache --drop``): analysing again
    finds the result cached and computes nothing, so the way back is clearing the result first."""


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
                       "code_version": CODE_VERSIONS[task], "format": CACHE_FORMAT}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


OPEN_RESULTS = 256  # format-2 results kept open per process (readers of a corpus reopen nothing)
_OPEN_RESULTS: OrderedDict[tuple[str, str, str], StoredResult] = OrderedDict()


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

    @property
    def format(self) -> int:
        """1: the raw ``.npy`` layout before issue 22; 2: chunk files."""
        return int(self.manifest.get("format", 1))

    @property
    def media_s(self) -> float:
        return float(self.manifest.get("media_s", 0.0) or 0.0)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def stored(self) -> StoredResult:
        """The format-2 arrays of this result (``CacheMiss`` for a format-1 one); opened once per process
        (the chunk files stay memory-mapped, decoded blocks and small arrays stay cached)."""
        if self.format != CACHE_FORMAT:
            raise CacheMiss(f"cache format {self.format} is not read as chunks", path=self.path)
        ident = (str(self.path), self.created, json.dumps(self.manifest.get("chunks"), sort_keys=True))
        hit = _OPEN_RESULTS.get(ident)
        if hit is not None:
            _OPEN_RESULTS.move_to_end(ident)
            return hit
        try:
            stored = StoredResult(self.path, self.manifest["chunks"])
        except ChunkError as exc:
            raise CacheMiss(f"the cached {self.task} result is damaged: {exc.problem}", path=exc.path,
                            hint="run `dyadlab cache clear` for it and analyse again") from None
        _OPEN_RESULTS[ident] = stored
        if len(_OPEN_RESULTS) > OPEN_RESULTS:
            _OPEN_RESULTS.popitem(last=False)
        return stored

    def names(self) -> list[str]:
        """The arrays this result holds."""
        if self.format == 1:
            return sorted(p.name[:-4] for p in self.path.glob("*.npy"))
        stored = set(self.manifest.get("arrays", {}))
        derived = {name for (task, name), source in DERIVED.items() if task == self.task and source in stored
                   and name not in self.manifest.get("dropped", [])}
        return sorted(stored | derived)

    def array(self, name: str, *, mmap: bool = True) -> Any:
        """Array ``name`` of this result, whatever the format (an ndarray, memmap or ``ChunkedArray``)."""
        if self.format == 1:
            path = self.path / f"{name}.npy"
            if not path.is_file():
                raise CacheMiss(f"{name} is not part of this {self.task} result", path=self.path)
            return np.load(path, mmap_mode="r" if mmap else None)
        if self.format != CACHE_FORMAT:
            raise CacheMiss(f"cache format {self.format} of this {self.task} result is newer than this DyadLab "
                            f"reads ({CACHE_FORMAT})", path=self.path, hint="update DyadLab or clear the cache")
        stored = self.stored()
        if name not in stored and name in self.names():
            derived = self._derived(name, stored)
            return derived if mmap else np.asarray(derived)
        if name not in stored:
            dropped = name in self.manifest.get("dropped", [])
            why = "was dropped from the cache (`dyadlab cache --drop`)" if dropped else "is not part of this result"
            raise (FeatureDropped if dropped else CacheMiss)(
                f"{name} {why} ({self.task})", path=self.path,
                hint=f"`dyadlab cache clear PROJECT --what {self.task}`, then analyse again")
        return stored.array(name) if mmap else stored.values(name)


    def _derived(self, name: str, stored: StoredResult) -> DerivedRows:
        source = stored.array(DERIVED[(self.task, name)])
        if name == "mfcc":
            n_mfcc = int(self.manifest.get("params", {}).get("n_mfcc", 40))
            return DerivedRows(source, lambda logmel: mfcc_from_logmel(logmel, n_mfcc))
        raise CacheMiss(f"no rule derives {name}", path=self.path)


def old_format_message(entry: CacheEntry) -> str:
    """What ``analyze`` says when it rebuilds a result stored in an older cache format."""
    who = f"{entry.manifest.get('session', entry.session_id)}/{entry.manifest.get('participant', entry.participant_id)}"
    return f"cache format {entry.format} found for {who} {entry.task}; rebuilding in format {CACHE_FORMAT}"


class ResultWriter:
    """Collects the arrays of one whole result (one process, all rows) and publishes it in format 2.

    Frame-aligned arrays go to chunk 0, ``*_utterances*`` arrays to ``whole.dlc``; nothing reaches the disk
    before ``commit``, which writes the chunk files atomically and the manifest last. Leaving the block
    without ``commit`` (an exception, a cancel) writes nothing. ``open_memmap`` returns a ``RowSink`` that
    encodes rows as they are written (face crops become JPEG frame by frame).
    """

    def __init__(self, final_dir: Path, task: str) -> None:
        self.final_dir, self.task = Path(final_dir), task
        self._chunk = ChunkWriter(self.final_dir, task, index=0)
        self._whole: dict[str, np.ndarray] = {}
        self._committed = False

    def open_memmap(self, name: str, shape: tuple[int, ...], dtype: Any) -> Any:
        return self._chunk.open_memmap(name, shape, dtype)

    def save(self, name: str, array: np.ndarray) -> None:
        if is_row_array(name):
            self._chunk.save(name, array)
        else:
            self._whole[name] = np.asarray(array)

    def commit(self, manifest: dict[str, Any]) -> Path:
        if (self.final_dir / MANIFEST).is_file():  # another run finished the same result first
            self._committed = True
            return self.final_dir
        encoded = self._chunk.encoded()
        rows = encoded["times_us"].shape[0] if "times_us" in encoded else max(
            (e.shape[0] for e in encoded.values()), default=0)
        self._chunk.rows = rows
        for name, enc in encoded.items():
            if enc.shape[0] != rows:
                raise ValueError(f"{name!r} has {enc.shape[0]} rows but the result has {rows} frames")
        for _, stale in list_chunks(self.final_dir):  # left by an interrupted chunked run of this key
            if stale.name != chunk_path(self.final_dir, 0).name:
                stale.unlink(missing_ok=True)
        self._chunk.commit()
        finish_result(self.final_dir, manifest, rows=rows, whole=self._whole, task=self.task)
        self._committed = True
        note_change(self.final_dir.parents[3])  # <features>/s<session>/p<participant>/<task>/<key>
        return self.final_dir

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._whole.clear()


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
        return ResultWriter(self.result_dir(session_id, participant_id, task, key), task)

    # -- chunked results (time-chunk tasks; see /work/helpers/22-interface.md) ---------------------------
    def chunk_writer(self, session_id: int, participant_id: int, task: str, key: str, *, index: int,
                     first_row: int, rows: int) -> ChunkWriter:
        """Writer of time chunk ``index`` (rows ``first_row .. first_row + rows``) of one result."""
        return ChunkWriter(self.result_dir(session_id, participant_id, task, key), task, index=index,
                           first_row=first_row, rows=rows)

    def chunk_done(self, session_id: int, participant_id: int, task: str, key: str, *, index: int) -> bool:
        """Chunk ``index`` is on disk and complete (size and checksum check)."""
        return chunk_is_complete(chunk_path(self.result_dir(session_id, participant_id, task, key), index))

    def chunk_meta(self, session_id: int, participant_id: int, task: str, key: str, *, index: int
                   ) -> dict[str, Any]:
        """The ``meta`` chunk ``index`` was committed with."""
        return ChunkFile(chunk_path(self.result_dir(session_id, participant_id, task, key), index)).meta

    def partial(self, session_id: int, participant_id: int, task: str, key: str) -> StoredResult:
        """The chunks of a result written so far (before ``finish_result``)."""
        return StoredResult(self.result_dir(session_id, participant_id, task, key))

    def finish_result(self, session_id: int, participant_id: int, task: str, key: str,
                      manifest: dict[str, Any], *, rows: int, whole: dict[str, np.ndarray] | None = None) -> Path:
        """Declare a chunked result complete (checks its chunks cover ``rows``; writes the manifest last)."""
        done = finish_result(self.result_dir(session_id, participant_id, task, key), manifest, rows=rows,
                             whole=whole, task=task)
        note_change(self.root)
        return done

    # -- older formats -------------------------------------------------------------------------------------
    def old_format_entries(self, session_id: int, participant_id: int, task: str) -> list[CacheEntry]:
        """Finished results of this participant and task stored in an older cache format."""
        return [e for e in self.entries(session_id=session_id, participant_id=participant_id, task=task)
                if e.format < CACHE_FORMAT]

    def retire_old_results(self, session_id: int, participant_id: int, task: str) -> list[str]:
        """Call when a result of this participant and task has been finished in the current format: deletes
        the older-format results it replaces and returns one ``old_format_message`` per result deleted."""
        messages = [old_format_message(e) for e in self.old_format_entries(session_id, participant_id, task)]
        self.retire_old_format(session_id, participant_id, task)
        return messages

    def retire_old_format(self, session_id: int, participant_id: int, task: str) -> int:
        """Delete the older-format results of this participant and task (after a rebuild); bytes freed."""
        freed = 0
        for entry in self.old_format_entries(session_id, participant_id, task):
            freed += entry.size_bytes()
            shutil.rmtree(entry.path, ignore_errors=True)
        return freed

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
        """Temp dirs (format 1) and temp chunk files of runs that are no longer alive (an interrupted run)."""
        for pattern in (f"s*/p*/*/{TMP_PREFIX}*", f"s*/p*/*/*/{CHUNK_DIR}/{TMP_PREFIX}*"):
            for path in self.root.glob(pattern):
                pid = path.name[len(TMP_PREFIX):].split("-", 1)[0]
                if not pid.isdigit() or not _pid_alive(int(pid)):
                    yield path

    def unfinished(self, *, session_id: int | None = None, task: str | None = None) -> list[Path]:
        """Result folders holding chunks but no manifest (a chunked run that has not finished)."""
        out = []
        for chunks in self.root.glob(f"s*/p*/*/*/{CHUNK_DIR}"):
            result = chunks.parent
            if (result / MANIFEST).is_file():
                continue
            if session_id is not None and result.parent.parent.parent.name != f"s{session_id}":
                continue
            if task is not None and result.parent.name != task:
                continue
            out.append(result)
        return out

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
        for path in self.unfinished(session_id=session_id, task=task):
            freed += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path, ignore_errors=True)
        if task is None and session_id is None:
            self.remove_stale_temp_dirs()
        if entries:
            note_change(self.root)
        return len(entries), freed

    def drop(self, kind: str) -> tuple[int, int]:
        """Remove one feature kind (its array and own valid/times arrays) from every result that holds it;
        returns (results changed, bytes freed). The results stay usable for their other kinds."""
        if kind not in ARRAY_KINDS:
            raise DyadLabError(f"unknown feature {kind!r}", hint=f"one of {', '.join(ARRAY_KINDS)}")
        task, stem = ARRAY_KINDS[kind]
        names = {stem, f"{stem}.valid", f"{stem}.times_us"}
        changed = freed = 0
        for entry in self.entries(task=task):
            present = names & set(entry.names())
            if not present:
                continue
            if entry.format == 1:
                for name in present:
                    path = entry.path / f"{name}.npy"
                    freed += path.stat().st_size
                    path.unlink()
            else:
                for chunk in entry.manifest.get("chunks", []):
                    freed += rewrite_without(entry.path / chunk["file"], present)
                    chunk["bytes"] = (entry.path / chunk["file"]).stat().st_size
            manifest = dict(entry.manifest, dropped=sorted(set(entry.manifest.get("dropped", [])) | present))
            manifest["arrays"] = {k: v for k, v in manifest.get("arrays", {}).items() if k not in present}
            write_text_atomically(entry.path / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, default=str))
            changed += 1
        if changed:
            note_change(self.root)
        return changed, freed

    def feature_bytes(self, *, as_format_one: bool = False) -> list[dict[str, Any]]:
        """Per feature kind: results, bytes on disk and participant-hours covered (format-2 arrays shared by
        a task's kinds — valid, times_us, unlisted ones — are reported as ``<task> (shared)``).
        ``as_format_one``: the bytes the same arrays would take in the format-1 layout (raw ``.npy``)."""
        stems = {(task, stem): kind for kind, (task, stem) in ARRAY_KINDS.items()}
        rows: dict[str, dict[str, Any]] = {}
        for entry in self.entries():
            sizes = format_one_sizes(entry) if as_format_one else _array_sizes(entry)
            for name, nbytes in sizes.items():
                base = name.split(".", 1)[0]
                kind = stems.get((entry.task, base), f"{entry.task} (shared)")
                row = rows.setdefault(kind, {"feature": kind, "task": entry.task, "bytes": 0, "results": set(),
                                             "hours": 0.0, "formats": set()})
                row["bytes"] += nbytes
                row["formats"].add(entry.format)
                if entry.path not in row["results"]:
                    row["results"].add(entry.path)
                    row["hours"] += entry.media_s / 3600
        out = []
        order = list(ARRAY_KINDS)
        for kind, row in sorted(rows.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0])):
            hours = row["hours"]
            out.append({"feature": kind, "task": row["task"], "results": len(row["results"]), "bytes": row["bytes"],
                        "hours": hours, "bytes_per_hour": row["bytes"] / hours if hours > 0 else float("nan"),
                        "formats": sorted(row["formats"])})
        return out


NPY_HEADER = 128  # bytes before the data in a format-1 ``.npy`` file (numpy's header, padded to 64)


def format_one_sizes(entry: CacheEntry) -> dict[str, int]:
    """Bytes each array of ``entry`` takes (or took) as a format-1 ``.npy`` file: the raw array plus its header
    (what the cache held before issue 22; derived arrays such as MFCC were stored too)."""
    if entry.format == 1:
        return _array_sizes(entry)
    out = {}
    for name in entry.names():
        info = entry.manifest["arrays"].get(name)
        if info is None:  # derived: its shape from the reader
            data = entry.array(name)
            shape, itemsize = data.shape, np.dtype(data.dtype).itemsize
        else:
            shape, itemsize = info["shape"], np.dtype(info["dtype"]).itemsize
        out[name] = NPY_HEADER + int(np.prod(shape, dtype=np.int64)) * itemsize
    return out


def _array_sizes(entry: CacheEntry) -> dict[str, int]:
    """Bytes on disk per array of one result (format 1: the ``.npy`` files; 2: the encoded blocks)."""
    if entry.format == 1:
        return {p.name[:-4]: p.stat().st_size for p in entry.path.glob("*.npy")}
    return {name: int(info.get("bytes", 0)) for name, info in entry.manifest.get("arrays", {}).items()}


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
        self._open: dict[tuple[int, int, str, str | None], LoadedFeature] = {}

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
        """``(data, valid, times_us)`` of ``kind``; ``data`` is read on demand (a ``ChunkedArray`` for format 2,
        a read-only memmap for format 1) unless ``mmap`` is False."""
        if kind not in ARRAY_KINDS:
            raise DyadLabError(f"unknown feature kind {kind!r}", hint=f"one of {', '.join(ARRAY_KINDS)}")
        task, stem = ARRAY_KINDS[kind]
        entry = self.entry(session_id, participant_id, task, key=key)
        names = set(entry.names())
        if stem not in names:
            if entry.format > 1:
                entry.array(stem)  # raises the CacheMiss that says why (dropped / not computed)
            raise CacheMiss(f"{kind} is not part of this {task} result (disabled when it was computed)",
                            path=entry.path)

        def own(name: str, fallback: str) -> np.ndarray:
            return np.asarray(entry.array(name if name in names else fallback, mmap=False))

        return LoadedFeature(entry.array(stem, mmap=mmap), own(f"{stem}.valid", "valid").astype(bool, copy=False),
                             own(f"{stem}.times_us", "times_us").astype(np.int64, copy=False))

    def window(self, session_id: int, participant_id: int, kind: str, start_us: int, end_us: int, *,
               key: str | None = None, size: int | None = None) -> LoadedFeature:
        """The rows of ``kind`` whose time lies in ``[start_us, end_us)`` (decodes only the blocks needed); ``size``:
        face crops at size × size (a model's input: decoded at the DCT scale that fits, see ``crop_codec``). The
        feature stays open in this store for the next window (a newer analysis needs a new ``FeatureStore``)."""
        ident = (session_id, participant_id, kind, key)
        if ident not in self._open:
            self._open[ident] = self.load(session_id, participant_id, kind, key=key)
        data, valid, times = self._open[ident]
        if size is not None:
            if data.ndim != 4:
                raise DyadLabError(f"{kind} are not images: a window of them has no size")
            data = crops_at_size(data, size)
        a, b = np.searchsorted(times, [start_us, end_us], side="left")
        a, b = int(a), int(max(a, b))
        rows = data.read(a, b) if hasattr(data, "read") else np.asarray(data[a:b])
        return LoadedFeature(rows, valid[a:b], times[a:b])

    def utterances(self, session_id: int, participant_id: int) -> list[dict[str, Any]]:
        """The utterances (name, start_us, end_us) whose rows ``*_utterances`` kinds hold, in row order."""
        return list(self.entry(session_id, participant_id, "audio").manifest.get("utterances", []))

