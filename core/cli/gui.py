"""``dyadlab gui [PROJECT]``: open the workstation window.

With no display (no ``DISPLAY``/``WAYLAND_DISPLAY``, e.g. CI or a server) the window is built offscreen,
the project summary is written to ``PROJECT/report.md`` and printed, and the command exits 0 — so
``make run`` proves the app starts even where nobody can look at it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

NAME = "gui"
HELP = "open the DyadLab window (headless: build it offscreen and write the project report)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, nargs="?", help="project folder to open")
    p.add_argument("--annotator", default=None, help="annotator identity for this session of work")
    p.add_argument("--headless", action="store_true", help="force the offscreen report mode")
    p.add_argument("--screenshot", type=Path, default=None, help="save a PNG of the window and exit")


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    headless = args.headless or not _has_display()
    if headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from dyadlab.app.application import run_app

    return run_app(args.project, annotator=args.annotator, headless=headless, screenshot=args.screenshot)
