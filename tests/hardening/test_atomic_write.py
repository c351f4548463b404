"""One atomic write for every file DyadLab replaces, proven under a real ``kill -9``.

A child process rewrites one file as fast as it can through ``core.atomic_write`` (every version is a
header, a few MB of one byte value and a SHA-256 of both) and says which version it finished; the parent
reads the file over and over while it does, then SIGKILLs it mid-stream. Every read, and the file left
after the kill, must be one whole version (checksum good) no older than the last one acknowledged.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dyadlab.core.atomic_write import (
    atomic_output,
    atomic_path,
    write_bytes_atomically,
    write_text_atomically,
)

WRITER = r"""
import hashlib, sys
from dyadlab.core.atomic_write import write_bytes_atomically
target, size = sys.argv[1], int(sys.argv[2])
k = 0
while True:
    k += 1
    body = b"%d\n" % k + bytes([k % 256]) * size
    write_bytes_atomically(target, body + hashlib.sha256(body).digest())
    print("WROTE", k, flush=True)
"""


def version_of(data: bytes) -> int:
    """The version a complete file holds; fails the test on a partial or mixed file."""
    body, digest = data[:-32], data[-32:]
    assert len(data) > 32 and hashlib.sha256(body).digest() == digest, f"a reader saw a partial file ({len(data)} B)"
    return int(body.split(b"\n", 1)[0])


def test_a_reader_never_sees_a_partial_file_even_when_the_writer_is_killed(tmp_path):
    target = tmp_path / "status.bin"
    write_bytes_atomically(target, b"0\n" + hashlib.sha256(b"0\n").digest())  # the "old" content
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(4 << 20)], stdout=subprocess.PIPE,
                            text=True)
    reads, last_acked = 0, 0
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # at least one write done: the writer is running
        assert line.startswith("WROTE"), line
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            version_of(target.read_bytes())
            reads += 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        last_acked = max(int(x.split()[1]) for x in [line, *proc.stdout.read().splitlines()] if x.startswith("WROTE"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert reads > 10
    assert version_of(target.read_bytes()) >= last_acked  # acknowledged writes survive the kill
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(name.startswith(".status.bin.") and name.endswith(".tmp") for name in leftovers), leftovers


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "index.npz"
    write_text_atomically(target, "old")
    with pytest.raises(RuntimeError), atomic_output(target) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError), atomic_path(target, suffix=".mp4") as tmp:
        assert tmp.name.startswith(".index.npz.") and tmp.name.endswith(".tmp.mp4")
        tmp.write_bytes(b"half")
        raise RuntimeError("cancelled")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["index.npz"]


def test_every_replaced_file_goes_through_the_one_helper():
    """No module hand-writes its own temp-file-and-rename any more (the 8 copies of issue 24, and a 9th)."""
    root = Path(__file__).resolve().parents[2]
    renames = re.compile(r"os\.replace\(|os\.rename\(|mkstemp\(|tmp\w*\.(replace|rename)\(")
    offenders = [str(p.relative_to(root)) for folder in ("core", "trainer", "app") for p in (root / folder).rglob("*.py")
                 if p.name != "atomic_write.py" and renames.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
