"""Core edits: each one commits on do, restores on undo, refuses what breaks a tier's rules."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from dyadlab.core.edits import (
    CreateSegment,
    DeleteSegment,
    EditRefused,
    UpdateParticipant,
    UpdateSegment,
    ensure_annotator,
    ensure_annotator_tiers,
    merge_segments,
    split_segment,
    tier_progress,
)
from dyadlab.core.edits import keypoints as kp
from dyadlab.core.edits.segments import free_gap
from dyadlab.core.edits.traces import ensure_trace_series, sample_index, write_trace
from dyadlab.core.errors import StoreError

S = 1_000_000


@pytest.fixture
def session(project):
    """A session with participants A/B, a gold annotator's tiers and annotator "ann"'s own copies."""
    with project.store.transaction() as tx:
        sess = tx.sessions.add("s1", duration_us=10 * S)
        a = tx.participants.add(sess.id, "A")
        tx.participants.add(sess.id, "B")
        gold = tx.annotators.add("gold", kind="gold")
        emo = tx.schemes.by_name("emotion-4class")
        vad = tx.schemes.by_name("vad")
        tx.tiers.add(sess.id, "emotion", scheme_id=emo.id, annotator_id=gold.id, kind="categorical", participant_id=a.id)
        tx.tiers.add(sess.id, "valence", scheme_id=vad.id, annotator_id=gold.id, kind="dimensional", participant_id=a.id)
        tx.views.add(sess.id, "A", "media/a.mp4", participant_id=a.id, width=640, height=480)
    ann = ensure_annotator(project.store, "ann")
    tiers = {t.name: t for t in ensure_annotator_tiers(project.store, sess.id, ann)}
    return project, sess, ann, tiers, gold


def rows(project, sql: str) -> list[tuple]:
    con = sqlite3.connect(project.db_file)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_annotator_gets_own_copy_of_the_tier_layout(session):
    project, sess, ann, tiers, gold = session
    assert set(tiers) == {"emotion", "valence"}
    assert all(t.annotator_id == ann.id for t in tiers.values())
    again = ensure_annotator_tiers(project.store, sess.id, ann)
    assert sorted(t.id for t in again) == sorted(t.id for t in tiers.values())


def test_create_undo_redo_commits_each_step(session):
    project, sess, ann, tiers, _ = session
    edit = CreateSegment(tiers["emotion"].id, 1 * S, 2 * S, "happy", annotator_id=ann.id)
    edit.do(project.store)
    seg_id = edit.segment.id
    assert rows(project, "SELECT id, start_us, end_us, value, annotator_id FROM segments") == [
        (seg_id, S, 2 * S, "happy", ann.id)]
    edit.undo(project.store)
    assert rows(project, "SELECT * FROM segments") == []
    edit.do(project.store)
    assert rows(project, "SELECT id, value FROM segments") == [(seg_id, "happy")]


def test_update_move_resize_relabel_and_undo(session):
    project, _, ann, tiers, _ = session
    create = CreateSegment(tiers["emotion"].id, S, 2 * S, "happy", annotator_id=ann.id)
    create.do(project.store)
    sid = create.segment.id
    move = UpdateSegment(sid, annotator_id=ann.id, start_us=3 * S, end_us=4 * S, value="sad")
    move.do(project.store)
    assert rows(project, "SELECT start_us, end_us, value FROM segments") == [(3 * S, 4 * S, "sad")]
    move.undo(project.store)
    assert rows(project, "SELECT start_us, end_us, value FROM segments") == [(S, 2 * S, "happy")]


def test_rules_overlap_value_and_ownership(session):
    project, _, ann, tiers, gold = session
    CreateSegment(tiers["emotion"].id, S, 2 * S, "happy", annotator_id=ann.id).do(project.store)
    with pytest.raises(EditRefused, match="overlap"):
        CreateSegment(tiers["emotion"].id, int(1.5 * S), 3 * S, "sad", annotator_id=ann.id).do(project.store)
    CreateSegment(tiers["emotion"].id, 2 * S, 3 * S, "sad", annotator_id=ann.id).do(project.store)  # touching is fine
    with pytest.raises(EditRefused, match="not a class"):
        CreateSegment(tiers["emotion"].id, 5 * S, 6 * S, "bored", annotator_id=ann.id).do(project.store)
    with project.store.transaction() as tx:
        gold_tier = tx.tiers.list(annotator_id=gold.id, name="emotion")[0]
    with pytest.raises(EditRefused, match="belongs to annotator 'gold'"):
        CreateSegment(gold_tier.id, 5 * S, 6 * S, "sad", annotator_id=ann.id).do(project.store)
    assert len(rows(project, "SELECT * FROM segments")) == 2


def test_free_gap_around_a_time(session):
    project, _, ann, tiers, _ = session
    tid = tiers["emotion"].id
    CreateSegment(tid, S, 2 * S, "happy", annotator_id=ann.id).do(project.store)
    CreateSegment(tid, 5 * S, 6 * S, "sad", annotator_id=ann.id).do(project.store)
    with project.store.transaction() as tx:
        segments = tx.segments.list(tid)
    assert free_gap(segments, 3 * S, limit_us=10 * S) == (2 * S, 5 * S)
    assert free_gap(segments, int(1.5 * S)) is None
    assert free_gap(segments, int(1.5 * S), ignore=segments[0].id) == (0, 5 * S)


def test_split_and_merge_are_single_undo_steps(session):
    project, _, ann, tiers, _ = session
    create = CreateSegment(tiers["emotion"].id, S, 4 * S, "angry", annotator_id=ann.id)
    create.do(project.store)
    split = split_segment(create.segment, 2 * S, annotator_id=ann.id)
    split.do(project.store)
    halves = rows(project, "SELECT start_us, end_us, value FROM segments ORDER BY start_us")
    assert halves == [(S, 2 * S, "angry"), (2 * S, 4 * S, "angry")]
    with project.store.transaction() as tx:
        a, b = tx.segments.list(tiers["emotion"].id)
    merge = merge_segments(a, b, annotator_id=ann.id)
    merge.do(project.store)
    assert rows(project, "SELECT start_us, end_us FROM segments") == [(S, 4 * S)]
    merge.undo(project.store)
    assert rows(project, "SELECT start_us, end_us FROM segments ORDER BY start_us") == [(S, 2 * S), (2 * S, 4 * S)]
    split.undo(project.store)
    assert rows(project, "SELECT start_us, end_us FROM segments") == [(S, 4 * S)]


def test_delete_undo_restores_id_and_annotator(session):
    project, _, ann, tiers, _ = session
    create = CreateSegment(tiers["emotion"].id, S, 2 * S, "neutral", annotator_id=ann.id)
    create.do(project.store)
    delete = DeleteSegment(create.segment.id, annotator_id=ann.id)
    delete.do(project.store)
    assert rows(project, "SELECT * FROM segments") == []
    delete.undo(project.store)
    assert rows(project, "SELECT id, annotator_id, value FROM segments") == [(create.segment.id, ann.id, "neutral")]


def test_failed_commit_changes_nothing(session):
    """A read-only database raises StoreError and leaves the file as it was."""
    project, _, ann, tiers, _ = session
    from sqlalchemy import event

    event.listen(project.store.engine, "connect", lambda c, _r: c.execute("PRAGMA query_only=ON"))
    project.store.engine.dispose()
    with pytest.raises(StoreError, match="read-only"):
        CreateSegment(tiers["emotion"].id, S, 2 * S, "happy", annotator_id=ann.id).do(project.store)
    assert rows(project, "SELECT * FROM segments") == []


def test_trace_write_and_undo(session):
    project, _, ann, tiers, _ = session
    series = ensure_trace_series(project.store, tiers["valence"])
    assert (series.kind, series.sample_rate_hz, series.tier_id, series.annotator_id) == (
        "trace", 25.0, tiers["valence"].id, ann.id)
    first = sample_index(series, 2 * S)
    assert first == 50
    edit = write_trace(series, first, np.full(25, 4.0), annotator_id=ann.id)
    edit.do(project.store)
    with project.store.transaction() as tx:
        values = tx.series.read(series.id)[:, 0]
    assert np.isnan(values[:50]).all() and (values[50:75] == 4.0).all()
    edit.undo(project.store)
    with project.store.transaction() as tx:
        assert np.isnan(tx.series.read(series.id)).all()


def test_keypoints_set_copy_interpolate(session):
    project, sess, ann, _, _ = session
    with project.store.transaction() as tx:
        view = tx.views.list(sess.id)[0]
        scheme = tx.schemes.by_name("mediapipe-hand")
    series = kp.ensure_keypoint_series(project.store, view, scheme, annotator_id=ann.id)
    layout = kp.KeypointLayout.of(scheme)
    assert series.channels[:3] == ("wrist.x", "wrist.y", "wrist.v") and series.channels[-1] == "keyframe"
    kp.set_point(project.store, series, 0, 0, 100.0, 200.0, annotator_id=ann.id).do(project.store)
    kp.copy_previous(project.store, series, 10, annotator_id=ann.id).do(project.store)
    kp.set_point(project.store, series, 10, 0, 200.0, 100.0, annotator_id=ann.id).do(project.store)
    interp = kp.interpolate(project.store, series, 5, annotator_id=ann.id)
    interp.do(project.store)
    frame5 = kp.read_frame(project.store, series, 5)
    np.testing.assert_allclose(layout.xyv(frame5)[0], [150.0, 150.0, 1.0])
    assert frame5[-1] == 0.0 and np.isnan(layout.xyv(frame5)[1]).all()
    interp.undo(project.store)
    assert not kp.KeypointLayout.is_labelled(kp.read_frame(project.store, series, 5))
    kp.remove_point(project.store, series, 10, 0, annotator_id=ann.id).do(project.store)
    assert np.isnan(layout.xyv(kp.read_frame(project.store, series, 10))[0]).all()
    with pytest.raises(EditRefused, match="no labelled frame"):
        kp.copy_previous(project.store, series, 0, annotator_id=ann.id)


def test_participant_attributes_and_progress(session):
    project, sess, ann, tiers, _ = session
    with project.store.transaction() as tx:
        a = tx.participants.by_code(sess.id, "A")
    edit = UpdateParticipant(a.id, age=31, gender="f", attributes={"handedness": "left"})
    edit.do(project.store)
    assert rows(project, f"SELECT age, gender, attributes FROM participants WHERE id={a.id}") == [
        (31, "f", '{"handedness": "left"}')]
    edit.undo(project.store)
    assert rows(project, f"SELECT age, gender FROM participants WHERE id={a.id}") == [(None, None)]
    with pytest.raises(EditRefused, match="age"):
        UpdateParticipant(a.id, age=-3)
    CreateSegment(tiers["emotion"].id, 0, 5 * S, "happy", annotator_id=ann.id).do(project.store)
    with project.store.transaction() as tx:
        progress = {(p.annotator, p.tier.name): p for p in tier_progress(tx, sess)}
    assert progress[("ann", "emotion")].fraction == pytest.approx(0.5)
    assert progress[("gold", "emotion")].segments == 0


# -- team mode: roles and optimistic locking ------------------------------------------------------------

def test_roles_decide_who_edits_which_tier_on_do_and_undo(session):
    """Annotators edit their own tiers only; reviewers others' too; a refusal is AccessDenied and changes nothing."""
    from dyadlab.core.store import schema
    from dyadlab.core.store.roles import AccessDenied

    project, _, ann, tiers, _ = session
    with project.store.transaction() as tx:
        bob = tx.annotators.add("bob")
        rev = tx.annotators.add("rev", role="reviewer")
    create = CreateSegment(tiers["emotion"].id, S, 2 * S, "happy", annotator_id=ann.id)
    create.do(project.store)
    seg = create.segment
    with pytest.raises(AccessDenied, match="'bob' is 'annotator'.*belongs to annotator 'ann'"):
        UpdateSegment(seg.id, annotator_id=bob.id, expected_version=seg.version, value="sad").do(project.store)
    with pytest.raises(AccessDenied):
        DeleteSegment(seg.id, annotator_id=bob.id).do(project.store)
    with pytest.raises(AccessDenied):
        CreateSegment(tiers["emotion"].id, 3 * S, 4 * S, "sad", annotator_id=bob.id).do(project.store)
    assert rows(project, "SELECT id, value, version FROM segments") == [(seg.id, "happy", 1)]

    relabel = UpdateSegment(seg.id, annotator_id=rev.id, expected_version=seg.version, value="sad")
    relabel.do(project.store)
    assert rows(project, "SELECT value, version FROM segments") == [("sad", 2)]
    with project.store.transaction() as tx:  # demoted before undoing: the undo writes too, so it is refused
        tx.orm.get(schema.AnnotatorRow, rev.id).role = "annotator"
    with pytest.raises(AccessDenied):
        relabel.undo(project.store)
    assert rows(project, "SELECT value, version FROM segments") == [("sad", 2)]

    with project.store.transaction() as tx:
        tx.orm.get(schema.TierRow, tiers["emotion"].id).read_only = True
    with pytest.raises(AccessDenied, match="read-only"):
        create.undo(project.store)
    assert rows(project, "SELECT value FROM segments") == [("sad",)]


def test_stale_edits_raise_conflict_and_change_nothing(session):
    """Someone else's newer change is never overwritten: by a first do, an undo or a redo."""
    from dyadlab.core.errors import ConflictError

    project, _, ann, tiers, _ = session
    with project.store.transaction() as tx:
        rev = tx.annotators.add("rev", role="reviewer")
    create = CreateSegment(tiers["emotion"].id, S, 2 * S, "happy", annotator_id=ann.id)
    create.do(project.store)
    seen = create.segment
    theirs = UpdateSegment(seen.id, annotator_id=rev.id, expected_version=seen.version, value="angry")
    theirs.do(project.store)
    mine = UpdateSegment(seen.id, annotator_id=ann.id, expected_version=seen.version, value="sad")
    with pytest.raises(ConflictError, match="changed by someone else"):
        mine.do(project.store)
    with pytest.raises(ConflictError):
        DeleteSegment(seen.id, annotator_id=ann.id, expected_version=seen.version).do(project.store)
    with pytest.raises(ConflictError):
        create.undo(project.store)  # would delete the reviewer's relabel
    assert rows(project, "SELECT value, version FROM segments") == [("angry", 2)]

    retry = mine.retry({seen.id: 2})  # "apply mine": the same change against the version now stored
    retry.do(project.store)
    assert rows(project, "SELECT value, version FROM segments") == [("sad", 3)]
    with pytest.raises(ConflictError):
        theirs.undo(project.store)  # the reviewer's undo would overwrite ann's newer label
    assert rows(project, "SELECT value FROM segments") == [("sad",)]


def test_own_undo_chain_never_conflicts_with_itself(session):
    """Every write bumps the version; undo/redo of one client's stacked edits still go through."""
    project, _, ann, tiers, _ = session
    create = CreateSegment(tiers["emotion"].id, S, 2 * S, "happy", annotator_id=ann.id)
    create.do(project.store)
    move = UpdateSegment(create.segment.id, annotator_id=ann.id, expected_version=1, start_us=3 * S, end_us=4 * S)
    move.do(project.store)
    relabel = UpdateSegment(create.segment.id, annotator_id=ann.id, expected_version=2, value="sad")
    relabel.do(project.store)
    delete = DeleteSegment(create.segment.id, annotator_id=ann.id, expected_version=3)
    delete.do(project.store)
    for edit in (delete, relabel, move, create):
        edit.undo(project.store)
    assert rows(project, "SELECT * FROM segments") == []
    for edit in (create, move, relabel, delete):
        edit.do(project.store)
    assert rows(project, "SELECT * FROM segments") == []
    delete.undo(project.store)
    assert rows(project, "SELECT start_us, end_us, value FROM segments") == [(3 * S, 4 * S, "sad")]
