"""``dyadlab export-keypoints PROJECT OUT``: the corrected pose and hand keypoints as CSV, Parquet or COCO JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "export-keypoints"
HELP = "export corrected keypoints (pose, hands) as a CSV or Parquet table or as COCO keypoints JSON"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("out", type=Path, help="output file: .csv, .parquet or .json (COCO)")
    p.add_argument("--format", "-f", choices=["csv", "parquet", "coco"], default=None, dest="fmt",
                   help="file format (default: from OUT's suffix)")
    p.add_argument("--sessions", nargs="+", default=None, help="only these sessions (default: all)")
    p.add_argument("--annotators", nargs="+", default=None, help="only these annotators (default: all people)")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.io.label_files.keypoint_export import export_keypoints
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        path, n = export_keypoints(project, args.out, fmt=args.fmt, sessions=args.sessions,
                                   annotators=args.annotators)
    print(f"wrote {n} keypoint(s) to {path}")
    return 0
