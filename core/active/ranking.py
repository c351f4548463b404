"""Rank stretches by what labelling them is worth, and say why each one is there.

Why a separate, array-only module: the rule (how uncertainty, disagreement and diversity combine) is what a
reader wants to check and a test wants to pin, without a project, a model or a window. ``queue`` turns a
project into ``Stretch`` objects; this module only scores and orders them.

Worth of a stretch (each term in [0, 1], weighted by ``Weights``):

- **uncertainty** of the model's mean class probabilities over the stretch: normalised entropy
  (``H(p) / log C``) or ``1 - margin`` (top-1 minus top-2);
- **modality disagreement**: the Jensen-Shannon divergence (base 2, so in [0, 1]) between the model and each
  other view of the same stretch (another modality's branch or a second model), the largest one counting;
- **annotator disagreement**: for every other annotator who labelled the stretch, ``1 - p(their label)``,
  the largest one counting (a label the model finds unlikely is where it most needs a human decision);
- **novelty** (when every stretch has ``features``, e.g. its mean audio functionals): how unlike every
  labelled stretch, and every one picked before it, the stretch is in that feature space (``coverage``:
  ``1 - exp(-distance to the nearest / typical distance)``, the k-center greedy core-set rule). Uncertainty
  only finds what the model knows it does not know; after a cold start it has never seen most classes, and
  what it has never seen shows up as distance, not as doubt. With ``per_speaker`` (the default) each
  (session, participant)'s features are standardised on their own first: raw functionals differ more
  between two voices than between two emotions of one voice, so "unlike anything labelled" was mostly a
  new speaker saying what is labelled already; per speaker it is what this person does that the labels
  do not cover (``bench/active_learning.py``, 5 seeds: on the varied demo corpus the queue needed 40 % of
  the labels with raw functionals, 25 % per speaker; on the scripted one 25 % and 30 %).

With ``density`` > 0 the score is also multiplied by ``density ** weight``, where a stretch's density is its
mean similarity (``exp(-distance / typical)``) to the open stretches, 1 for the most typical one
(information density, Settles & Craven 2008): novelty alone favours outliers (the one sad utterance in a
happy recording), density favours stretches that stand for many others, so a label teaches more.

Diversity: a greedy pick. After each choice, the remaining stretches of the same session lose
``diversity × exp(-|Δt| / spacing)`` of their worth (the nearest pick counting), so the top of the queue is
spread over the session instead of ten neighbours of one confusing moment. ``balance`` > 0 also divides a
stretch's score by ``1 + balance × k`` where ``k`` picks already propose its class, so the top is not all
one class either (a model confused about one class would otherwise ask only about that class).

What is already labelled counts too (``labelled``: the annotator's stretches with their labels). Without
it, each batch would be spread only within itself, and a queue whose first labels all came from one
session and one class (a cold start) keeps asking about that session, with a model that proposes that
class everywhere. So the labels count as earlier picks: a class labelled at the average rate per class
counts as one pick proposing it (twice the average, two), and ``spread`` > 0 divides a stretch's score by
``1 + spread × m`` where ``m`` is its (session, participant)'s labels and picks in the same units — the
queue moves on to the recordings nobody has labelled yet. ``bench/active_learning.py`` measures the effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from dyadlab.core.active.coverage import Coverage

MEASURES = ("entropy", "margin")
NOVEL = 0.5  # novelty from which "unlike anything labelled" is given as a reason (about 0.7 typical distances)
TYPICAL = 0.75  # density (1: the most typical stretch) from which "typical of the unlabelled" is given


@dataclass(frozen=True)
class Stretch:
    """One unlabelled stretch of a participant's tier with what the model (and others) said about it."""

    session_id: int
    participant_id: int
    start_us: int
    end_us: int
    probs: np.ndarray  # float [C]: the model's mean class probabilities over the stretch
    classes: tuple[str, ...]
    n_frames: int = 0
    views: Mapping[str, np.ndarray] = field(default_factory=dict)  # other modality / model name -> probs [C]
    labels: Mapping[str, str] = field(default_factory=dict)  # other annotator name -> their value here
    name: str = ""  # the utterance's name, or "" for a fixed window
    features: np.ndarray | None = None  # float [D]: what the stretch is like (e.g. mean audio functionals)

    @property
    def centre_us(self) -> int:
        return (self.start_us + self.end_us) // 2

    @property
    def proposed(self) -> str:
        """The model's label for the stretch (the one preselected when the annotator jumps to it)."""
        return self.classes[int(np.argmax(self.probs))]


@dataclass(frozen=True)
class Reason:
    kind: str  # "uncertain" | "modalities" | "annotator" | "novel" | "spread" | "balance" | "recording"
    value: float
    text: str


@dataclass(frozen=True)
class QueueEntry:
    """A ranked stretch: its place, its worth before and after the diversity penalty, and why."""

    rank: int
    stretch: Stretch
    worth: float  # weighted sum of the terms
    score: float  # worth after the diversity penalty at the time it was picked (what ordered it)
    reasons: tuple[Reason, ...]

    @property
    def why(self) -> str:
        return "; ".join(r.text for r in self.reasons) or "next in order"

    @property
    def proposed(self) -> str:
        return self.stretch.proposed


@dataclass(frozen=True)
class Weights:
    uncertainty: float = 1.0
    modalities: float = 1.0
    annotators: float = 1.0
    diversity: float = 0.6  # fraction of worth a pick at the same moment takes away (0: no spreading)
    spacing_s: float = 10.0  # how far (seconds) the diversity penalty reaches (1/e at this distance)
    balance: float = 1.0  # how much each earlier pick proposing the same class holds a stretch back (0: not)
    spread: float = 1.0  # how much each earlier pick or label of the same session and participant holds one back
    novelty: float = 1.0  # weight of the feature-space distance to everything labelled or picked (0: off)
    density: float = 1.0  # exponent of how typical of the open stretches one is (information density; 0: off)
    measure: str = "entropy"  # or "margin"
    per_speaker: bool = True  # novelty and density on features standardised per session and participant

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"uncertainty measure {self.measure!r}: use one of {', '.join(MEASURES)}")
        for name in WEIGHT_RANGES:
            problem = weight_problem(name, getattr(self, name))
            if problem:
                raise ValueError(f"{name} {problem}")


# the range of each numeric setting: (lowest, highest or None, whether the lowest itself is allowed)
WEIGHT_RANGES: dict[str, tuple[float, float | None, bool]] = {
    "uncertainty": (0.0, None, True), "modalities": (0.0, None, True), "annotators": (0.0, None, True),
    "diversity": (0.0, 1.0, True), "spacing_s": (0.0, None, False), "balance": (0.0, None, True),
    "spread": (0.0, None, True), "novelty": (0.0, None, True), "density": (0.0, None, True)}


def weight_problem(name: str, value: float) -> str | None:
    """What is wrong with ``value`` for the setting ``name`` ("must lie in [0, 1], got -1"), None if nothing.
    One rule for ``Weights`` and for the callers that name the setting their own way (``dyadlab queue``'s
    options): a bad value is refused in the caller's words, not as a traceback."""
    low, high, low_ok = WEIGHT_RANGES[name]
    if high is not None and not low <= value <= high:
        return f"must lie in [{low:g}, {high:g}], got {value:g}"
    if value < low or (value == low and not low_ok):
        return f"must {'be positive' if not low_ok else 'not be negative'}, got {value:g}"
    return None


def _normalised(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 0.0, None)
    total = p.sum()
    return p / total if total > 0 else np.full(len(p), 1.0 / max(len(p), 1))


def uncertainty(probs: np.ndarray, measure: str = "entropy") -> float:
    """0 for a certain prediction, 1 for a uniform one (entropy) or a tie between the top two (margin)."""
    p = _normalised(probs)
    if len(p) < 2:
        return 0.0
    if measure == "margin":
        top = np.sort(p)[::-1]
        return float(1.0 - (top[0] - top[1]))
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum() / np.log(len(p)))


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits: 0 for the same distribution, 1 for disjoint ones."""
    p, q = _normalised(p), _normalised(q)
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float((a[nz] * np.log2(a[nz] / m[nz])).sum())

    return float(np.clip((kl(p) + kl(q)) / 2, 0.0, 1.0))


def _terms(s: Stretch, w: Weights) -> tuple[float, list[Reason]]:
    reasons: list[Reason] = []
    u = uncertainty(s.probs, w.measure)
    p = _normalised(s.probs)
    top = int(np.argmax(p))
    worth = w.uncertainty * u
    if w.uncertainty > 0:
        reasons.append(Reason("uncertain", u, f"model unsure ({w.measure} {u:.2f}; {s.classes[top]} {p[top]:.0%})"))
    if s.views and w.modalities > 0:
        name, view = max(s.views.items(), key=lambda kv: js_divergence(s.probs, kv[1]))
        d = js_divergence(s.probs, view)
        worth += w.modalities * d
        if d > 0.05:
            reasons.append(Reason("modalities", d, _difference(name, p, _normalised(view), s.classes[top],
                                                               s.classes[int(np.argmax(view))], d)))
    if s.labels and w.annotators > 0:
        index = {c: i for i, c in enumerate(s.classes)}
        doubts = {who: 1.0 - float(p[index[v]]) if v in index else 1.0 for who, v in s.labels.items()}
        who = max(doubts, key=lambda k: doubts[k])
        worth += w.annotators * doubts[who]
        if s.labels[who] != s.classes[top]:
            reasons.append(Reason("annotator", doubts[who], f"{who} said {s.labels[who]}, model says {s.classes[top]}"))
    return worth, reasons


def _difference(name: str, p: np.ndarray, q: np.ndarray, mine: str, theirs: str, d: float) -> str:
    """How the other view ``name`` (probabilities ``q``) differs from the model's ``p``: another class, or the
    same class with another confidence ("disagrees (says happy)" when both said happy misled the annotator)."""
    if theirs != mine:
        return f"{name} disagrees (says {theirs}; JS {d:.2f})"
    i = int(np.argmax(p))
    how = "surer" if q[i] > p[i] else "less sure"
    return f"{name} is {how} of {mine} ({q[i]:.0%} vs {p[i]:.0%}; JS {d:.2f})"


@dataclass(frozen=True)
class Labelled:
    """A stretch the annotator has labelled already (what the queue should not ask about again)."""

    session_id: int
    participant_id: int
    start_us: int
    end_us: int
    label: str
    features: np.ndarray | None = None  # as ``Stretch.features``; None: it covers nothing in feature space


def _prior_load(keys: np.ndarray, labelled_keys: list, universe: int) -> np.ndarray:
    """Per stretch: its key's labels counted in picks, a key labelled at the average rate over the
    ``universe`` keys (every class, or every recording in play) counting as one."""
    if not labelled_keys:
        return np.zeros(len(keys))
    counts: dict = {}
    for k in labelled_keys:
        counts[k] = counts.get(k, 0) + 1
    mean = len(labelled_keys) / max(universe, len(counts))
    return np.array([counts.get(k, 0) / mean for k in keys.tolist()])


def _coverage(stretches: Sequence[Stretch], labelled: Sequence[Labelled], per_speaker: bool) -> Coverage | None:
    """The feature-space state of the novelty term, or None when a stretch has no features (the term would
    hold back exactly the stretches nothing is known about). ``per_speaker``: each (session, participant)'s
    features standardised on their own first."""
    if any(s.features is None for s in stretches):
        return None
    done = [x for x in labelled if x.features is not None]
    groups = [(s.session_id, s.participant_id) for s in stretches] if per_speaker else None
    return Coverage([s.features for s in stretches], [x.features for x in done], groups=groups,
                    labelled_groups=[(x.session_id, x.participant_id) for x in done])


def _novel_reason(cover: Coverage, i: int, novelty: float) -> Reason:
    than = "labelled" if cover.nearest[i] < 0 else f"labelled or above (nearest: #{cover.nearest[i] + 1})"
    return Reason("novel", novelty, f"unlike anything {than}: {cover.distance[i] / cover.typical:.2g}× the "
                                    f"typical distance away")


def rank(stretches: Sequence[Stretch], weights: Weights | None = None, *, limit: int | None = None,
         labelled: Sequence[Labelled] = ()) -> list[QueueEntry]:
    """Stretches in the order to label them (best first), each with its reasons; ``limit`` stops early.
    ``labelled``: what the annotator labelled already (see the module docstring)."""
    w = weights or Weights()
    n = len(stretches)
    if n == 0:
        return []
    scored = [_terms(s, w) for s in stretches]
    worth = np.array([t[0] for t in scored])
    centre = np.array([s.centre_us for s in stretches], np.float64) / 1e6
    session = np.array([s.session_id for s in stretches])
    stream = np.array([f"{s.session_id}/{s.participant_id}" for s in stretches])
    start = np.array([s.start_us for s in stretches])
    proposed = np.array([s.proposed for s in stretches])
    # picks so far proposing each stretch's class, the labels of that class counting as picks
    same_class = _prior_load(proposed, [x.label for x in labelled], len(stretches[0].classes))
    done_streams = [f"{x.session_id}/{x.participant_id}" for x in labelled]
    same_stream = _prior_load(stream, done_streams, len(set(stream.tolist()) | set(done_streams)))
    cover = _coverage(stretches, labelled, w.per_speaker) if w.novelty > 0 or w.density > 0 else None
    typical = cover.density ** w.density if cover is not None else np.ones(n)
    penalty = np.zeros(n)  # the nearest pick's (or label's) exp(-Δt / spacing), per remaining stretch
    nearest = np.full(n, -1)  # rank of that pick (-1: a label)
    for x in labelled:
        near = np.exp(-np.abs(centre - (x.start_us + x.end_us) / 2e6) / w.spacing_s) * (session == x.session_id)
        penalty = np.maximum(penalty, near)
    left = np.ones(n, bool)
    out: list[QueueEntry] = []
    for r in range(n if limit is None else min(limit, n)):
        novelty = cover.novelty() if cover is not None else np.zeros(n)
        score = (worth + w.novelty * novelty) * typical * (1.0 - w.diversity * penalty) / (1.0 + w.balance * same_class) / (1.0 + w.spread * same_stream)
        # best score first; ties go to the earlier stretch (stable and deterministic)
        order = np.lexsort((start, -np.where(left, score, -np.inf)))
        i = int(order[0])
        reasons = list(scored[i][1])
        if cover is not None and w.novelty > 0 and novelty[i] >= NOVEL and np.isfinite(cover.distance[i]):
            reasons.append(_novel_reason(cover, i, float(novelty[i])))  # (infinite: nothing labelled to differ from)
        if cover is not None and w.density > 0 and cover.density[i] >= TYPICAL:
            reasons.append(Reason("typical", float(cover.density[i]),
                                  f"typical of the unlabelled stretches (density {cover.density[i]:.2f})"))
        if w.diversity > 0 and penalty[i] > 0.05:
            near_what = f"#{nearest[i] + 1}" if nearest[i] >= 0 else "a label"
            reasons.append(Reason("spread", float(penalty[i]), f"kept back near {near_what}"))
        if w.balance > 0 and same_class[i] > 0:
            reasons.append(Reason("balance", float(same_class[i]),
                                  f"kept back: {same_class[i]:.3g} earlier pick(s) or labels' worth propose "
                                  f"{proposed[i]}" if labelled else
                                  f"kept back: {int(same_class[i])} earlier pick(s) propose {proposed[i]}"))
        if w.spread > 0 and same_stream[i] > 0 and labelled:
            reasons.append(Reason("recording", float(same_stream[i]),
                                  f"kept back: this recording has {same_stream[i]:.3g}× the average labels"))
        out.append(QueueEntry(r, stretches[i], float(worth[i] + w.novelty * novelty[i]), float(score[i]),
                              tuple(reasons)))
        left[i] = False
        if cover is not None:
            cover.add(i, r)
        same_class += proposed == proposed[i]
        same_stream += stream == stream[i]
        near = np.exp(-np.abs(centre - centre[i]) / w.spacing_s) * (session == session[i])
        closer = near > penalty
        penalty = np.where(closer, near, penalty)
        nearest = np.where(closer, r, nearest)
    return out
