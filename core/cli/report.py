"""``dyadlab report``: print (or save) the text to attach to a bug report.

Why: "it crashed" is not enough to fix anything; the versions DyadLab runs on and the last lines of its log
usually are. This prints ``core.logs.problem_report()`` — the same text the GUI's "About / Report a
problem" dialog shows — so a user without a working window can still send it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "print versions and the end of the log, to attach to a problem report"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", type=Path, help="also write the report to this file")
    p.add_argument("--lines", type=int, default=200, help="how many log lines to include (default 200)")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.errors import DyadLabError
    from dyadlab.core.logs import problem_report

    text = problem_report(log_lines=max(0, args.lines))
    print(text, end="")
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise DyadLabError(f"cannot write the report: {exc.strerror}", path=args.output) from exc
    return 0
