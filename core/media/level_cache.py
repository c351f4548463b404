"""The disk cache of an audio file's summary levels (waveform min/max, spectrogram log-mel).

Why one module: a summary of a long recording takes seconds to build and is drawn on every open, so it is
saved next to the project's other caches and read back while it still describes the same file. Both
summaries are entries of ``file_cache`` (valid only for the same file state, format and building
parameters); this module names them per channel and sample rate and gives the build-or-restore step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from dyadlab.core.media.file_cache import cache_key, load_entry, save_entry

if TYPE_CHECKING:
    from dyadlab.core.media.audio import AudioReader

Summary = TypeVar("Summary")
Levels = dict[str, np.ndarray]


def reader_cache_file(cache_dir: str | Path, reader: AudioReader, kind: str) -> Path:
    """Where a summary (``kind``: "wave", "mel") of a mono reader's signal is cached: by file, channel and rate."""
    spec = "mix" if reader.channel_spec in (None, "mix") else str(reader.channel_spec)
    return Path(cache_dir) / f"{cache_key(reader.path)}-{spec}-{reader.sample_rate}.{kind}.npz"


def cached_build(cache_dir: str | Path | None, reader: AudioReader, kind: str, params: Mapping[str, object],
                 restore: Callable[[dict, Levels], Summary], build: Callable[[], Summary],
                 store: Callable[[Summary], tuple[dict, Levels]]) -> Summary:
    """The summary from the cache when valid (``restore(meta, arrays)``), else ``build()`` and save what
    ``store(summary)`` gives (extra meta, arrays). ``cache_dir`` None: build, no cache."""
    cache_file = None if cache_dir is None else reader_cache_file(cache_dir, reader, kind)
    if cache_file is not None:
        hit = load_entry(cache_file, reader.path, params)
        if hit is not None:
            return restore(*hit)
    summary = build()
    if cache_file is not None:
        extra, arrays = store(summary)
        save_entry(cache_file, reader.path, {**params, **extra}, arrays)
    return summary


def numbered(arrays: Levels, prefix: str) -> list[np.ndarray]:
    """``arrays[prefix0], arrays[prefix1], …`` up to the first missing number."""
    out: list[np.ndarray] = []
    while f"{prefix}{len(out)}" in arrays:
        out.append(arrays[f"{prefix}{len(out)}"])
    return out
