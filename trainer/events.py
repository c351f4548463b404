"""Progress a watcher can read while training runs: a JSON-lines event log and an atomic status file.

Why: training is a separate process; the GUI (or a shell) follows ``events.jsonl`` line by line and
reads ``status.json`` at any time — including after a GUI restart, to reattach. The status file is
replaced atomically (``core.atomic_write``), so a reader never sees half a file.
Only rank 0 of a distributed run writes either.

Every event line is one JSON object with ``"event"`` and ``"time"`` (Unix seconds), e.g.::

    {"event": "epoch", "fold": "Session5", "stage": "model", "epoch": 3, "epochs": 30, "step": 120,
     "loss": 0.71, "metrics": {"val_ua": 0.64, ...}, "eta_s": 95.2, "time": 1700000000.1}

Events: ``start``, ``fold_start``, ``stage_start``, ``step``, ``epoch``, ``checkpoint``, ``early_stop``,
``fold_end``, ``nan``, ``interrupted``, ``error``, ``done``. Status ``state``: ``running``,
``succeeded``, ``failed``, ``interrupted``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from dyadlab.core.atomic_write import write_text_atomically


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: they become null."""
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(data: Any, **kwargs: Any) -> str:
    return json.dumps(_finite(data), default=_jsonable, allow_nan=False, **kwargs)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` so that readers see either the old or the new file, never a partial one."""
    write_text_atomically(path, dumps(data, indent=2) + "\n")


class EventLog:
    """Appends events to a JSON-lines file and/or stdout; does nothing when ``enabled`` is False."""

    def __init__(self, path: Path | None, *, stdout: bool = False, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self._file = path.open("a", encoding="utf-8") if (enabled and path is not None) else None
        self._stream = (stream or sys.stdout) if (enabled and stdout) else None

    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"event": event, **fields, "time": round(time.time(), 3)}
        if self.enabled:
            line = dumps(record)
            for out in (self._file, self._stream):
                if out is not None:
                    out.write(line + "\n")
                    out.flush()
        return record

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class StatusFile:
    """The run's current state as one JSON object, rewritten atomically on every ``update``."""

    def __init__(self, path: Path, *, enabled: bool = True) -> None:
        self.path = path
        self.enabled = enabled
        self.state: dict[str, Any] = {"pid": os.getpid(), "started_at": round(time.time(), 3)}

    def update(self, **fields: Any) -> None:
        self.state.update(fields)
        self.state["updated_at"] = round(time.time(), 3)
        if self.enabled:
            write_json_atomic(self.path, self.state)
