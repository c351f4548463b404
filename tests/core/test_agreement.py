"""Agreement statistics against textbook values computed by hand, then on a small project."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.agreement import (
    agreement_report,
    cohen_kappa,
    fleiss_kappa,
    icc,
    krippendorff_alpha,
    label_counts,
    lin_ccc,
)
from dyadlab.core.project import create_project

# -- textbook examples -----------------------------------------------------------------------------


def test_cohen_kappa_wikipedia_50_items():
    # 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po = 0.7, pe = 0.5·0.6 + 0.5·0.4 = 0.5, kappa = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_edges():
    assert cohen_kappa(["a", "b", "a"], ["a", "b", "a"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", None, "b", "a"], ["a", "b", "b", math.nan]) == pytest.approx(1.0)  # missing dropped
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))  # no variation: undefined
    assert math.isnan(cohen_kappa([None], ["a"]))
    with pytest.raises(ValueError):
        cohen_kappa(["a"], ["a", "b"])


def test_fleiss_kappa_wikipedia_example():
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 1], [1, 1]])  # items rated by different numbers of raters


def test_label_counts_feed_fleiss():
    counts, categories = label_counts(np.array([["a", "a", "b"], ["b", "b", "b"]], dtype=object))
    assert categories == ["a", "b"] and counts.tolist() == [[2, 1], [0, 3]]


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units, gaps = missing.
K2011 = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
         [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849),
                                                 ("ratio", 0.797)])
def test_krippendorff_alpha_2011_example_with_missing_values(level, expected):
    assert krippendorff_alpha(K2011, level) == pytest.approx(expected, abs=5e-4)


def test_krippendorff_alpha_accepts_nan_and_ignores_unpairable_units():
    as_float = np.array([[np.nan if v is None else v for v in row] for row in K2011], dtype=float)
    assert krippendorff_alpha(as_float, "interval") == pytest.approx(0.849, abs=5e-4)
    # unit 12 has one value only: removing it changes nothing
    assert krippendorff_alpha([row[:11] for row in K2011]) == pytest.approx(krippendorff_alpha(K2011))
    assert math.isnan(krippendorff_alpha([[1, None], [None, 2]]))
    assert krippendorff_alpha([["a", "b"], ["a", "b"]]) == pytest.approx(1.0)


def test_lin_ccc_by_hand():
    # x = 1..5, y = x + 1: var 2 and 2, cov 2, mean difference 1 → 2·2 / (2 + 2 + 1) = 0.8
    assert lin_ccc([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]) == pytest.approx(0.8)
    assert lin_ccc([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert lin_ccc([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 9.0, 4.0]) == pytest.approx(1.0)
    assert math.isnan(lin_ccc([2, 2], [2, 2]))


def test_icc_shrout_fleiss_1979_example():
    # 6 targets × 4 judges; Shrout & Fleiss (1979) Table 4: ICC(2,1) = .29, ICC(3,1) = .71
    ratings = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    assert icc(ratings, "ICC(2,1)") == pytest.approx(0.290, abs=5e-3)
    assert icc(ratings, "ICC(3,1)") == pytest.approx(0.715, abs=5e-3)
    with pytest.raises(ValueError):
        icc(ratings, "ICC(1,1)")  # type: ignore[arg-type]


# -- a project -------------------------------------------------------------------------------------

S = 1_000_000


def _project(root: Path):
    """Session X (10 s): alice H×5 S×5, bob H×4 S×6, carol H×5 then nothing; valences 2/4 and 2.5/4.5."""
    project = create_project(root)
    with project.store.transaction() as tx:
        emotion, vad = tx.schemes.by_name("emotion-4class"), tx.schemes.by_name("vad")
        who = {n: tx.annotators.add(n) for n in ("alice", "bob", "carol")}
        for name, other_values in (("X", False), ("Y", True)):
            session = tx.sessions.add(name, duration_us=10 * S)
            a = tx.participants.add(session.id, "A")
            tx.utterances.add(session.id, f"{name}_u1", 0, 5 * S, participant_id=a.id)
            tx.utterances.add(session.id, f"{name}_u2", 5 * S, 10 * S, participant_id=a.id)
            spans = {"alice": [(0, 5, "happy"), (5, 10, "sad")], "bob": [(0, 4, "happy"), (4, 10, "sad")],
                     "carol": [(0, 5, "happy")]}
            if other_values:
                spans = {"alice": [(0, 10, "angry")], "bob": [(0, 10, "neutral")]}
            for annotator, segs in spans.items():
                tier = tx.tiers.add(session.id, "emotion", scheme_id=emotion.id, annotator_id=who[annotator].id,
                                    kind="categorical", participant_id=a.id)
                for start, end, value in segs:
                    tx.segments.add(tier.id, start * S, end * S, value, annotator_id=who[annotator].id)
            if not other_values:
                for annotator, (low, high) in (("alice", (2.0, 4.0)), ("bob", (2.5, 4.5))):
                    tier = tx.tiers.add(session.id, "valence", scheme_id=vad.id, annotator_id=who[annotator].id,
                                        kind="dimensional", participant_id=a.id)
                    tx.segments.add(tier.id, 0, 5 * S, None, annotator_id=who[annotator].id, score=low)
                    tx.segments.add(tier.id, 5 * S, 10 * S, None, annotator_id=who[annotator].id, score=high)
    return project


@pytest.fixture
def rated(tmp_path):
    project = _project(tmp_path / "rated")
    yield project
    project.close()


def test_pairs_on_one_second_frames(rated):
    report = agreement_report(rated, tier="emotion", step_ms=1000, sessions=["X"])
    pairs = {(p.annotator_a, p.annotator_b): p for p in report.pairs}
    # alice/bob: agree on 9 of 10 frames, pe = 0.5·0.4 + 0.5·0.6 = 0.5 → kappa 0.8
    assert pairs[("alice", "bob")].n_units == 10 and pairs[("alice", "bob")].kappa == pytest.approx(0.8)
    # alice/carol: 5 common frames, all "happy": no variation, kappa undefined
    assert pairs[("alice", "carol")].n_units == 5 and math.isnan(pairs[("alice", "carol")].kappa)
    # bob/carol: po = 0.8 and pe = 0.8 → 0
    assert pairs[("bob", "carol")].kappa == pytest.approx(0.0)
    (group,) = report.groups
    assert (group.n_units, group.n_complete) == (10, 5)
    # complete frames: 4 × (H,H,H) and (H,S,H): P̄ = 13/15, Pe = 197/225 → −1/14
    assert group.fleiss_kappa == pytest.approx(-1 / 14)
    assert group.alpha == pytest.approx(krippendorff_alpha(
        [["happy"] * 5 + ["sad"] * 5, ["happy"] * 4 + ["sad"] * 6, ["happy"] * 5 + [None] * 5]))


def test_utterances_and_pooled_scope(rated):
    report = agreement_report(rated, tier="emotion", unit="utterances", annotators=["alice", "bob"])
    by_scope = {p.scope: p for p in report.pairs}
    assert set(by_scope) == {"X", "Y", "all"}
    # X: bob's first utterance is mostly happy → both say (happy, sad): perfect agreement
    assert by_scope["X"].kappa == pytest.approx(1.0) and by_scope["X"].n_units == 2
    assert by_scope["Y"].kappa == pytest.approx(0.0)  # angry vs neutral twice: po = 0, pe = 0
    # pooled: (happy, sad, angry, angry) vs (happy, sad, neutral, neutral): po = .5, pe = .25·.25·2 = .125
    assert by_scope["all"].n_units == 4 and by_scope["all"].kappa == pytest.approx((0.5 - 0.125) / 0.875)
    assert report.unit == "utterances" and report.step_us is None


def test_dimensional_tiers_get_ccc_alpha_and_icc(rated):
    report = agreement_report(rated, tier="valence", step_ms=1000)
    (pair,) = report.pairs
    # x = 2,4 and y = 2.5,4.5 (five frames each): var 1 and 1, cov 1, mean difference .5 → 2 / 2.25
    assert pair.ccc == pytest.approx(8 / 9) and math.isnan(pair.kappa)
    x, y = [2.0] * 5 + [4.0] * 5, [2.5] * 5 + [4.5] * 5
    assert pair.alpha == pytest.approx(krippendorff_alpha([x, y], "interval"))
    assert pair.icc == pytest.approx(icc(np.column_stack([x, y]), "ICC(2,1)"))
    (group,) = report.groups
    assert group.icc3_1 == pytest.approx(1.0)  # a constant offset is perfect consistency
    assert group.icc2_1 < 1.0  # but not perfect absolute agreement


def test_report_serialises_nan_as_null_and_renders_a_table(rated):
    report = agreement_report(rated, tier=None, step_ms=1000, sessions=["X"])
    data = report.to_dict()
    assert {p["tier"] for p in data["pairs"]} == {"emotion", "valence"}
    assert any(p["kappa"] is None for p in data["pairs"])
    assert "alice          bob" in report.table()
