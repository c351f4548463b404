"""``dyadlab export PROJECT --format ...``: write a project's labels for ELAN, Praat, pandas or IEMOCAP tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from dyadlab.core.formats import EXPORT_FORMATS

NAME = "export"
HELP = "export labels as ELAN .eaf, Praat TextGrid, CSV/Parquet tables or IEMOCAP EmoEvaluation text"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--format", "-f", required=True, choices=EXPORT_FORMATS, dest="fmt", help="file format")
    p.add_argument("--out", "-o", type=Path, default=None,
                   help="output folder (default: PROJECT/exports/FORMAT)")
    p.add_argument("--sessions", nargs="+", default=None, help="only these sessions (default: all)")
    p.add_argument("--annotators", nargs="+", default=None, help="only these annotators' tiers (default: all)")
    p.add_argument("--traces", choices=["points", "csv", "none"], default="points",
                   help="textgrid: continuous traces as point tiers, a separate CSV, or not at all")
    p.add_argument("--tier", default="emotion", help="iemocap: the categorical tier giving each turn's label")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.io.label_files.label_formats import export_labels
    from dyadlab.core.project import open_project

    options: dict[str, object] = {}
    if args.fmt == "textgrid":
        options["traces"] = args.traces
    if args.fmt == "iemocap":
        options["tier"] = args.tier
    with open_project(args.project) as project:
        out = args.out or project.root / "exports" / args.fmt
        files = export_labels(project, args.fmt, out, sessions=args.sessions, annotators=args.annotators, **options)
    print(f"wrote {len(files)} file(s) to {out}")
    for f in files:
        print(f"  {f}")
    return 0
