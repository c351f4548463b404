"""``dyadlab analyze PROJECT``: face crops, audio features and pose for the sessions of a project.

Why a command: analysis takes minutes to hours and is run once per corpus (then cached), typically from a
shell on a bigger machine; the GUI's job runner calls the same ``analyze_project``. This module only parses
arguments, draws the progress bars and prints the summary table and warnings.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from dyadlab.core.engine.cli_options import add_engine_arguments

NAME = "analyze"
HELP = "analyse sessions: aligned face crops, audio windows + features, pose/hands (cached, resumable)"


def _what(text: str) -> list[str]:
    from dyadlab.core.features.cache import TASKS

    items = list(TASKS) if text.strip() == "all" else [w.strip() for w in text.split(",") if w.strip()]
    bad = [w for w in items if w not in TASKS]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TASKS)} or 'all' (got {text!r})")
    return items


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--sessions", nargs="+", metavar="SESSION", help="session names or ids (default: all)")
    p.add_argument("--what", type=_what, default=["faces", "audio"],
                   help="comma-separated: faces, audio, pose, or all (default: faces,audio)")
    p.add_argument("--window", type=int, default=None,
                   help="audio window length in samples at 16 kHz (default 1600; the thesis also uses 1064)")
    p.add_argument("--face-size", type=int, default=None,
                   help="side of the aligned face crops in pixels (default 224, the face CNN's input)")
    p.add_argument("--mesh-every", type=int, default=None, metavar="N",
                   help="face mesh on one tracked frame in N at most, optical flow carrying the landmarks between "
                        "(default 4, eyes within 2 px of meshing every frame); 1 meshes every frame")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_engine_arguments(p)


# option, params key, lowest, highest, unit: each value is checked before anything runs (a clear error, nothing run)
FACE_OPTIONS = (("--face-size", "size", 32, 1024, "pixels"), ("--mesh-every", "mesh_every", 1, 25, "frames"))
# the shortest window holds one log-mel frame (400 samples, 25 ms); the longest is 10 s
AUDIO_OPTIONS = (("--window", "window", 400, 160_000, "samples"),)


def _checked_params(args: argparse.Namespace, options: tuple[tuple[str, str, int, int, str], ...]) -> dict[str, Any]:
    """The parameters the options set, each checked against its range."""
    from dyadlab.core.errors import DyadLabError

    out: dict[str, Any] = {}
    for option, key, low, high, unit in options:
        value = getattr(args, option[2:].replace("-", "_"))
        if value is None:
            continue
        if not low <= value <= high:
            raise DyadLabError(f"{option} must be between {low} and {high} {unit}, got {value}")
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.cli.proxy import (
        JOB_EVENTS_ENV,
        _also_to_job_events,
        _append_event,
        _sigterm_as_interrupt,
    )
    from dyadlab.core.engine import open_engine
    from dyadlab.core.engine.cli_options import engine_spec, print_job_script
    from dyadlab.core.features.pipeline import analyze_project
    from dyadlab.core.native_log import native_stderr_to_log
    from dyadlab.core.progress import cli_progress
    from dyadlab.core.project import open_project

    if print_job_script(args):
        return 0
    spec = engine_spec(args)
    audio = _checked_params(args, AUDIO_OPTIONS)
    params: dict[str, dict[str, Any]] = {"audio": audio} if audio else {}
    faces = _checked_params(args, FACE_OPTIONS)
    if faces:
        params["faces"] = faces
    events = os.environ.get(JOB_EVENTS_ENV)  # run as a GUI job: progress into the Jobs panel too
    # MediaPipe's native log lines (here and in the workers) go to the log file, not the terminal;
    # SIGTERM (a job's Cancel) unwinds like Ctrl-C: the engine cancels its work items on the way out
    with _sigterm_as_interrupt(), native_stderr_to_log(), open_project(args.project) as project, \
            cli_progress("total", enabled=not args.quiet) as total, \
            cli_progress("session", enabled=not args.quiet) as session, \
            open_engine(spec, project_root=project.root) as engine:
        progress = total if not events else _also_to_job_events(total, Path(events))
        summary = analyze_project(project, sessions=args.sessions, what=args.what, progress=progress,
                                  params=params or None, session_progress=session, engine=engine)
        if events:
            _append_event(Path(events), {"event": "done"})
    print(summary.table())
    if spec.kind != "in-process":
        print(f"ran on {engine.description}")
    if summary.warnings:
        print(f"\n{len(summary.warnings)} warning(s):")
        for w in summary.warnings:
            print(f"  - [{w.code}] {w}")
    return 1 if summary.failed else 0
