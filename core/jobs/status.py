"""The status file and event log shared by a job process and whoever watches it.

The status file is JSON replaced atomically (``core.atomic_write``), so a reader never
sees half a file; the events file is JSON lines appended by the job (``{"event": "epoch", ...}``) and
read incrementally. Both live in ``<project>/cache/jobs/<id>/``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dyadlab.core.atomic_write import write_text_atomically

FINAL_STATES = ("succeeded", "failed", "cancelled")


@dataclass
class JobStatus:
    state: str  # running | succeeded | failed | cancelled
    pid: int | None = None
    child_pid: int | None = None
    returncode: int | None = None
    message: str = ""
    progress: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def write_status(path: Path, status: JobStatus) -> None:
    """Atomically replace ``path`` with ``status`` as JSON."""
    write_text_atomically(path, json.dumps(asdict(status)))


def read_status(path: Path) -> JobStatus | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("state"), str):
        return None  # damaged: treat as no status (the runner then judges by the process)
    try:
        return JobStatus(**{k: v for k, v in data.items() if k in JobStatus.__dataclass_fields__})
    except TypeError:
        return None


def read_events(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON-lines events after byte ``offset``; returns them and the new offset.

    A trailing partial line (the job is mid-write) is left for the next call.
    """
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    events = []
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(obj, dict):
            events.append(obj)
    return events, offset + end


def log_tail(path: Path | None, lines: int = 20) -> str:
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            text = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
