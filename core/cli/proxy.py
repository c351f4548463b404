"""``dyadlab proxy PROJECT``: make frame-exact all-intra proxies so scrubbing long-GOP videos is instant.

Camera files with a keyframe every few seconds make every exact seek decode hundreds of frames. A proxy
(``<project>/cache/proxies/``) has the same frame timestamps and a keyframe every ``--gop`` frames; the
player uses it automatically when it is present and matches its source.

SIGTERM (a job's Cancel) stops it like Ctrl-C: the proxy being written is deleted, finished ones stay.
Run as a background job (the GUI's "Make proxies for this session"), it also appends
``{"event": "progress", "done", "total", "message"}`` lines to ``$DYADLAB_JOB_EVENTS``, which the Jobs
dock shows as a progress bar.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

JOB_EVENTS_ENV = "DYADLAB_JOB_EVENTS"
EVENT_INTERVAL_S = 0.25

NAME = "proxy"
HELP = "make frame-exact all-intra proxy videos (same timestamps) for fast seeking in long-GOP files"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--sessions", nargs="+", metavar="SESSION", help="only these sessions (names or ids)")
    p.add_argument("--gop", type=int, default=1, help="keyframe every N frames in the proxy (default 1: all-intra)")
    p.add_argument("--force", action="store_true", help="remake proxies even when valid ones exist")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.errors import DyadLabError
    from dyadlab.core.media.proxy import make_project_proxies
    from dyadlab.core.progress import cli_progress
    from dyadlab.core.project import open_project

    if args.gop < 1:
        raise DyadLabError("--gop must be at least 1")
    with _sigterm_as_interrupt(), open_project(args.project) as project, \
            cli_progress("proxy", enabled=not args.quiet) as bar:
        events = os.environ.get(JOB_EVENTS_ENV)
        progress = bar if not events else _also_to_job_events(bar, Path(events))
        outcomes = make_project_proxies(project, sessions=args.sessions, gop=args.gop, force=args.force,
                                        progress=progress)
        if events:
            _append_event(Path(events), {"event": "done"})
    for outcome in outcomes:
        detail = str(outcome.error) if outcome.error else (outcome.proxy.name if outcome.proxy else "")
        print(f"{outcome.status:>10}  {outcome.source.name}  {detail}".rstrip())
    counts = {s: sum(o.status == s for o in outcomes) for s in ("made", "valid", "not needed", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 1 if counts["failed"] else 0


def _append_event(path: Path, event: dict) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(event) + "\n")


def _also_to_job_events(progress: Callable[[float, float, str], None],
                        path: Path) -> Callable[[float, float, str], None]:
    """``progress``, plus a progress event in the job runner's events file a few times a second."""
    last = [0.0]

    def update(done: float, total: float, message: str) -> None:
        progress(done, total, message)
        now = time.monotonic()
        if now - last[0] >= EVENT_INTERVAL_S or done >= total:
            last[0] = now
            _append_event(path, {"event": "progress", "done": done, "total": total, "message": message})

    return update


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A cancelled job gets SIGTERM: unwind like Ctrl-C, so the half-written proxy is deleted on the way out.

    Only in the main thread (where Python delivers signals); the previous handler is restored after.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
