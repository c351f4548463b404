"""``dyadlab cache ls|clear PROJECT``: see and free what ``dyadlab analyze`` stored in the feature cache.

Why a command: face crops take ~150 kB per frame, so a corpus's cache runs to gigabytes; users need to
see what is there and drop one kind (e.g. faces after changing the crop size) without touching the rest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "cache"
HELP = "list or clear the feature cache of a project (results of `dyadlab analyze`)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    ls = sub.add_parser("ls", help="list cached results: session, participant, task, frames, size")
    ls.add_argument("project", type=Path, help="project folder")
    clear = sub.add_parser("clear", help="delete cached results (all, or one kind / some sessions)")
    clear.add_argument("project", type=Path, help="project folder")
    clear.add_argument("--what", choices=["faces", "audio", "pose"], help="only this kind of result")
    clear.add_argument("--sessions", nargs="+", metavar="SESSION", help="only these sessions (names or ids)")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.features.cache import FeatureCache
    from dyadlab.core.features.pipeline import cache_listing, select_sessions
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        if args.cache_command == "ls":
            rows = cache_listing(project)
            if not rows:
                print("the feature cache is empty (run `dyadlab analyze`)")
                return 0
            print(f"{'session':<16} {'part.':<6} {'task':<6} {'frames':>7} {'valid':>7} {'size':>9} {'warn':>4}  created")
            for r in rows:
                print(f"{r['session']:<16} {r['participant']:<6} {r['task']:<6} {r['frames']:>7} {r['valid']:>7} "
                      f"{_size(r['bytes']):>9} {r['warnings']:>4}  {r['created']}")
            print(f"{len(rows)} result(s), {_size(sum(r['bytes'] for r in rows))} in {FeatureCache(project.root).root}")
            return 0
        cache = FeatureCache(project.root)
        if args.sessions:
            with project.store.transaction() as tx:
                chosen = select_sessions(tx.sessions.list(), args.sessions)
            count = freed = 0
            for s in chosen:
                n, b = cache.clear(task=args.what, session_id=s.id)
                count, freed = count + n, freed + b
        else:
            count, freed = cache.clear(task=args.what)
        print(f"removed {count} result(s), {_size(freed)}")
    return 0
