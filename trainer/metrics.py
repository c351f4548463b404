"""Evaluation metrics of the thesis, at frame and utterance level, and the per-fold results table.

Why written out here rather than taken from scikit-learn: the definitions must match the thesis exactly
and be pinned by tests against hand-computed numbers, and the trainer does not depend on scikit-learn at
run time. ``tests/trainer/test_trainer_metrics_sklearn.py`` holds WA, UA, macro-F1, the per-class scores
and the confusion matrix to scikit-learn's (a dev dependency) on random label sets.

* WA (weighted accuracy) — overall accuracy: correct / all.
* UA (unweighted accuracy) — mean per-class recall over the classes **present in the ground truth** of
  the evaluated set. A class with no samples in a fold (it happens in speaker folds and small sessions)
  has no recall; it is left out of the mean, listed in ``missing_classes``, and a
  ``MissingClassWarning`` is issued, so a reader knows the UA averages fewer classes.
* macro-F1 — mean per-class F1 over the same present classes (a class that is predicted but absent
  from the ground truth lowers the precision of the others, not this mean).
* confusion matrix — rows are true classes, columns predicted.
* utterance level — an utterance's prediction is the argmax of the mean of its frames' probabilities;
  its label is its frames' (majority) label.
* CCC — Lin's concordance correlation coefficient for dimensional targets (valence, arousal), with
  population (ddof=0) moments.

Fold summaries report mean ± std over folds (sample std, ddof=1; 0 for a single fold) and are written
as ``metrics.json`` and ``metrics.csv`` and printed as a table.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.trainer.errors import DataError

LEVELS = ("frame", "utterance")
SUMMARY_KEYS = ("wa", "ua", "macro_f1")


class MissingClassWarning(UserWarning):
    """A class has no ground-truth samples in the evaluated set; UA/macro-F1 average fewer classes."""


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """``[C, C]`` counts, rows = true class, columns = predicted class."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str],
                           context: str = "evaluation") -> dict[str, Any]:
    """WA, UA, macro-F1, per-class recall/precision/F1/support and the confusion matrix (JSON-ready)."""
    if len(y_true) == 0:
        raise DataError(f"{context}: nothing to evaluate (no labelled samples)")
    cm = confusion_matrix(y_true, y_pred, len(classes))
    tp, support, predicted = np.diag(cm).astype(float), cm.sum(axis=1), cm.sum(axis=0)
    present = support > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(present, tp / support, np.nan)
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        f1 = np.where(precision + np.nan_to_num(recall) > 0,
                      2 * precision * recall / (precision + recall), 0.0)
    missing = [c for c, p in zip(classes, present, strict=True) if not p]
    if missing:
        warnings.warn(MissingClassWarning(
            f"{context}: no ground-truth samples of {missing}; UA and macro-F1 average the "
            f"{int(present.sum())} classes present"), stacklevel=2)
    per_class = {c: {"support": int(support[i]), "recall": None if not present[i] else float(recall[i]),
                     "precision": float(precision[i]), "f1": None if not present[i] else float(f1[i])}
                 for i, c in enumerate(classes)}
    return {"n": int(cm.sum()), "wa": float(tp.sum() / cm.sum()), "ua": float(np.mean(recall[present])),
            "macro_f1": float(np.mean(f1[present])), "classes": list(classes),
            "missing_classes": missing, "per_class": per_class, "confusion": cm.tolist()}


def utterance_scores(stream: np.ndarray, utterance: np.ndarray, labels: np.ndarray,
                     probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per utterance (frames with ``utterance >= 0``, keyed by (stream, utterance)): ``(keys [U, 2],
    labels [U], mean probabilities [U, C])``. The label is the most frequent frame label."""
    keep = utterance >= 0
    keys, inverse = np.unique(np.stack([stream[keep], utterance[keep]], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n_utt, n_cls = len(keys), probs.shape[1]
    sums = np.zeros((n_utt, n_cls), dtype=np.float64)
    np.add.at(sums, inverse, probs[keep])
    mean = sums / np.bincount(inverse, minlength=n_utt)[:, None]
    votes = np.zeros((n_utt, n_cls), dtype=np.int64)
    np.add.at(votes, (inverse, labels[keep]), 1)
    return keys, votes.argmax(axis=1), mean


def evaluate_levels(stream: np.ndarray, utterance: np.ndarray, labels: np.ndarray, probs: np.ndarray,
                    classes: Sequence[str], context: str = "evaluation") -> dict[str, dict[str, Any]]:
    """Frame- and utterance-level metrics for frames with probabilities ``probs [N, C]``."""
    result = {"frame": classification_metrics(labels, probs.argmax(axis=1), classes, f"{context} (frames)")}
    if np.any(utterance >= 0):
        _, utt_labels, utt_probs = utterance_scores(stream, utterance, labels, probs)
        result["utterance"] = classification_metrics(utt_labels, utt_probs.argmax(axis=1), classes,
                                                     f"{context} (utterances)")
    return result


def ccc(x: np.ndarray, y: np.ndarray) -> float | np.ndarray:
    """Concordance correlation coefficient along axis 0 (one value per column for 2-D input)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    mx, my = x.mean(axis=0), y.mean(axis=0)
    cov = ((x - mx) * (y - my)).mean(axis=0)
    value = 2 * cov / (x.var(axis=0) + y.var(axis=0) + (mx - my) ** 2)
    return float(value) if np.ndim(value) == 0 else value


# -- fold table ----------------------------------------------------------------------------------------

def summarize_folds(folds: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """``{level: {metric: {"mean", "std", "n_folds"}}}`` over the folds that have that level."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for level in LEVELS:
        rows = [f[level] for f in folds if level in f]
        if not rows:
            continue
        summary[level] = {}
        for key in SUMMARY_KEYS:
            values = np.array([r[key] for r in rows], dtype=float)
            summary[level][key] = {"mean": float(values.mean()),
                                   "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                                   "n_folds": len(values)}
    return summary


def table_rows(folds: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per fold and level, then ``mean`` and ``std`` rows (what the CSV holds)."""
    rows = [{"fold": f["fold"], "level": level, "n": f[level]["n"],
             **{k: f[level][k] for k in SUMMARY_KEYS}}
            for f in folds for level in LEVELS if level in f]
    for level, stats in summarize_folds(folds).items():
        for stat in ("mean", "std"):
            rows.append({"fold": stat, "level": level, "n": "",
                         **{k: stats[k][stat] for k in SUMMARY_KEYS}})
    return rows


def format_table(folds: Sequence[dict[str, Any]]) -> str:
    """The fold table as aligned text, metrics in percent."""
    header = ["fold", "level", "n", "WA %", "UA %", "F1 %"]
    lines = [[str(r["fold"]), r["level"], str(r["n"]), *(f"{100 * r[k]:.1f}" for k in SUMMARY_KEYS)]
             for r in table_rows(folds)]
    widths = [max(len(x) for x in col) for col in zip(header, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths)),
                      *(fmt.format(*line) for line in lines)])


def write_results(out_dir: Path, folds: Sequence[dict[str, Any]], extra: dict[str, Any] | None = None) -> dict:
    """Write ``metrics.json`` (folds + summary) and ``metrics.csv`` (the fold table) into ``out_dir``."""
    from dyadlab.core.atomic_write import write_text_atomically
    from dyadlab.trainer.events import write_json_atomic

    document = {**(extra or {}), "folds": list(folds), "summary": summarize_folds(folds)}
    write_json_atomic(out_dir / "metrics.json", document)
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=["fold", "level", "n", *SUMMARY_KEYS])
    writer.writeheader()
    writer.writerows(table_rows(folds))
    write_text_atomically(out_dir / "metrics.csv", table.getvalue())
    return document


def read_results(out_dir: Path) -> dict[str, Any]:
    return json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
