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


# -- cross-checks against well-kept implementations ---------------------------------------------------


def _random_labels(rng, n: int, missing: float) -> list[str | None]:
    return [None if rng.random() < missing else str(rng.choice(["ang", "hap", "neu", "sad"])) for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_agrees_with_scikit_learn(seed):
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(seed)
    a = _random_labels(rng, 200, 0.1)
    b = [x if x is not None and rng.random() < 0.6 else y for x, y in zip(a, _random_labels(rng, 200, 0.1),
                                                                          strict=True)]
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    expected = cohen_kappa_score([x for x, _ in both], [y for _, y in both])
    assert 0.2 < expected < 0.9
    assert cohen_kappa(a, b) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("level", "seed"), [(lv, s) for lv in ("nominal", "interval") for s in range(4)])
def test_krippendorff_alpha_agrees_with_the_krippendorff_package(level, seed):
    import krippendorff

    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, size=60).astype(float)
    data = np.array([truth + rng.normal(0, 0.8, 60).round() for _ in range(3)])
    data[rng.random(data.shape) < 0.15] = np.nan  # missing values, some units unpairable
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    ours = krippendorff_alpha(data if level == "interval" else [[None if np.isnan(v) else int(v) for v in row]
                                                                for row in data], level)
    assert ours == pytest.approx(expected, abs=1e-9)


def _icc_by_least_squares(table: np.ndarray) -> tuple[float, float]:
    """ICC(2,1) and ICC(3,1) from a two-way ANOVA fitted as a linear model (rows + columns as dummies)."""
    n, k = table.shape
    y = table.ravel()
    rows, cols = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)

    def rss(design: np.ndarray) -> float:
        fit = np.linalg.lstsq(design, y, rcond=None)[0]
        return float(np.sum((y - design @ fit) ** 2))

    ones = np.ones((n * k, 1))
    row_dummies, col_dummies = np.eye(n)[rows][:, 1:], np.eye(k)[cols][:, 1:]
    full = rss(np.hstack([ones, row_dummies, col_dummies]))
    ms_rows = (rss(np.hstack([ones, col_dummies])) - full) / (n - 1)
    ms_cols = (rss(np.hstack([ones, row_dummies])) - full) / (k - 1)
    ms_error = full / ((n - 1) * (k - 1))
    icc2 = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n)
    icc3 = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error)
    return icc2, icc3


@pytest.mark.parametrize("seed", range(4))
def test_icc_agrees_with_a_least_squares_two_way_anova(seed):
    rng = np.random.default_rng(seed)
    targets = rng.normal(3, 1, size=(30, 1))
    table = targets + rng.normal(0, 0.6, size=(30, 3)) + np.array([0.0, 0.4, -0.3])  # rater offsets
    icc2, icc3 = _icc_by_least_squares(table)
    assert icc(table, "ICC(2,1)") == pytest.approx(icc2, abs=1e-9)
    assert icc(table, "ICC(3,1)") == pytest.approx(icc3, abs=1e-9)
    with_gap = table.copy()
    with_gap[4, 1] = np.nan  # a target one rater skipped is left out
    assert icc(with_gap, "ICC(2,1)") == pytest.approx(_icc_by_least_squares(np.delete(table, 4, axis=0))[0])


@pytest.mark.parametrize("seed", range(4))
def test_lin_ccc_is_pearson_times_the_bias_correction_factor(seed):
    """Lin (1989): ρc = ρ · Cb with Cb = 2 / (v + 1/v + u²), v = σx/σy, u = (μx − μy)/√(σx σy)."""
    from scipy.stats import pearsonr

    rng = np.random.default_rng(seed)
    x = rng.normal(3, 1, 80)
    y = 0.8 * x + rng.normal(0.5, 0.5, 80)
    v, u = x.std() / y.std(), (x.mean() - y.mean()) / np.sqrt(x.std() * y.std())
    expected = pearsonr(x, y).statistic * 2 / (v + 1 / v + u**2)
    assert lin_ccc(x, y) == pytest.approx(expected, abs=1e-12)


# -- the confusion table -----------------------------------------------------------------------------------


def test_confusion_counts_every_unit_with_missing_labels_last():
    from dyadlab.core.agreement_table import NONE_LABEL, confusion

    table = confusion(["hap", "sad", None, "hap", math.nan], ["hap", "hap", "sad", None, "ang"])
    assert table.rows == ["hap", "sad", NONE_LABEL] and table.columns == ["ang", "hap", "sad", NONE_LABEL]
    assert table.count("hap", "hap") == 1 and table.count("sad", "hap") == 1
    assert table.count(NONE_LABEL, "sad") == 1 and table.count(NONE_LABEL, "ang") == 1
    assert table.count("hap", NONE_LABEL) == 1 and table.count("sad", "sad") == 0
    assert sum(table.counts.values()) == 5


def test_agreement_table_holds_the_labels_the_kappa_was_computed_from(rated):
    from dyadlab.core.agreement_table import agreement_table

    table = agreement_table(rated, tier="emotion", unit="frames", step_ms=1000, sessions=["X", "Y"],
                            annotators=["alice", "bob", "carol"])
    assert table.scope == "all" and not table.numeric and table.n_units == 20
    assert table.pair("bob", "alice").kappa == pytest.approx(cohen_kappa(table.labels["alice"], table.labels["bob"]))
    conf = table.confusion("alice", "carol")
    assert conf.count("happy", "happy") == 5 and conf.count("sad", "(none)") == 5
    assert conf.count("angry", "(none)") == 10  # session Y: carol did not label
    one = agreement_table(rated, tier="emotion", unit="frames", step_ms=1000, sessions=["X"],
                          annotators=["alice", "bob"])
    assert one.scope == "X" and one.n_units == 10 and one.pair("alice", "bob").kappa == pytest.approx(0.8)
