"""``dyadlab agreement PROJECT``: how well annotators agree, per tier, session and annotator pair."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "agreement"
HELP = "inter-annotator agreement (Cohen/Fleiss kappa, Krippendorff alpha, CCC, ICC) per tier and pair"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--tier", nargs="+", default=["emotion"], help="tier name(s) to compare (default: emotion)")
    p.add_argument("--all-tiers", action="store_true", help="compare every tier name")
    p.add_argument("--unit", choices=["frames", "utterances"], default="frames",
                   help="compare fixed-step frames of session time, or utterances")
    p.add_argument("--step-ms", type=float, default=40.0, help="frame step in milliseconds (default: 40)")
    p.add_argument("--sessions", nargs="+", default=None, help="only these sessions")
    p.add_argument("--annotators", nargs="+", default=None, help="only these annotators")
    p.add_argument("--json", type=Path, default=None, help="also write the full report as JSON to this file")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.agreement import agreement_report
    from dyadlab.core.errors import DyadLabError
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        if not args.all_tiers:  # a typo compared nothing and said only that no tier had two annotators
            with project.store.transaction() as tx:
                known = tx.tiers.names()
            unknown = [name for name in args.tier if name not in known]
            if unknown:
                raise DyadLabError(f"no tier {', '.join(map(repr, unknown))} in {args.project}",
                                   hint=f"tiers: {', '.join(known) or 'none'}")
        report = agreement_report(project, tier=None if args.all_tiers else args.tier, unit=args.unit,
                                  step_ms=args.step_ms, sessions=args.sessions, annotators=args.annotators)
    print(report.table())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report.to_json() + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0
