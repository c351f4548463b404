"""Speaker-invariant feature selection: rank input dimensions by how consistently they separate the classes
across the training speakers.

Why: with thousands of functionals (ComParE: 6373) and a handful of training speakers, an MLP learns
whichever dimensions tell the training speakers' emotions apart — many of them only for those speakers
(a pitch level that is "happy" for one voice is "neutral" for a higher one) — and fails on unseen speakers.
Ranking by plain class separation (an ANOVA F score) keeps those speaker-bound dimensions; this score
divides the class separation by the spread of the *speakers'* class means instead:

    score_d = sum_c n_c (m_cd - m_d)^2  /  sum_{s,c} n_sc (m_scd - m_cd)^2

(``m_d`` the mean of dimension d over the frames, ``m_cd`` over class c, ``m_scd`` over speaker s's frames
of class c; ``n`` the frame counts). A dimension scores high when the classes differ and every speaker
shows the same class means. It is invariant to each dimension's scale and offset, so raw features do.

Only training frames are used (labels of the training part; the test speakers are never seen). On the demo
corpus (5 sessions × 30 s) the ComParE MLP with the 500 best dimensions reaches, in leave-one-session-out
over Session1–4, utterance UA 0.98 against 0.85 with all dimensions (README, "Training").
"""

from __future__ import annotations

from typing import Any

import numpy as np

TINY = 1e-12


def speaker_invariance_scores(data: Any, rows: np.ndarray, labels: np.ndarray, speakers: np.ndarray,
                              num_classes: int, chunk: int = 8192) -> np.ndarray:
    """The score of each dimension (``[D]``, higher is better) over ``rows`` of the ``[N, D]`` array ``data``,
    whose ``labels`` (``[N]``, class indices; rows used must be labelled) and ``speakers`` (``[N]``) are
    table-wide. Reads ``data`` in chunks of rows; keeps per-(speaker, class) sums only."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        raise ValueError("no rows to rank feature dimensions on")
    _, speaker_of = np.unique(speakers[rows], return_inverse=True)
    cell = speaker_of * num_classes + labels[rows]  # one (speaker, class) cell per row
    cells = int(cell.max()) + 1
    sums = np.zeros((cells, data.shape[1]))
    for lo in range(0, len(rows), chunk):
        block = np.asarray(data[rows[lo:lo + chunk]], dtype=np.float64)
        np.add.at(sums, cell[lo:lo + chunk], block)
    counts = np.bincount(cell, minlength=cells).astype(np.float64)
    cell_class = np.arange(cells) % num_classes
    class_counts = np.bincount(cell_class, weights=counts, minlength=num_classes)
    class_sums = np.zeros((num_classes, data.shape[1]))
    np.add.at(class_sums, cell_class, sums)
    present = class_counts > 0
    class_means = class_sums[present] / class_counts[present, None]
    grand = class_sums.sum(axis=0) / class_counts.sum()
    between = (class_counts[present, None] * np.square(class_means - grand)).sum(axis=0)
    filled = counts > 0
    cell_means = sums[filled] / counts[filled, None]
    own_class = (class_sums / np.maximum(class_counts, 1)[:, None])[cell_class[filled]]
    speakers_spread = (counts[filled, None] * np.square(cell_means - own_class)).sum(axis=0)
    return between / np.maximum(speakers_spread, TINY)  # one training speaker: by class separation alone


def select_dimensions(scores: np.ndarray, keep: int) -> np.ndarray:
    """The indices of the ``keep`` best-scoring dimensions, ascending (ties: the lower index)."""
    order = np.argsort(-scores, kind="stable")
    return np.sort(order[:keep])
