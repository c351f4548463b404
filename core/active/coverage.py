"""How unlike everything labelled (or already queued) a stretch is, in a feature space: the queue's coverage term.

Why: uncertainty alone asks about what the model *knows it does not know*. After a cold start (the first
labels all from one recording and one class) the model has never seen the other classes, so it can be
neither uncertain about them nor propose them: the most uncertain stretch of a new recording is the one
that resembles what it knows. What it has never seen shows up instead as *distance*: a stretch whose
features (what it sounds or looks like, e.g. its mean audio functionals) lie far from every labelled one is
what the labels do not cover yet. This is the k-center greedy core-set rule (Sener & Savarese 2018): pick
the point farthest from the chosen set, add it, repeat — here as one term of the worth, so that among
equally uncertain stretches the one unlike anything labelled wins, and a near-duplicate of a label does not.

Distances are Euclidean on features standardised over every stretch and label in play (each dimension to
mean 0 and standard deviation 1, so a feature measured in Hz does not outweigh one in dB), and expressed
in units of the *typical* distance (the median distance between two stretches): novelty
``1 - exp(-d / typical)``, 0 for a duplicate of a label, about 0.63 at the typical distance, 1 with nothing
labelled at all. With ``groups`` (the ranking's default: one per session and participant) each group is
standardised on its own first, so a stretch is far when it is unlike its speaker's usual, not when its
speaker's voice is unlike the labelled speakers' (a group of one stretch then says nothing: it sits at the
centre). Array-only and deterministic, like ``ranking``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

TYPICAL_SAMPLE = 400  # stretches (evenly spaced) whose pairwise distances give the typical distance


class Coverage:
    """Per open stretch: its distance to the nearest labelled or picked one (k-center greedy state)."""

    def __init__(self, features: Sequence[np.ndarray], labelled: Sequence[np.ndarray] = (), *,
                 groups: Sequence[Hashable] | None = None, labelled_groups: Sequence[Hashable] = ()) -> None:
        """``groups`` (one key per open stretch, e.g. its session and participant) and ``labelled_groups``
        (per labelled one): standardise each group's features on their own first (per speaker), so that
        distances measure how a stretch differs from its speaker's usual, not how speakers differ."""
        x = np.stack([np.asarray(f, np.float64).ravel() for f in features])
        done = np.stack([np.asarray(f, np.float64).ravel() for f in labelled]) if len(labelled) else x[:0]
        if done.shape[1] != x.shape[1]:
            raise ValueError(f"labelled stretches have {done.shape[1]} features, open ones {x.shape[1]}")
        both = np.concatenate([x, done])
        finite = np.isfinite(both)  # a missing value counts as that dimension's mean (0 once standardised)
        both = _standardised(np.where(finite, both, _column_means(both, finite)))
        if groups is not None:
            keys = [*groups, *labelled_groups]
            if len(keys) != len(both):
                raise ValueError(f"{len(keys)} group keys for {len(both)} stretches (open and labelled)")
            index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
            of = np.array([index[k] for k in keys])
            for g in range(len(index)):
                both[of == g] = _standardised(both[of == g])
            both = _standardised(both)
        self.x, done = both[: len(x)], both[len(x):]
        sample = self.x[np.unique(np.linspace(0, len(x) - 1, min(len(x), TYPICAL_SAMPLE)).astype(int))]
        to_sample = _distances(self.x, sample)
        pairs = _distances(sample, sample)[np.triu_indices(len(sample), 1)]
        self.typical = float(np.median(pairs)) if len(pairs) else 0.0
        # how typical of the open stretches each one is: its mean similarity to them (1 for the most typical)
        similar = np.exp(-to_sample / self.typical).mean(axis=1) if self.typical > 0 else np.ones(len(x))
        self.density = similar / similar.max()
        self.distance = np.full(len(x), np.inf)  # to the nearest labelled or picked stretch
        self.nearest = np.full(len(x), -1)  # -1: a label (or nothing yet); r >= 0: the pick of rank r
        if len(done):
            self.distance = _distances(self.x, done).min(axis=1)

    def novelty(self) -> np.ndarray:
        """Per stretch in [0, 1]: 0 for a duplicate of a label or pick, 1 for one unlike anything (none yet)."""
        if self.typical <= 0:
            return np.where(np.isinf(self.distance), 1.0, 0.0)
        return 1.0 - np.exp(-self.distance / self.typical)

    def add(self, i: int, rank: int) -> None:
        """Stretch ``i`` was picked (as rank ``rank``): the others' distances now count it too."""
        d = _distances(self.x, self.x[i:i + 1])[:, 0]
        closer = d < self.distance
        self.distance = np.where(closer, d, self.distance)
        self.nearest = np.where(closer, rank, self.nearest)


def _column_means(x: np.ndarray, finite: np.ndarray) -> np.ndarray:
    return np.where(finite, x, 0.0).sum(axis=0) / np.maximum(finite.sum(axis=0), 1)


def _standardised(x: np.ndarray) -> np.ndarray:
    """Each column to mean 0 and standard deviation 1 (a constant column to 0)."""
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(squared, 0.0, None))
