"""``dyadlab import-keypoints PROJECT FILE --annotator NAME``: corrected keypoints back in from a table."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "import-keypoints"
HELP = "import corrected keypoints from a CSV or Parquet table in the columns that export writes (all or nothing)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("file", type=Path, help="keypoint table (.csv or .parquet)")
    p.add_argument("--annotator", required=True, help="whose keypoints they become (created when new)")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.io.label_files.keypoint_import import import_keypoints
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        n = import_keypoints(project, args.file, annotator=args.annotator)
    print(f"imported {n} keypoint(s) from {args.file} as {args.annotator}")
    return 0
