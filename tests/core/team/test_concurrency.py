"""Two annotators editing one session at once: no lost update, every conflict reported.

Runs on both backends: PostgreSQL (row locks, READ COMMITTED) and a shared SQLite file (WAL, one writer at
a time), and on a team project with real accounts (two annotators and a reviewer, each on their own login,
every write through the server's row-level security). "No lost update" is checked from both ends: each acknowledged edit created a distinct version of
its segment, each segment's final version counts exactly the acknowledged edits, its final value is the
last acknowledged one, and a shared counter incremented by both ends with retries equals the increments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from dyadlab.core.errors import ConflictError
from dyadlab.core.store import Store
from dyadlab.core.store.schema import SegmentRow

EDITOR = Path(__file__).with_name("editor_process.py")
ROUNDS = 50  # per process: one own edit + one contested edit each → 200 edits, 50 of them conflicts
INCREMENTS = 20  # per process, on one shared counter, retried after conflicts


def _annotated_session(project, n_segments: int):
    with project.store.transaction() as tx:
        s = tx.sessions.add("dyad-1")
        scheme = tx.schemes.by_name("emotion-4class")
        ids = {}
        for name in ("anna", "ben"):
            ann = tx.annotators.ensure(name)
            tier = tx.tiers.add(s.id, "emotion", scheme_id=scheme.id, annotator_id=ann.id, kind="categorical")
            ids[name] = [tx.segments.add(tier.id, i * 10_000, i * 10_000 + 9_000, "neutral",
                                         annotator_id=ann.id).id for i in range(n_segments)]
    return ids


def _run_editors(cfgs: dict[str, dict]) -> dict[str, list[dict]]:
    """Start one editor process per config (all at once), wait for them, return each one's log."""
    editors = {name: subprocess.Popen([sys.executable, str(EDITOR), json.dumps(cfg)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=os.environ.copy())
               for name, cfg in cfgs.items()}
    logs = {}
    for name, proc in editors.items():
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        assert proc.returncode == 0, f"{name} failed:\n{err}"
        logs[name] = json.loads(out)
    return logs


def _assert_no_lost_update(logs: dict[str, list[dict]], pairs: list[tuple[str, str]], final: dict,
                           counters: list[int], rounds: int, segments: set[int], increments: int = INCREMENTS) -> None:
    """Every acknowledged edit of ``logs`` is in ``final`` (segment id → segment), exactly once."""
    def edits(name: str, kind: str) -> list[dict]:
        return [e for e in logs[name] if e["kind"] == kind]

    for name in logs:
        assert len(edits(name, "own")) == rounds and all(e["ack"] for e in edits(name, "own")), \
            f"{name}: an uncontested edit was refused"
        assert sum(e["ack"] for e in edits(name, "counter")) == increments
    # Exactly one of the two simultaneous saves of a contested segment wins; the other hears about it.
    for one, two in pairs:
        for step, (a, b) in enumerate(zip(edits(one, "contested"), edits(two, "contested"), strict=True)):
            assert a["ack"] != b["ack"], f"{one}/{two} round {step}: " + ("both saves won" if a["ack"] else
                                                                           "both were refused")
    acks = defaultdict(list)
    for log in logs.values():
        for e in log:
            if e["ack"]:
                acks[e["segment"]].append(e)

    for seg_id, seg_acks in acks.items():
        versions = sorted(a["version"] for a in seg_acks)
        assert versions == list(range(2, 2 + len(seg_acks))), f"segment {seg_id}: two edits claim one version"
        assert final[seg_id].version == 1 + len(seg_acks)
        assert final[seg_id].value == max(seg_acks, key=lambda a: a["version"])["value"]
    for counter in counters:
        assert final[counter].score == 2 * increments
    untouched = segments - set(acks)
    assert all(final[i].version == 1 and final[i].value == "neutral" for i in untouched)


def test_two_processes_lose_no_update_and_report_every_conflict(project, tmp_path: Path) -> None:
    ids = _annotated_session(project, 11)
    own = {"anna": ids["anna"][:5], "ben": ids["ben"][:5]}
    contested = ids["anna"][5:10] + ids["ben"][5:10]
    counter = ids["ben"][10]
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    cfgs = {me: {"url": project.store.url, "me": me, "other": other, "barrier": str(barrier), "rounds": ROUNDS,
                 "own": own[me], "contested": contested, "counter": counter, "increments": INCREMENTS}
            for me, other in (("anna", "ben"), ("ben", "anna"))}
    logs = _run_editors(cfgs)
    with project.store.transaction() as tx:
        final = {seg.id: seg for seg in tx.segments.list()}
    _assert_no_lost_update(logs, [("anna", "ben")], final, [counter], ROUNDS, set(final))


def test_two_annotators_and_a_reviewer_on_their_own_logins_lose_no_update(team, tmp_path: Path) -> None:
    """The same race with real accounts, so every write also passes the server's row-level security: each
    annotator edits their own tier while the reviewer (two windows, one login) edits the same segments."""
    rounds = increments = 10  # x 4 processes on a 2-core machine: enough races, a few seconds
    with team.project.store.transaction() as tx:
        session = tx.sessions.add("race")
        scheme = tx.schemes.by_name("emotion-4class")
        ids = {}
        for who in ("annotator", "colleague", "reviewer"):
            ann = tx.annotators.by_name(team.logins[who])
            tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=ann.id, kind="categorical")
            ids[who] = [tx.segments.add(tier.id, i * 10_000, i * 10_000 + 9_000, "neutral",
                                        annotator_id=ann.id).id for i in range(12)]
    cfgs = {}
    for who, window in (("annotator", "reviewer-a"), ("colleague", "reviewer-b")):
        barrier = tmp_path / who
        barrier.mkdir()
        common = {"barrier": str(barrier), "rounds": rounds, "contested": ids[who][5:10], "counter": ids[who][10],
                  "increments": increments}
        cfgs[who] = {**common, "url": team.url(team.logins[who]), "me": who, "other": window, "own": ids[who][:5]}
        reviewer_own = ids["reviewer"][:5] if who == "annotator" else ids["reviewer"][5:10]
        cfgs[window] = {**common, "url": team.url(team.logins["reviewer"]), "me": window, "other": who,
                        "own": reviewer_own}
    logs = _run_editors(cfgs)
    with team.project.store.transaction() as tx:
        final = {seg.id: seg for seg in tx.segments.list()}
    involved = {i for segs in ids.values() for i in segs}
    _assert_no_lost_update(logs, [("annotator", "reviewer-a"), ("colleague", "reviewer-b")], final,
                           [ids["annotator"][10], ids["colleague"][10]], rounds, involved, increments)


def test_a_conflict_is_caught_at_write_time_even_after_the_read_check_passed(project) -> None:
    ids = _annotated_session(project, 2)
    seg_id, gone_id = ids["anna"]
    colleague = Store(project.store.url, migrate=False)
    try:
        for target, act, what in ((seg_id, "update", "edited"), (gone_id, "delete", "deleted")):
            with pytest.raises(ConflictError, match=f"while you {what} it"), project.store.transaction() as tx:
                # The row as update()/delete() read it (held, so they reuse it), at version 1 ...
                read = tx.orm.get(SegmentRow, target)
                assert read.version == 1
                with colleague.transaction() as other:  # ... a colleague saves between that read and the write ...
                    other.segments.update(target, expected_version=1, value="sad")
                if act == "update":  # ... so the version check passes on what was read, but the write must not
                    tx.segments.update(target, expected_version=1, value="happy")
                else:
                    tx.segments.delete(target, expected_version=1)
        with project.store.transaction() as tx:
            assert [(s.value, s.version) for s in tx.segments.list(tier_id=None) if s.id in (seg_id, gone_id)] == \
                [("sad", 2), ("sad", 2)]
    finally:
        colleague.close()
