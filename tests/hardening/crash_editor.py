"""A child process for the crash-safety test: rapid segment edits, each acknowledged after its commit.

Why a separate script: only a real OS process can be killed with SIGKILL mid-write. It behaves like an
annotator working very fast: every edit is one ``project.store.transaction()`` (create, update, delete,
or a split that changes one segment and creates another — two rows that must land together). Before an
edit it prints ``INTENT <n> <json>`` (what the edit will make of each segment it touches, keyed by a
stable name kept in the segment's provenance); after the commit returns it prints ``ACK <n>``. So every
``ACK`` line the parent reads is a promise that the change is on disk.

Usage: ``python crash_editor.py PROJECT TIER_ID ANNOTATOR_ID SEED EDITS``
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

VALUES = ("neutral", "happy", "sad", "angry")
Span = tuple[int, int, str]


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _plan(rng: random.Random, n: int, live: dict[str, Span]) -> tuple[str, dict[str, Span | None]]:
    """The next edit: its kind and the state it gives each segment it touches (None: deleted)."""
    start = rng.randrange(0, 600_000_000, 1000)
    new: Span = (start, start + rng.randrange(1000, 5_000_000, 1000), rng.choice(VALUES))
    if len(live) < 5 or rng.random() < 0.3:
        return "create", {f"k{n}": new}
    key = rng.choice(sorted(live))
    roll = rng.random()
    if roll < 0.45:
        return "update", {key: new}
    if roll < 0.75:
        return "delete", {key: None}
    s, e, v = live[key]
    if e - s < 2000:
        return "update", {key: new}
    cut = s + (e - s) // 2000 * 1000
    return "split", {key: (s, cut, v), f"k{n}": (cut, e, rng.choice(VALUES))}


def main(argv: list[str]) -> int:
    from dyadlab.core.project import open_project

    root, tier_id, annotator_id, seed, edits = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    rng = random.Random(seed)
    live: dict[str, Span] = {}
    ids: dict[str, int] = {}
    with open_project(root) as project:
        for n in range(edits):
            kind, changes = _plan(rng, n, live)
            _emit(f"INTENT {n} {kind} {json.dumps(changes)}")
            with project.store.transaction() as tx:
                for key, span in changes.items():
                    if span is None:
                        tx.segments.delete(ids.pop(key))
                    elif key in ids:
                        tx.segments.update(ids[key], start_us=span[0], end_us=span[1], value=span[2])
                    else:
                        ids[key] = tx.segments.add(tier_id, span[0], span[1], span[2], annotator_id=annotator_id,
                                                   provenance={"key": key}).id
            for key, span in changes.items():
                if span is None:
                    live.pop(key, None)
                else:
                    live[key] = span
            _emit(f"ACK {n}")
    _emit("DONE")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
