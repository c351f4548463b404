"""Repository behaviour the rest of DyadLab relies on: atomic units of work, locking, bulk series."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from dyadlab.core.errors import ConflictError, StoreError
from dyadlab.core.store.series import BLOCK_FRAMES


def _session_with_tier(project):
    with project.store.transaction() as tx:
        s = tx.sessions.add("s1", group="Session1", duration_us=10_000_000)
        a = tx.participants.add(s.id, "A", age=31, gender="female", speaker="spk1")
        ann = tx.annotators.ensure("ann1")
        scheme = tx.schemes.by_name("emotion-4class")
        tier = tx.tiers.add(s.id, "emotion", scheme_id=scheme.id, annotator_id=ann.id, kind="categorical",
                            participant_id=a.id)
    return s, a, ann, tier


def test_failed_unit_of_work_leaves_nothing_behind(project) -> None:
    s, a, ann, tier = _session_with_tier(project)
    with pytest.raises(StoreError, match="end"), project.store.transaction() as tx:
        tx.segments.add(tier.id, 0, 1_000_000, "happy", annotator_id=ann.id)
        tx.sessions.add("s2")
        tx.segments.add(tier.id, 5, 5, "sad", annotator_id=ann.id)  # end == start: invalid
    con = sqlite3.connect(project.db_file)
    assert con.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1


def test_committed_edit_is_in_the_file_immediately(project) -> None:
    s, a, ann, tier = _session_with_tier(project)
    with project.store.transaction() as tx:
        seg = tx.segments.add(tier.id, 100, 2_000_100, "angry", annotator_id=ann.id)
    # A second connection (another process, or the same file after a crash) sees it at once.
    row = sqlite3.connect(project.db_file).execute(
        "SELECT value, start_us, end_us, annotator_id FROM segments WHERE id = ?", (seg.id,)).fetchone()
    assert row == ("angry", 100, 2_000_100, ann.id)


def test_stale_segment_edit_is_a_conflict_not_an_overwrite(project) -> None:
    s, a, ann, tier = _session_with_tier(project)
    with project.store.transaction() as tx:
        seg = tx.segments.add(tier.id, 0, 1_000, "sad", annotator_id=ann.id)
    with project.store.transaction() as tx:
        newer = tx.segments.update(seg.id, expected_version=seg.version, value="happy")
    assert newer.version == seg.version + 1
    with pytest.raises(ConflictError, match="changed by someone else"), project.store.transaction() as tx:
        tx.segments.update(seg.id, expected_version=seg.version, value="angry")
    with project.store.transaction() as tx:
        assert tx.segments.get(seg.id).value == "happy"


def test_delete_and_restore_keeps_identity(project) -> None:
    s, a, ann, tier = _session_with_tier(project)
    with project.store.transaction() as tx:
        seg = tx.segments.add(tier.id, 0, 1_000, "sad", annotator_id=ann.id, provenance={"from": "test"})
    with project.store.transaction() as tx:
        gone = tx.segments.delete(seg.id)
        assert tx.segments.find(seg.id) is None
    with project.store.transaction() as tx:
        back = tx.segments.restore(gone)
    assert (back.id, back.value, back.provenance) == (seg.id, "sad", {"from": "test"})


def test_segments_window_query_returns_overlaps(project) -> None:
    s, a, ann, tier = _session_with_tier(project)
    with project.store.transaction() as tx:
        for i in range(10):
            tx.segments.add(tier.id, i * 1000, i * 1000 + 900, "neutral", annotator_id=ann.id)
        got = tx.segments.list(tier.id, start_us=2950, end_us=5000)
    assert [g.start_us for g in got] == [3000, 4000]


def test_segment_list_reads_what_get_reads_including_unflushed_changes(project) -> None:
    """``segments.list`` (what a session's timeline is built from) gives every field, the JSON provenance
    and the timestamps as ``get`` gives them, and sees a change made earlier in the same transaction."""
    s, a, ann, tier = _session_with_tier(project)
    with project.store.transaction() as tx:
        first = tx.segments.add(tier.id, 0, 1_000, "sad", annotator_id=ann.id, score=0.25, confidence=0.5,
                                provenance={"source": "test", "n": [1, 2]})
        tx.segments.add(tier.id, 2_000, 3_000, None, annotator_id=ann.id)
    with project.store.transaction() as tx:
        tx.segments.update(first.id, expected_version=first.version, value="happy")
        listed = tx.segments.list(tier.id)
        assert listed == [tx.segments.get(g.id) for g in listed]
    assert [(g.value, g.version) for g in listed] == [("happy", 2), (None, 1)]
    assert listed[0].provenance == {"source": "test", "n": [1, 2]} and listed[0].score == 0.25
    assert listed[0].created_at == first.created_at


def test_series_round_trip_across_blocks_with_gaps(project) -> None:
    s, a, ann, tier = _session_with_tier(project)
    rng = np.random.default_rng(0)
    values = rng.random((3 * BLOCK_FRAMES + 17, 4), dtype=np.float32)
    with project.store.transaction() as tx:
        series = tx.series.add("prediction", s.id, "model-x", ["neutral", "happy", "sad", "angry"],
                               participant_id=a.id)
        tx.series.write(series.id, values, first_frame=5)
        # overwrite a stretch that crosses a block boundary
        patch = np.full((40, 4), 7.0, dtype=np.float32)
        tx.series.write(series.id, patch, first_frame=BLOCK_FRAMES - 20)
    expected = np.full((5 + values.shape[0], 4), np.nan, dtype=np.float32)
    expected[5:] = values
    expected[BLOCK_FRAMES - 20:BLOCK_FRAMES + 20] = 7.0
    with project.store.transaction() as tx:
        assert tx.series.length(series.id) == expected.shape[0]
        got = tx.series.read(series.id)
        window = tx.series.read(series.id, 1000, 1300)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(window, expected[1000:1300])


def test_series_rejects_wrong_width(project) -> None:
    s, *_ = _session_with_tier(project)
    with pytest.raises(StoreError, match="2 channels"), project.store.transaction() as tx:
        series = tx.series.add("trace", s.id, "valence", ["valence", "arousal"], sample_rate_hz=10.0)
        tx.series.write(series.id, np.zeros((10, 3)))


def test_job_claim_is_exclusive(project) -> None:
    with project.store.transaction() as tx:
        job = tx.jobs.add("train", {"config": "tiny"})
    with project.store.transaction() as tx:
        assert tx.jobs.claim(job.id, pid=111) is True
    with project.store.transaction() as tx:
        assert tx.jobs.claim(job.id, pid=222) is False
        assert tx.jobs.get(job.id).pid == 111
