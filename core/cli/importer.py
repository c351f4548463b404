"""``dyadlab import FORMAT SOURCE PROJECT``: bring a corpus (IEMOCAP, UDIVA, a plain folder) into a project."""

from __future__ import annotations

import argparse
from pathlib import Path

from dyadlab.core.formats import CORPUS_FORMATS

NAME = "import"
HELP = "import a corpus folder (iemocap | udiva | folder) into a project, all or nothing"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=list(CORPUS_FORMATS), help="layout of the source folder")
    p.add_argument("source", type=Path, help="corpus folder (e.g. IEMOCAP_full_release)")
    p.add_argument("project", type=Path, help="project folder (created when missing)")
    p.add_argument("--sessions", nargs="*", help="only these corpus sessions (e.g. Session1 Session5 / 001080)")
    p.add_argument("--split-layout", default=None,
                   help="IEMOCAP: which half of the split screen shows which speaker, e.g. 'F=left,M=right' "
                        "(default) or per session 'Session2:F=right,M=left'")
    p.add_argument("--segments-csv", type=Path, default=None,
                   help="folder: CSV of segments (columns session,participant,start,end,label[,annotator])")
    p.add_argument("--replace", action="store_true",
                   help="re-import sessions the project already has (deleting their old rows)")
    p.add_argument("--skip-bad", action="store_true",
                   help="folder: when some media files are bad, import the rest and list what was skipped and why")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.progress import cli_progress
    from dyadlab.core.project_setup import import_creating_project

    with cli_progress(f"import {args.format}", enabled=not args.quiet) as progress:
        report = import_creating_project(args.format, args.project, args.source, sessions=args.sessions,
                                         split_layout=args.split_layout, segments_csv=args.segments_csv,
                                         replace=args.replace, progress=progress, skip_bad=args.skip_bad)
    print(report)
    return 0
