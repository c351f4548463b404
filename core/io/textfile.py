"""Reading corpus text files (annotations, transcripts, subtitles, CSVs) the same forgiving way.

Corpora are decades old and were edited on every operating system: files arrive as UTF-8 with or
without a byte-order mark, sometimes as Latin-1, with Windows or Unix line ends. Every parser in
``core.io`` reads through here so that they all accept the same inputs and report a missing or
unreadable file the same way (an ``ImportFormatError`` naming the file).
"""

from __future__ import annotations

from pathlib import Path

from dyadlab.core.errors import ImportFormatError


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (a BOM is dropped), else Latin-1, with line ends normalised to ``\\n``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFormatError("file not found", path=path) from exc
    except OSError as exc:
        raise ImportFormatError(f"cannot read the file: {exc.strerror}", path=path) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def numbered_lines(path: Path) -> list[tuple[int, str]]:
    """``(line_number, line)`` pairs (1-based, trailing whitespace removed) for error messages."""
    return [(i, line.rstrip()) for i, line in enumerate(read_text(path).split("\n"), start=1)]
