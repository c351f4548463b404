"""``dyadlab sync PROJECT SESSION``: propose each recording's offset from the sound it shares with a reference.

The same core function as the session media dialog's Sync button (``core.media.auto_sync``). Without
``--apply`` it only prints the proposals; with it, each sure proposal is stored as one undoable edit and
each unsure one (low confidence: the recordings may not share sound) is left alone and named.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "sync"
HELP = "propose (and with --apply store) each view's and audio track's offset by cross-correlating their sound"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("session", help="session name")
    p.add_argument("--reference", default=None,
                   help="the view or audio track the others are synced to (default: the first audio track)")
    p.add_argument("--apply", action="store_true", help="store the sure proposals as the new offsets")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.edits.media_setup import UpdateMediaItem
    from dyadlab.core.labels.snapshot import resolve_sessions
    from dyadlab.core.media.auto_sync import propose_session_offsets
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        with project.store.transaction() as tx:
            session = resolve_sessions(tx, [args.session])[0]
        proposals = propose_session_offsets(project, session.id, reference=args.reference)
        unsure = 0
        for proposal in proposals:
            print(proposal.describe())
            if not proposal.sure:
                unsure += 1
            elif args.apply and proposal.change_us:
                UpdateMediaItem(proposal.item.kind, proposal.item.id, offset_us=proposal.offset_us).do(project.store)
    if args.apply:
        print(f"applied {len(proposals) - unsure}, left {unsure} unsure" if unsure else f"applied {len(proposals)}")
    return 1 if unsure else 0
