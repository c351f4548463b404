"""The one way DyadLab replaces a file: a reader sees the old content or the new, never part of either.

Status files, training events and checkpoints, frame indexes, waveform and feature caches, proxies and
exports are all written through this module. Each write goes to a hidden temporary file in the target's
folder (same file system, so the final rename is atomic), is flushed and ``fsync``-ed, renamed over the
target with ``os.replace``, and then the folder itself is ``fsync``-ed so the rename survives a power cut.
A write that fails or is interrupted (an exception, a cancel, ``kill -9``) leaves the previous file whole;
an exception also removes the temporary file (a killed process leaves it behind, hidden: ``.name.*.tmp*``).

Use ``write_bytes_atomically`` / ``write_text_atomically`` for data in memory, ``atomic_output`` when a
library writes to an open file (``np.savez``, ``json.dump``), ``atomic_path`` when it wants a path
(``torch.save``, PyAV's muxer), and ``replace_durably`` to publish something built elsewhere (a folder).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TMP_SUFFIX = ".tmp"


def fsync_dir(folder: str | Path) -> None:
    """Make a rename or a creation inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # Windows, or a folder we may not open: the rename is still atomic, only less durable
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (e.g. certain network mounts) refuse fsync on a folder
    finally:
        os.close(fd)


def replace_durably(src: str | Path, dst: str | Path) -> None:
    """``os.replace(src, dst)`` followed by an fsync of ``dst``'s folder."""
    os.replace(src, dst)
    fsync_dir(Path(dst).parent)


def _temp_path(path: Path, suffix: str = "") -> Path:
    """A fresh, hidden file beside ``path`` (created empty, so two writers never share one)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX + suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _fsync_file(path: Path) -> None:
    """Flush ``path``'s data to the disk (through a fresh descriptor: the writer may have closed its own)."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@contextmanager
def atomic_path(path: str | Path, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to; it replaces ``path`` when the block ends.

    ``suffix`` is kept at the end of the temporary name for writers that choose a format by extension.
    Leaving the block with an exception removes the temporary file and leaves ``path`` as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path, suffix)
    try:
        yield tmp
        _fsync_file(tmp)
        replace_durably(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_output(path: str | Path, mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO[Any]]:
    """Yield an open file (``mode`` "wb" or "w") whose content replaces ``path`` when the block ends."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_output writes a whole new file: mode 'w' or 'wb', not {mode!r}")
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding if "b" not in mode else None) as fh:
        yield fh


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` (creating its folder); the file appears complete or not at all."""
    with atomic_output(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Replace ``path`` with ``text`` in UTF-8 (creating its folder); complete or not at all."""
    return write_bytes_atomically(path, text.encode("utf-8"))
