"""Metrics against numbers worked out by hand (see each test's comment)."""

from __future__ import annotations

import csv
import json
import math
import warnings

import numpy as np
import pytest

from dyadlab.trainer.errors import DataError
from dyadlab.trainer.metrics import (
    MissingClassWarning,
    ccc,
    classification_metrics,
    confusion_matrix,
    evaluate_levels,
    format_table,
    summarize_folds,
    utterance_scores,
    write_results,
)

CLASSES = ["neutral", "happy", "sad", "angry"]
# 4 neutral, 2 happy, 4 sad, no angry
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 3, 1, 0, 2, 2, 2, 1])


def test_confusion_matrix_rows_are_true_classes():
    assert confusion_matrix(Y_TRUE, Y_PRED, 4).tolist() == [[2, 1, 0, 1], [1, 1, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]]


def test_wa_ua_f1_by_hand():
    with pytest.warns(MissingClassWarning, match=r"\['angry'\].*3 classes present"):
        m = classification_metrics(Y_TRUE, Y_PRED, CLASSES, context="fold X")
    assert m["n"] == 10
    assert m["wa"] == pytest.approx(6 / 10)                       # 2 + 1 + 3 correct
    assert m["ua"] == pytest.approx((2 / 4 + 1 / 2 + 3 / 4) / 3)   # angry has no samples: not averaged
    # precision: neutral 2/3, happy 1/3, sad 3/3 -> F1 4/7, 2/5, 6/7
    assert m["macro_f1"] == pytest.approx((4 / 7 + 2 / 5 + 6 / 7) / 3)
    assert m["missing_classes"] == ["angry"]
    assert m["per_class"]["angry"] == {"support": 0, "recall": None, "precision": 0.0, "f1": None}
    assert m["per_class"]["happy"]["precision"] == pytest.approx(1 / 3)
    json.dumps(m, allow_nan=False)  # JSON-ready: no NaN anywhere


def test_all_classes_present_gives_no_warning_and_empty_input_is_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = classification_metrics(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 2]), CLASSES)
    assert m["ua"] == pytest.approx(0.75) and m["wa"] == pytest.approx(0.75)
    with pytest.raises(DataError, match="nothing to evaluate"):
        classification_metrics(np.array([], int), np.array([], int), CLASSES)


def test_utterance_prediction_is_the_mean_of_frame_probabilities():
    stream = np.array([0, 0, 0, 0, 1, 1])
    utterance = np.array([0, 0, 0, -1, 0, 0])  # stream 1 reuses id 0: keyed by (stream, utterance)
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.4, 0.6], [0.0, 1.0], [0.3, 0.7], [0.5, 0.5]])
    keys, utt_labels, utt_probs = utterance_scores(stream, utterance, labels, probs)
    assert keys.tolist() == [[0, 0], [1, 0]]
    assert utt_labels.tolist() == [0, 1]
    # two of three frames vote "1", but the mean probability is [0.567, 0.433]: the utterance is class 0
    assert utt_probs[0] == pytest.approx([1.7 / 3, 1.3 / 3])
    levels = evaluate_levels(stream, utterance, labels, probs, ["a", "b"])
    assert levels["utterance"]["wa"] == 1.0
    assert levels["frame"]["wa"] == pytest.approx(3 / 6)  # frames 0, 3, 4 right


def test_ccc_by_hand():
    assert ccc(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == pytest.approx(1.0)
    # means 2 and 3, variances 2/3, covariance 2/3: 2(2/3) / (2/3 + 2/3 + 1) = 4/7
    assert ccc(np.array([1.0, 2, 3]), np.array([2.0, 3, 4])) == pytest.approx(4 / 7)
    both = ccc(np.array([[1.0, 1], [2, 2], [3, 3]]), np.array([[1.0, 2], [2, 3], [3, 4]]))
    assert both == pytest.approx([1.0, 4 / 7])


def _fold(name: str, ua: float) -> dict:
    level = {"n": 10, "wa": ua + 0.1, "ua": ua, "macro_f1": ua - 0.1}
    return {"fold": name, "frame": dict(level), "utterance": dict(level)}


def test_fold_table_mean_std_and_files(tmp_path):
    folds = [_fold("Session1", 0.5), _fold("Session2", 0.7)]
    summary = summarize_folds(folds)
    assert summary["frame"]["ua"]["mean"] == pytest.approx(0.6)
    assert summary["frame"]["ua"]["std"] == pytest.approx(math.sqrt(0.02))  # sample std of 0.5, 0.7
    assert summarize_folds(folds[:1])["utterance"]["wa"]["std"] == 0.0
    write_results(tmp_path, folds, {"experiment": "x"})
    doc = json.loads((tmp_path / "metrics.json").read_text())
    assert doc["experiment"] == "x" and doc["summary"] == summary and len(doc["folds"]) == 2
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [r["fold"] for r in rows] == ["Session1", "Session1", "Session2", "Session2", "mean", "std", "mean", "std"]
    assert float(rows[4]["ua"]) == pytest.approx(0.6)
    text = format_table(folds)
    assert "UA %" in text and "60.0" in text and text.count("\n") == 9
