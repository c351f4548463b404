"""``dyadlab info PROJECT``: what a project holds — sessions, participants, views, label counts."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "info"
HELP = "summarise a project: sessions, participants, views (fps, duration), label counts per class"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--output", "-o", type=Path, help="also write the summary (Markdown) to this file")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.project import open_project
    from dyadlab.core.summary import project_summary

    with open_project(args.project) as project:
        text = project_summary(project)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0
