"""Disk cache entries about one media file: a frame index, a waveform or spectrogram summary.

Why one module: every such entry is worth keeping only while it still describes the same file, and the rules
are the same for all of them: the entry names the file's resolved path, size and modification time, the
cache format and the parameters it was built with (a changed FFT size must not be read as the old one); it is
written atomically; and any failure to read or write it means "not cached", never an error, because caching
is an optimisation. An entry is one ``.npz``: ``meta`` (JSON: the signature, the caller's parameters and
anything else the caller keeps) and the caller's named arrays.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dyadlab.core.atomic_write import atomic_output

Arrays = dict[str, np.ndarray]


def file_signature(path: Path) -> tuple[str, int, int]:
    """(resolved path, size, mtime in ns): what makes a cached result about this file still valid."""
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def cache_key(path: Path) -> str:
    """A short stable file name stem for cache entries about ``path`` (by resolved path only)."""
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:20]


def _signature(source: Path) -> dict[str, object]:
    resolved, size, mtime = file_signature(source)
    return {"source": resolved, "size": int(size), "mtime": int(mtime)}


def load_entry(cache_file: Path, source: Path, params: Mapping[str, object]) -> tuple[dict, Arrays] | None:
    """``(meta, arrays)`` of a valid entry about ``source``: the file unchanged and every item of ``params``
    equal; else None (absent, torn, of another layout, about another state of the file)."""
    try:
        with np.load(cache_file, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            expected = {**_signature(source), **params}
            if not isinstance(meta, dict) or any(meta.get(key) != value for key, value in expected.items()):
                return None
            return meta, {name: z[name] for name in z.files if name != "meta"}
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def save_entry(cache_file: Path, source: Path, params: Mapping[str, object], arrays: Arrays) -> None:
    """Write an entry atomically (``params``: what ``load_entry`` checks, and anything else to keep)."""
    try:
        meta = json.dumps({**_signature(source), **params}, sort_keys=True)
        with atomic_output(cache_file) as fh:
            np.savez(fh, meta=np.asarray(meta), **arrays)
    except OSError:
        pass  # a read-only cache only costs a rebuild next time
