"""``dyadlab demo OUT``: build the synthetic dyadic demo corpus as a ready-to-open project."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "demo"
HELP = "generate a deterministic synthetic dyadic corpus (videos, audio, gold labels) as a project"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", type=Path, help="project folder to create")
    p.add_argument("--sessions", type=int, default=4, help="number of sessions (default 4)")
    p.add_argument("--seconds", type=float, default=60.0, help="length of each session in seconds (default 60)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    p.add_argument("--scenario", choices=("varied", "scripted"), default="varied",
                   help="varied: every emotion in every session (default); scripted: each session mostly one "
                        "emotion, as in IEMOCAP's dialogs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.progress import cli_progress
    from dyadlab.core.summary import project_summary

    with cli_progress("demo", enabled=not args.quiet) as progress:
        project = generate_demo(args.out, sessions=args.sessions, seconds=args.seconds, seed=args.seed,
                                progress=progress, scenario=args.scenario)
    with project:
        if not args.quiet:
            print(project_summary(project))
    return 0
