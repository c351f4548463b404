"""The disk cache of an audio file's summary levels (waveform min/max, spectrogram log-mel).

Why one module: a summary of a long recording takes seconds to build and is drawn on every open, so it is
saved next to the project's other caches and read back while it still describes the same file. Both
summaries need the same rules: the entry is valid only for the same source path, size and modification
time, the same cache format and the same building parameters (a changed FFT size must not be read as the
old one); it is written atomically; and any failure to read or write it means "not cached", never an
error, because caching is an optimisation.

An entry is one ``.npz``: ``meta`` (JSON: the signature, the format and the caller's parameters) and the
caller's named arrays.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from dyadlab.core.atomic_write import atomic_output
from dyadlab.core.media.frame_index import cache_key, file_signature

if TYPE_CHECKING:
    from dyadlab.core.media.audio import AudioReader

Summary = TypeVar("Summary")
Levels = dict[str, np.ndarray]


def reader_cache_file(cache_dir: str | Path, reader: AudioReader, kind: str) -> Path:
    """Where a summary (``kind``: "wave", "mel") of a mono reader's signal is cached: by file, channel and rate."""
    spec = "mix" if reader.channel_spec in (None, "mix") else str(reader.channel_spec)
    return Path(cache_dir) / f"{cache_key(reader.path)}-{spec}-{reader.sample_rate}.{kind}.npz"


def _signature(reader: AudioReader) -> dict[str, object]:
    source, size, mtime = file_signature(reader.path)
    return {"source": source, "size": int(size), "mtime": int(mtime)}


def load_levels(cache_file: Path, reader: AudioReader, params: Mapping[str, object]) -> tuple[dict, Levels] | None:
    """``(meta, arrays)`` of a valid entry: same file signature and every item of ``params`` equal; else None."""
    try:
        with np.load(cache_file, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            expected = {**_signature(reader), **params}
            if any(meta.get(key) != value for key, value in expected.items()):
                return None
            return meta, {name: z[name] for name in z.files if name != "meta"}
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # absent, torn or of another layout: rebuilt


def save_levels(cache_file: Path, reader: AudioReader, params: Mapping[str, object], arrays: Levels) -> None:
    """Write an entry atomically (``params``: what ``load_levels`` checks, and anything else to keep)."""
    meta = json.dumps({**_signature(reader), **params}, sort_keys=True)
    try:
        with atomic_output(cache_file) as fh:
            np.savez(fh, meta=np.asarray(meta), **arrays)
    except OSError:
        pass  # caching is an optimisation


def cached_build(cache_dir: str | Path | None, reader: AudioReader, kind: str, params: Mapping[str, object],
                 restore: Callable[[dict, Levels], Summary], build: Callable[[], Summary],
                 store: Callable[[Summary], tuple[dict, Levels]]) -> Summary:
    """The summary from the cache when valid (``restore(meta, arrays)``), else ``build()`` and save what
    ``store(summary)`` gives (extra meta, arrays). ``cache_dir`` None: build, no cache."""
    cache_file = None if cache_dir is None else reader_cache_file(cache_dir, reader, kind)
    if cache_file is not None:
        hit = load_levels(cache_file, reader, params)
        if hit is not None:
            return restore(*hit)
    summary = build()
    if cache_file is not None:
        extra, arrays = store(summary)
        save_levels(cache_file, reader, {**params, **extra}, arrays)
    return summary


def numbered(arrays: Levels, prefix: str) -> list[np.ndarray]:
    """``arrays[prefix0], arrays[prefix1], …`` up to the first missing number."""
    out: list[np.ndarray] = []
    while f"{prefix}{len(out)}" in arrays:
        out.append(arrays[f"{prefix}{len(out)}"])
    return out
