"""Recorded traces in agreement: resampled on the same grid as segment scores, values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dyadlab.core.agreement import agreement_report
from dyadlab.core.agreement_table import agreement_table, raters
from dyadlab.core.continuous_ratings import Trace, continuous_per_unit, trace_per_unit
from dyadlab.core.labels.timeline import frame_units, utterance_units
from dyadlab.core.model import Segment, Utterance
from dyadlab.core.project import create_project

S = 1_000_000
NAN = math.nan


def _segment(start_s: float, end_s: float, score: float) -> Segment:
    return Segment(id=0, tier_id=1, start_us=int(start_s * S), end_us=int(end_s * S), value=None, annotator_id=1,
                   score=score)


def test_trace_is_piecewise_constant_and_read_at_frame_centres():
    trace = Trace(tier_id=1, start_us=0, rate_hz=2.0, values=np.array([1.0, 2.0, NAN, 4.0]))
    # sample i covers [i/2, (i+1)/2) s; past the end and NaN samples are missing
    got = trace.at(np.array([0, 499_999, 500_000, 1_200_000, 1_500_000, 2_000_000, -1]))
    np.testing.assert_array_equal(got, [1.0, 1.0, 2.0, NAN, 4.0, NAN, NAN])
    units = frame_units(3 * S, 500_000)  # centres 0.25, 0.75, … 2.75 s
    np.testing.assert_array_equal(trace_per_unit(trace, units), [1.0, 2.0, NAN, 4.0, NAN, NAN])


def test_trace_mean_over_an_utterance_weights_each_sample_by_its_overlap():
    trace = Trace(tier_id=1, start_us=0, rate_hz=1.0, values=np.array([1.0, 3.0, NAN, 5.0]))
    units = utterance_units([Utterance(id=1, session_id=1, participant_id=None, name="u1", start_us=500_000, end_us=2_000_000),
                             Utterance(id=2, session_id=1, participant_id=None, name="u2", start_us=2_000_000, end_us=2_900_000),
                             Utterance(id=3, session_id=1, participant_id=None, name="u3", start_us=1_500_000, end_us=3_500_000),
                             Utterance(id=4, session_id=1, participant_id=None, name="u4", start_us=4_000_000, end_us=5_000_000)])
    # u1: 1 for 0.5 s, 3 for 1 s → 7/3; u2: only NaN → missing; u3: 3 for .5 s, 5 for .5 s → 4; u4: past the end
    np.testing.assert_allclose(trace_per_unit(trace, units), [7 / 3, 4.0, NAN, NAN])  # sorted by start


def test_a_tier_with_segments_and_a_trace_uses_the_trace_where_it_has_a_value():
    trace = Trace(tier_id=1, start_us=0, rate_hz=1.0, values=np.array([NAN, 9.0, 9.0]))
    segments = [_segment(0, 2, 1.0), _segment(3, 4, 2.0)]
    units = frame_units(5 * S, S)
    np.testing.assert_array_equal(continuous_per_unit(segments, trace, units), [1.0, 9.0, 9.0, 2.0, NAN])
    np.testing.assert_array_equal(continuous_per_unit(segments, None, units), [1.0, 1.0, NAN, 2.0, NAN])


def test_trace_needs_a_positive_rate():
    with pytest.raises(ValueError, match="sample rate"):
        Trace(tier_id=3, start_us=0, rate_hz=0.0, values=np.empty(0))


# -- a project: alice typed scores, bob and carol recorded traces ------------------------------------------

BOB = [1, 2, 3, 4, 5, NAN, NAN, 4, 4, 4]  # 1 Hz: sample k covers [k, k+1) s


def _traced_project(root):
    """Session X (10 s, utterances 0–5 and 5–10 s): alice's valence segments 2 (0–5 s) and 4 (5–10 s);
    bob's trace at 1 Hz (BOB); carol's trace at 2 Hz holding bob's value in the second half of each of
    bob's seconds and 0 in the first half; dave's trace was undone (all NaN)."""
    from dyadlab.core.edits.traces import ensure_trace_series

    project = create_project(root)
    with project.store.transaction() as tx:
        vad = tx.schemes.by_name("vad")
        session = tx.sessions.add("X", duration_us=10 * S)
        a = tx.participants.add(session.id, "A")
        tx.utterances.add(session.id, "X_u1", 0, 5 * S, participant_id=a.id)
        tx.utterances.add(session.id, "X_u2", 5 * S, 10 * S, participant_id=a.id)
        tiers = {}
        for name in ("alice", "bob", "carol", "dave"):
            who = tx.annotators.add(name)
            tiers[name] = tx.tiers.add(session.id, "valence", scheme_id=vad.id, annotator_id=who.id,
                                       kind="dimensional", participant_id=a.id)
        tx.segments.add(tiers["alice"].id, 0, 5 * S, None, annotator_id=tiers["alice"].annotator_id, score=2.0)
        tx.segments.add(tiers["alice"].id, 5 * S, 10 * S, None, annotator_id=tiers["alice"].annotator_id, score=4.0)
    carol = np.array([[0.0, v] for v in BOB]).ravel()
    for name, rate, values in (("bob", 1.0, BOB), ("carol", 2.0, carol), ("dave", 25.0, [NAN] * 5)):
        series = ensure_trace_series(project.store, tiers[name], rate_hz=rate)
        with project.store.transaction() as tx:
            tx.series.write(series.id, np.asarray(values, np.float32))
    return project


@pytest.fixture
def traced(tmp_path):
    project = _traced_project(tmp_path / "traced")
    yield project
    project.close()


def test_trace_against_segment_scores_by_hand(traced):
    report = agreement_report(traced, tier="valence", step_ms=1000, annotators=["alice", "bob"])
    (pair,) = report.pairs
    # frames where bob rated: alice 2,2,2,2,2,4,4,4 vs bob 1,2,3,4,5,4,4,4: means 2.75 / 3.375,
    # variances 0.9375 / 1.484375, covariance 0.46875 → CCC = 0.9375 / 2.8125 = 1/3
    assert pair.n_units == 8 and pair.ccc == pytest.approx(1 / 3)
    x, y = [2.0] * 5 + [4.0] * 3, [1.0, 2.0, 3.0, 4.0, 5.0, 4.0, 4.0, 4.0]
    x_all = [2.0] * 5 + [4.0] * 5
    from dyadlab.core.agreement import icc, krippendorff_alpha

    assert pair.alpha == pytest.approx(krippendorff_alpha([x_all, BOB], "interval"))
    assert pair.icc == pytest.approx(icc(np.column_stack([x, y]), "ICC(2,1)"))


def test_traces_at_different_rates_meet_on_one_grid(traced):
    report = agreement_report(traced, tier="valence", step_ms=1000, annotators=["bob", "carol"])
    (pair,) = report.pairs  # carol's 2 Hz samples at the frame centres are bob's values: perfect agreement
    assert pair.n_units == 8 and pair.ccc == pytest.approx(1.0) and pair.alpha == pytest.approx(1.0)
    half = agreement_report(traced, tier="valence", step_ms=500, annotators=["bob", "carol"]).pairs[0]
    assert half.n_units == 16 and half.ccc < 1.0  # at 500 ms carol's zeros count too


def test_utterance_units_take_the_trace_mean(traced):
    report = agreement_report(traced, tier="valence", unit="utterances", annotators=["alice", "bob"])
    (pair,) = report.pairs
    # u1: alice 2, bob mean(1..5) = 3; u2: alice 4, bob 4 (NaN samples left out) → CCC 2·.5 / (1 + .25 + .25)
    assert pair.n_units == 2 and pair.ccc == pytest.approx(2 / 3)


def test_the_group_and_the_table_count_every_rater(traced):
    table = agreement_table(traced, tier="valence", unit="frames", step_ms=1000, sessions=["X"],
                            annotators=["alice", "bob", "carol"])
    assert table.numeric and table.scope == "X" and table.annotators == ["alice", "bob", "carol"]
    assert table.labels["bob"][:5] == [1.0, 2.0, 3.0, 4.0, 5.0] and np.isnan(table.labels["bob"][5])
    assert table.labels["alice"] == [2.0] * 5 + [4.0] * 5 and table.n_units == 10
    group = table.group
    assert group is not None and (group.n_units, group.n_complete) == (8, 8)  # frames 5-6: alice only
    assert table.pair("bob", "alice").ccc == pytest.approx(1 / 3)


def test_raters_lists_who_rated_with_segments_or_a_trace(traced):
    # dave's trace holds no rated sample (an undone pass): he did not rate
    assert raters(traced, "valence") == {"alice": "human", "bob": "human", "carol": "human"}
    assert raters(traced, "arousal") == {}


def test_the_agreement_command_counts_traces(traced, capsys):
    from dyadlab.core.cli.main import main

    root = traced.root
    traced.close()
    assert main(["agreement", str(root), "--tier", "valence", "--step-ms", "1000", "--annotators", "alice",
                 "bob"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.split()[:4] == ["valence", "X",
                                                                                                 "alice", "bob"])
    n, _kappa, _alpha, ccc, _icc = line.split()[4:]
    assert n == "8" and float(ccc) == pytest.approx(1 / 3, abs=5e-4)
