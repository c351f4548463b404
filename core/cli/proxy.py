"""``dyadlab proxy PROJECT``: make frame-exact all-intra proxies so scrubbing long-GOP videos is instant.

Camera files with a keyframe every few seconds make every exact seek decode hundreds of frames. A proxy
(``<project>/cache/proxies/``) has the same frame timestamps and a keyframe every ``--gop`` frames; the
player uses it automatically when it is present and matches its source.
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
    with open_project(args.project) as project, cli_progress("proxy", enabled=not args.quiet) as progress:
        outcomes = make_project_proxies(project, sessions=args.sessions, gop=args.gop, force=args.force,
                                        progress=progress)
    for outcome in outcomes:
        detail = str(outcome.error) if outcome.error else (outcome.proxy.name if outcome.proxy else "")
        print(f"{outcome.status:>10}  {outcome.source.name}  {detail}".rstrip())
    counts = {s: sum(o.status == s for o in outcomes) for s in ("made", "valid", "not needed", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 1 if counts["failed"] else 0
