"""``dyadlab cache PROJECT`` / ``cache ls|clear PROJECT``: see and free what ``dyadlab analyze`` stored.

Why a command: a corpus's cache runs to gigabytes (even compact: ~1.4 GB per participant-hour), so users need
to see what takes the room — bytes per feature per participant-hour, the number that decides whether a
corpus fits — and drop one feature (``--drop compare``) or one kind of result (``clear --what faces``)
without touching the rest.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

NAME = "cache"
HELP = "report, list or clear the feature cache of a project (results of `dyadlab analyze`)"
ACTIONS = ("ls", "clear")
USAGE_WORDS = "[ls | clear] PROJECT"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = ("dyadlab cache PROJECT [--drop FEATURE] | dyadlab cache ls PROJECT | "
               "dyadlab cache clear PROJECT [--what TASK] [--sessions SESSION ...]")
    p.add_argument("words", nargs="+", metavar=USAGE_WORDS,
                   help="PROJECT alone: bytes per feature per participant-hour (with --drop: remove a feature); "
                        "ls: one line per cached result; clear: delete results")
    p.add_argument("--drop", metavar="FEATURE",
                   help="remove one feature from every cached result (e.g. compare, logmel, face_landmarks)")
    p.add_argument("--what", choices=["faces", "audio", "pose"], help="clear: only this kind of result")
    p.add_argument("--sessions", nargs="+", metavar="SESSION", help="clear: only these sessions (names or ids)")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _parse(args: argparse.Namespace) -> tuple[str, Path]:
    from dyadlab.core.errors import DyadLabError

    words = list(args.words)
    action = words.pop(0) if words[0] in ACTIONS and len(words) > 1 else "report"
    if len(words) != 1:
        raise DyadLabError(f"expected `dyadlab cache {USAGE_WORDS}`, got {' '.join(args.words)!r}")
    if action != "clear" and (args.what or args.sessions):
        raise DyadLabError("--what and --sessions go with `dyadlab cache clear PROJECT`")
    if action != "report" and args.drop:
        raise DyadLabError("--drop goes with `dyadlab cache PROJECT --drop FEATURE`")
    return action, Path(words[0])


def report_lines(rows: list[dict]) -> list[str]:
    """The table of ``FeatureCache.feature_bytes`` rows: bytes per feature per participant-hour."""
    lines = [f"{'feature':<22} {'task':<6} {'results':>7} {'hours':>7} {'on disk':>10} {'per part.-hour':>14}  format"]
    per_hour = 0.0
    for r in rows:
        rate = r["bytes_per_hour"]
        per_hour += 0.0 if math.isnan(rate) else rate
        shown = "-" if math.isnan(rate) else _size(rate)
        lines.append(f"{r['feature']:<22} {r['task']:<6} {r['results']:>7} {r['hours']:>7.3f} {_size(r['bytes']):>10} "
                     f"{shown:>14}  {','.join(str(f) for f in r['formats'])}")
    total = sum(r["bytes"] for r in rows)
    lines.append(f"{'all features':<22} {'':<6} {'':>7} {'':>7} {_size(total):>10} {_size(per_hour):>14}")
    return lines


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.features.cache import FeatureCache
    from dyadlab.core.features.pipeline import cache_listing, select_sessions
    from dyadlab.core.project import open_project

    action, root = _parse(args)
    with open_project(root) as project:
        cache = FeatureCache(project.root)
        if action == "report":
            if args.drop:
                changed, freed = cache.drop(args.drop)
                print(f"dropped {args.drop} from {changed} result(s), {_size(freed)} freed")
            rows = cache.feature_bytes()
            if not rows:
                print("the feature cache is empty (run `dyadlab analyze`)")
                return 0
            print("\n".join(report_lines(rows)))
            if any(1 in r["formats"] for r in rows):
                print("format 1 results (before DyadLab's compact cache) are rebuilt by the next `dyadlab analyze`")
            return 0
        if action == "ls":
            rows = cache_listing(project)
            if not rows:
                print("the feature cache is empty (run `dyadlab analyze`)")
                return 0
            print(f"{'session':<16} {'part.':<6} {'task':<6} {'frames':>7} {'valid':>7} {'size':>9} {'warn':>4}  created")
            for r in rows:
                print(f"{r['session']:<16} {r['participant']:<6} {r['task']:<6} {r['frames']:>7} {r['valid']:>7} "
                      f"{_size(r['bytes']):>9} {r['warnings']:>4}  {r['created']}")
            print(f"{len(rows)} result(s), {_size(sum(r['bytes'] for r in rows))} in {cache.root}")
            return 0
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
