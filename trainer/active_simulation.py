"""Simulate an annotator who labels a corpus in queue order, in time order or at random, retraining as they go.

Why: the claim "the queue saves labelling effort" must be measured, not asserted. Given a labelled
``FrameTable`` (the demo corpus: its gold labels play the annotator), pool sessions to label and held-out
test sessions, each order labels the pool's utterances in budget steps (the same steps and seed for every
order); after each step the current model is fine-tuned on all labels so far (``finetune.fine_tune``, as
the background retraining does) and scored by utterance UA on the test sessions. The queue order ranks the
pool's unlabelled utterances with ``core.active.ranking.rank`` on the current model's predictions (entropy,
diversity penalty, what is labelled already, and the novelty of each utterance's mean feature inputs —
``unit_features`` — against the labelled ones), as the "Next to label" panel does; time order takes them session by session
from the start; random order is a seeded permutation. ``balanced`` (not run by default) is an annotator who
knows the answers: each pick is a random utterance of the class labelled least so far — what a perfect
class-coverage queue could do, so a goal no order but time reaches can be told from one no ranking can
reach. The model of step 0 is the same untrained model for
every order, and the first budget step is labelled from the start (time order) by every order: the queue
needs a model to rank with, as in the app, where a trained or pretrained model stands behind it (an
untrained network's "uncertainty" is noise: on the demo it put three utterances of one class first).

Everything is seeded and runs on one torch thread, so the same arguments give the same curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from dyadlab.core.active.ranking import Labelled, Stretch, Weights, rank
from dyadlab.trainer.finetune import balanced_accuracy, fine_tune

ORDERS = ("queue", "time", "random", "balanced")
DEFAULT_STEPS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0)


@dataclass
class Curve:
    order: str
    fractions: list[float] = field(default_factory=list)  # fraction of the pool's utterances labelled
    ua: list[float] = field(default_factory=list)  # utterance UA on the test sessions after retraining

    def fraction_to_reach(self, target: float) -> float | None:
        """The smallest budget fraction whose UA reaches ``target`` (None: never within the budget)."""
        return next((f for f, u in zip(self.fractions, self.ua, strict=True) if u >= target), None)


@dataclass
class SimulationResult:
    curves: dict[str, Curve]
    full_ua: float  # the model trained on every pool label (the reference)
    pool_utterances: int
    test_utterances: int

    def needed(self, share: float = 0.9) -> dict[str, float | None]:
        """Per order: the fraction of labels needed to reach ``share`` of the fully-labelled model's UA."""
        return {o: c.fraction_to_reach(share * self.full_ua) for o, c in self.curves.items()}


def _units(table, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Utterances among ``rows``: keys [U, 2] = (stream, utterance) in time order, and each one's rows."""
    rows = rows[table.utterance[rows] >= 0]
    keys, inverse = np.unique(np.stack([table.stream[rows], table.utterance[rows]], axis=1), axis=0,
                              return_inverse=True)
    inverse = inverse.ravel()
    members = [rows[inverse == k] for k in range(len(keys))]
    first = np.array([m.min() for m in members])  # rows of a stream are in time order
    order = np.argsort(first, kind="stable")
    return keys[order], [members[i] for i in order]


def _predict(model, table, rows: np.ndarray, config) -> tuple[np.ndarray, np.ndarray]:
    from dyadlab.trainer.datasets import make_loader
    from dyadlab.trainer.distributed import DistInfo
    from dyadlab.trainer.engine import predict
    from dyadlab.trainer.train import make_dataset

    return predict(model, make_loader(make_dataset(table, rows, config), 512, train=False),
                   device=torch.device("cpu"), amp_dtype=None, info=DistInfo())


def _unit_probs(model, table, members: list[np.ndarray], config) -> np.ndarray:
    """Mean class probabilities per utterance (uniform where no frame could be predicted)."""
    rows = np.concatenate(members)
    got, probs = _predict(model, table, rows, config)
    where = {int(r): i for i, r in enumerate(got)}
    n_cls = len(table.classes)
    out = np.full((len(members), n_cls), 1.0 / n_cls)
    for k, m in enumerate(members):
        idx = [where[int(r)] for r in m if int(r) in where]
        if idx:
            out[k] = probs[idx].mean(axis=0)
    return out


def _unit_labels(table, members: list[np.ndarray]) -> np.ndarray:
    return np.array([np.bincount(table.labels[m], minlength=len(table.classes)).argmax() for m in members])


def heldout_ua(model, table, members: list[np.ndarray], config) -> float:
    probs = _unit_probs(model, table, members, config)
    return balanced_accuracy(_unit_labels(table, members), probs.argmax(axis=1), len(table.classes))


def unit_features(table, members: list[np.ndarray], config) -> np.ndarray | None:
    """Per utterance: the mean over its valid frames of the model's feature inputs (functionals such as
    eGeMAPS, concatenated; ``[U, D]``), what the queue's novelty term measures distances on, as the app does
    with the cached functionals. None when the model has no feature input (waveform or face only)."""
    from dyadlab.trainer.data import modality_kind

    names = [m for m in config.modalities() if modality_kind(m) == "features"]
    if not names:
        return None
    out = []
    for m in members:
        parts = []
        for name in names:
            ok = m[table.valid[name][m]]
            parts.append(table.inputs[name][ok].mean(axis=0) if len(ok)
                         else np.full(table.inputs[name].shape[1], np.nan))
        out.append(np.concatenate(parts).astype(np.float64))
    return np.stack(out)


def _queue_pick(model, table, keys: np.ndarray, members: list[np.ndarray], open_units: list[int], n: int,
                config, weights: Weights, labelled: list[int] = (), features: np.ndarray | None = None) -> list[int]:
    probs = _unit_probs(model, table, [members[u] for u in open_units], config)

    def described(u: int) -> np.ndarray | None:
        return None if features is None else features[u]
    sessions = {name: i for i, name in enumerate(np.unique(table.session))}

    def where(u: int) -> tuple[int, int, int, int]:
        frames = table.frame[members[u]]
        # frame numbers as time (25 fps): the diversity penalty needs distances within a session only
        return (sessions[table.session[members[u][0]]], int(keys[u][0]), int(frames.min() * 40_000),
                int((frames.max() + 1) * 40_000))

    stretches = [Stretch(*where(u), p, tuple(table.classes), name=str(u), features=described(u))
                 for u, p in zip(open_units, probs, strict=True)]
    labels = _unit_labels(table, [members[u] for u in labelled]) if len(labelled) else []
    done = [Labelled(*where(u), table.classes[int(c)], described(u)) for u, c in zip(labelled, labels, strict=True)]
    return [int(e.stretch.name) for e in rank(stretches, weights, limit=n, labelled=done)]


def _balanced_pick(classes: np.ndarray, order: list[int], open_units: list[int], labelled: list[int],
                   n: int) -> list[int]:
    """``n`` open units, each of the class with the fewest labels and picks so far (ties: the first class),
    taking that class's units in ``order`` (a seeded permutation)."""
    counts = np.bincount(classes[np.asarray(labelled, int)], minlength=int(classes.max()) + 1)
    still_open = set(open_units)
    left = [u for u in order if u in still_open]
    out: list[int] = []
    for _ in range(min(n, len(left))):
        c = min({int(classes[u]) for u in left}, key=lambda k: (counts[k], k))
        u = next(u for u in left if classes[u] == c)
        left.remove(u)
        out.append(u)
        counts[c] += 1
    return out


def simulate(table, config, pool_rows: np.ndarray, test_rows: np.ndarray, *, orders: Sequence[str] = ORDERS[:3],
             steps: Sequence[float] = DEFAULT_STEPS, epochs: int = 3, full_epochs: int = 12, lr: float = 3e-3,
             seed: int = 0, weights: Weights | None = None) -> SimulationResult:
    """Learning curves of each order (see the module docstring). ``config``: the trainer's ``ModelConfig``."""
    from dyadlab.trainer.models import build_model
    from dyadlab.trainer.train import fit_normalization

    torch.set_num_threads(1)
    weights = weights or Weights()
    keys, members = _units(table, pool_rows)
    _, test_members = _units(table, test_rows)
    n_units = len(members)
    if n_units < 2 or not test_members:
        raise ValueError(f"the pool has {n_units} utterances and the test sessions {len(test_members)}: too few")

    def fresh():
        torch.manual_seed(seed)
        model = build_model(config, len(table.classes), {m: table.sample_shape(m) for m in config.modalities()})
        fit_normalization(model, table, pool_rows)  # features only (no labels): every order starts the same
        return model.eval()

    full = fine_tune(fresh(), table, np.concatenate(members), config, epochs=full_epochs, lr=lr, seed=seed)
    full_ua = heldout_ua(full, table, test_members, config)
    random_order = list(np.random.default_rng(seed).permutation(n_units))
    features = unit_features(table, members, config)
    gold = _unit_labels(table, members)  # what the annotator will say: only the balanced order peeks
    curves = {}
    for order in orders:
        if order not in ORDERS:
            raise ValueError(f"order {order!r}: use one of {', '.join(ORDERS)}")
        model, labelled, curve = fresh(), [], Curve(order)
        for step, fraction in enumerate(steps):
            target = max(1, round(fraction * n_units))
            open_units = [u for u in range(n_units) if u not in set(labelled)]
            n = target - len(labelled)
            if n > 0:
                if order == "time" or step == 0:
                    labelled += open_units[:n]
                elif order == "random":
                    labelled += [u for u in random_order if u in set(open_units)][:n]
                elif order == "balanced":
                    labelled += _balanced_pick(gold, random_order, open_units, labelled, n)
                else:
                    labelled += _queue_pick(model, table, keys, members, open_units, n, config, weights, labelled,
                                            features)
                rows = np.concatenate([members[u] for u in labelled])
                model = fine_tune(model, table, rows, config, epochs=epochs, lr=lr, seed=seed + step)
            curve.fractions.append(len(labelled) / n_units)
            curve.ua.append(heldout_ua(model, table, test_members, config))
        curves[order] = curve
    return SimulationResult(curves, full_ua, n_units, len(test_members))
