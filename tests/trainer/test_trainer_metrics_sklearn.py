"""WA, UA, macro-F1, per-class scores and the confusion matrix agree with scikit-learn (a dev dependency).

Why our own code stays (``trainer/metrics.py``): the thesis' definitions are pinned there with hand-worked
tests, and the trainer does not depend on scikit-learn at run time. These tests hold it to the reference
implementation on many random label sets, including the cases that differ between conventions: a class
missing from the ground truth (UA and F1 average the present classes: scikit-learn's balanced accuracy,
and F1 over ``labels=present``), a class never predicted (precision 0), one class only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from dyadlab.trainer.metrics import MissingClassWarning, classification_metrics, confusion_matrix

CLASSES = ["neutral", "happy", "sad", "angry", "frustrated"]


def _cases(count: int = 120):
    """(y_true, y_pred) pairs: sizes 1..60, 1..5 classes present, predictions often biased or stuck."""
    rng = np.random.default_rng(24)
    for _ in range(count):
        n = int(rng.integers(1, 61))
        present = rng.choice(len(CLASSES), size=int(rng.integers(1, len(CLASSES) + 1)), replace=False)
        y_true = rng.choice(present, size=n)
        style = rng.integers(3)
        if style == 0:  # anything, classes absent from the truth included
            y_pred = rng.integers(0, len(CLASSES), size=n)
        elif style == 1:  # mostly right
            y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, len(CLASSES), size=n))
        else:  # a model stuck on one or two classes
            y_pred = rng.choice(rng.integers(0, len(CLASSES), size=2), size=n)
        yield y_true, y_pred


def _ours(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingClassWarning)
        return classification_metrics(y_true, y_pred, CLASSES)


def test_wa_ua_and_macro_f1_match_scikit_learn() -> None:
    for y_true, y_pred in _cases():
        m = _ours(y_true, y_pred)
        present = sorted(set(y_true.tolist()))
        assert m["wa"] == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "y_pred contains classes not in y_true"
            assert m["ua"] == pytest.approx(sk.balanced_accuracy_score(y_true, y_pred), abs=1e-12)
        assert m["ua"] == pytest.approx(sk.recall_score(y_true, y_pred, labels=present, average="macro",
                                                        zero_division=0), abs=1e-12)
        assert m["macro_f1"] == pytest.approx(sk.f1_score(y_true, y_pred, labels=present, average="macro",
                                                          zero_division=0), abs=1e-12)


def test_per_class_scores_and_confusion_match_scikit_learn() -> None:
    labels = list(range(len(CLASSES)))
    for y_true, y_pred in _cases():
        m = _ours(y_true, y_pred)
        reference = sk.confusion_matrix(y_true, y_pred, labels=labels)
        assert confusion_matrix(y_true, y_pred, len(CLASSES)).tolist() == m["confusion"] == reference.tolist()
        precision, recall, f1, support = sk.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=None, zero_division=0)
        for i, name in enumerate(CLASSES):
            ours = m["per_class"][name]
            assert ours["support"] == support[i]
            assert ours["precision"] == pytest.approx(precision[i], abs=1e-12)
            if support[i]:
                assert ours["recall"] == pytest.approx(recall[i], abs=1e-12)
                assert ours["f1"] == pytest.approx(f1[i], abs=1e-12)
            else:  # no ground truth: no recall (scikit-learn reports 0), left out of UA and F1
                assert ours["recall"] is None and ours["f1"] is None and name in m["missing_classes"]
