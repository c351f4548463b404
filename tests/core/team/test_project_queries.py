"""Project-wide questions the GUI asks on open, answered by one query each, on each backend (SQLite file
and PostgreSQL server): tier progress (``tx.segments.progress``), who labelled a tier
(``tx.annotators.labelling``) and the tier names (``tx.tiers.names``).

Tier progress is checked against a brute-force reference.

Why brute force: the query sums, per tier, what each segment reaches past the furthest end before it (a
window function). The reference instead marks every covered microsecond of small random intervals in a set —
too slow for real data, but obviously right — so a wrong window frame, tie order or NULL case shows up as a
mismatch. The intervals are drawn on a tiny grid so that overlaps, nesting, shared starts, touching ends and
zero-length rows (which the API refuses, but a database may hold) all occur in every run.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import insert

from dyadlab.core.edits.tiers import project_progress, tier_progress
from dyadlab.core.store import schema
from dyadlab.core.store.changes import changes_since, current_marker


def _union_length(intervals: list[tuple[int, int]]) -> int:
    return len({t for start, end in intervals for t in range(start, end)})


def _random_intervals(rng: random.Random, n: int) -> list[tuple[int, int]]:
    out = []
    for _ in range(n):
        start = rng.randrange(0, 60)
        kind = rng.random()
        if kind < 0.15:
            out.append((start, start))  # zero length
        elif kind < 0.3 and out:
            a, b = rng.choice(out)
            out.append((b, b + rng.randrange(1, 10)))  # touches the end of another
        elif kind < 0.45 and out:
            a, b = rng.choice(out)
            if b - a >= 2:
                out.append((a + 1, b - 1))  # nested inside another
            else:
                out.append((a, b + 3))  # same start, longer
        else:
            out.append((start, start + rng.randrange(1, 25)))
    return out


def _project_with_random_tiers(project, seed: int):
    """Two sessions, several tiers each (one empty); returns {tier_id: intervals} and the sessions."""
    rng = random.Random(seed)
    expected: dict[int, list[tuple[int, int]]] = {}
    with project.store.transaction() as tx:
        ann = tx.annotators.ensure("ann")
        scheme = tx.schemes.by_name("emotion-4class")
        sessions = [tx.sessions.add(f"s{i}", duration_us=100 if i == 0 else None) for i in range(2)]
        rows = []
        for session in sessions:
            for t in range(4):
                tier = tx.tiers.add(session.id, f"tier{t}", scheme_id=scheme.id, annotator_id=ann.id,
                                    kind="categorical")
                intervals = [] if t == 3 else _random_intervals(rng, rng.randrange(1, 40))
                expected[tier.id] = intervals
                rows += [{"tier_id": tier.id, "start_us": a, "end_us": b, "annotator_id": ann.id, "value": "happy",
                          "version": 1, "provenance": {}} for a, b in intervals]
        # Raw insert: zero-length rows are refused by add_many, yet the query must count them as covering nothing.
        tx.orm.execute(insert(schema.SegmentRow), rows)
    return expected, sessions


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sql_coverage_matches_brute_force_union(project, seed: int) -> None:
    expected, sessions = _project_with_random_tiers(project, seed)
    assert any(a == b for intervals in expected.values() for a, b in intervals), "no zero-length row drawn"
    with project.store.transaction() as tx:
        everything = tx.segments.progress()
        first_only = tx.segments.progress([sessions[0].id])
    for tier_id, intervals in expected.items():
        if not intervals:
            assert tier_id not in everything
            continue
        got = everything[tier_id]
        assert (got.segments, got.covered_us, got.last_end_us) == (
            len(intervals), _union_length(intervals), max(b for _, b in intervals)), f"tier {tier_id}: {intervals}"
    with project.store.transaction() as tx:
        first_tiers = {t.id for t in tx.tiers.list(sessions[0].id)}
    assert set(first_only) == {t for t in first_tiers if expected[t]}
    assert all(first_only[t] == everything[t] for t in first_only)


def test_tier_progress_shares_of_the_session(project) -> None:
    expected, sessions = _project_with_random_tiers(project, seed=3)
    with project.store.transaction() as tx:
        by_session = project_progress(tx, sessions)
        single = tier_progress(tx, sessions[1])
    assert single == by_session[sessions[1].id]
    # Session 0 has a duration (100 µs); session 1 has none, so its length is its latest segment end.
    for session, length in ((sessions[0], 100),
                            (sessions[1], max(b for p in by_session[sessions[1].id] for _, b in expected[p.tier.id]))):
        rows = by_session[session.id]
        assert len(rows) == 4 and {p.tier.session_id for p in rows} == {session.id}
        for p in rows:
            covered = _union_length(expected[p.tier.id])
            assert (p.segments, p.covered_us) == (len(expected[p.tier.id]), covered)
            assert p.fraction == pytest.approx(min(1.0, covered / length))
            assert p.annotator == "ann" and p.participant is None


def test_labelling_annotators_and_tier_names_span_the_project(project) -> None:
    with project.store.transaction() as tx:
        scheme = tx.schemes.by_name("emotion-4class")
        vad = tx.schemes.by_name("vad")
        ann, bob, gold, idle = (tx.annotators.add(n, kind="gold" if n == "gold" else "human")
                                for n in ("ann", "bob", "gold", "idle"))
        s1, s2 = tx.sessions.add("s1"), tx.sessions.add("s2")

        def tier(session, name, who, kind="categorical", scheme_id=scheme.id):
            return tx.tiers.add(session.id, name, scheme_id=scheme_id, annotator_id=who.id, kind=kind)

        tx.segments.add(tier(s1, "emotion", ann).id, 0, 10, "happy", annotator_id=ann.id)
        tx.segments.add(tier(s2, "emotion", gold).id, 0, 10, "sad", annotator_id=gold.id)
        tier(s1, "emotion", idle)  # a tier, but no segment on it
        tx.segments.add(tier(s2, "valence", bob, "dimensional", vad.id).id, 0, 10, None, annotator_id=bob.id)
        tier(s2, "transcript", bob, "text")
    with project.store.transaction() as tx:
        assert [(a.name, a.kind) for a in tx.annotators.labelling("emotion")] == [("ann", "human"), ("gold", "gold")]
        assert [a.name for a in tx.annotators.labelling("valence")] == ["bob"]
        assert tx.annotators.labelling("arousal") == []
        assert tx.tiers.names(kinds=("categorical", "dimensional")) == ["emotion", "valence"]
        assert tx.tiers.names() == ["emotion", "transcript", "valence"]


def test_current_marker_is_the_first_loads_marker_without_the_rows(project) -> None:
    """Opening a session takes its change marker from (id, version) pairs only; polling from it still works."""
    expected, sessions = _project_with_random_tiers(project, seed=4)
    session = sessions[0]
    with project.store.transaction() as tx:
        marker = current_marker(tx, session.id)
        assert marker == changes_since(tx, session.id, None).marker
        assert len(marker.versions) == sum(len(expected[t.id]) for t in tx.tiers.list(session.id))
        tier = tx.tiers.list(session.id)[0]
        added = tx.segments.add(tier.id, 500, 600, "sad", annotator_id=tier.annotator_id)
    with project.store.transaction() as tx:
        batch = changes_since(tx, session.id, marker)
    assert [g.id for g in batch.changed] == [added.id] and batch.deleted == ()
