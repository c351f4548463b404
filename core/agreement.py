"""Inter-annotator agreement: Cohen's and Fleiss' kappa, Krippendorff's alpha, Lin's CCC and ICC.

Annotation is only worth training on when annotators agree, and the thesis reports agreement per tier,
per session and per annotator pair. This module has two layers:

* **statistics** on plain arrays (pure numpy, checked against textbook examples in the tests):
  ``cohen_kappa``, ``fleiss_kappa``, ``krippendorff_alpha`` (nominal, ordinal, interval, ratio; missing
  values allowed), ``lin_ccc`` and ``icc`` — ICC(2,1) (two-way random effects, absolute agreement,
  single rater: annotators are a sample of possible annotators, and a constant offset between them
  counts as disagreement) and ICC(3,1) (two-way mixed effects, consistency, single rater: these
  annotators only, offsets forgiven), both after Shrout & Fleiss (1979);
* **a report on a project** (``agreement_report``): segments are discretised into units — fixed-step
  frames or utterances, exactly as the gold merge does (``core/labels/timeline.py``) — and compared per
  tier name, per session (participants pooled) and over all sessions, for every annotator pair and for
  the whole group. Categorical tiers get kappa and nominal alpha; dimensional tiers CCC, interval alpha
  and ICC. On a dimensional tier a trace recorded with the sliders counts like segment scores: both are
  read on the same grid (``core/continuous_ratings.py``), so a trace, typed scores and imported gold VAD
  are compared with one another.

A statistic that is undefined (no units, or no variation at all) is NaN — ``None`` in JSON.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from dyadlab.core.continuous_ratings import Trace, continuous_per_unit, read_traces
from dyadlab.core.errors import DyadLabError
from dyadlab.core.labels.snapshot import SessionLabels, TierLabels, read_project_labels
from dyadlab.core.labels.timeline import Units, categorical_per_unit, frame_units, utterance_units

if TYPE_CHECKING:
    from dyadlab.core.project import Project

Level = Literal["nominal", "ordinal", "interval", "ratio"]
Unit = Literal["frames", "utterances"]


# -- statistics --------------------------------------------------------------------------------------


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa of two raters' nominal labels; items where either is missing (None/NaN) are dropped."""
    if len(a) != len(b):
        raise ValueError(f"the raters rated different numbers of items ({len(a)} and {len(b)})")
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not _is_missing(x) and not _is_missing(y)]
    if not pairs:
        return math.nan
    categories = sorted({v for pair in pairs for v in pair}, key=str)
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for x, y in pairs:
        table[index[x], index[y]] += 1
    n = table.sum()
    observed = np.trace(table) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
    return math.nan if expected == 1 else float((observed - expected) / (1 - expected))


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items × categories table of how many raters chose each category.

    Every item must have been rated by the same number (≥ 2) of raters.
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        return math.nan
    raters = table.sum(axis=1)
    if not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (at least 2) of ratings for every item")
    n_items, n = table.shape[0], raters[0]
    p_j = table.sum(axis=0) / (n_items * n)
    p_i = (np.sum(table**2, axis=1) - n) / (n * (n - 1))
    p_bar, p_e = p_i.mean(), float(np.sum(p_j**2))
    return math.nan if p_e == 1 else float((p_bar - p_e) / (1 - p_e))


def label_counts(ratings: np.ndarray, categories: Sequence[Any] | None = None) -> tuple[np.ndarray, list[Any]]:
    """Items × categories counts from an items × raters array of labels (None/NaN = missing)."""
    values = [v for v in np.asarray(ratings, dtype=object).ravel().tolist() if not _is_missing(v)]
    categories = list(categories) if categories is not None else sorted(set(values), key=str)
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(ratings), len(categories)), dtype=np.int64)
    for i, row in enumerate(np.asarray(ratings, dtype=object)):
        for v in row:
            if not _is_missing(v):
                table[i, index[v]] += 1
    return table, categories


def _delta2(values: np.ndarray, n_c: np.ndarray, level: Level) -> np.ndarray:
    """Squared difference function δ²(c, k) of Krippendorff (2011) for the sorted distinct values."""
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    v = values.astype(np.float64)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        total = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(total == 0, 0.0, (v[:, None] - v[None, :]) / total)
        return d**2
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        lo = np.minimum.outer(np.arange(len(v)), np.arange(len(v)))
        hi = np.maximum.outer(np.arange(len(v)), np.arange(len(v)))
        return (cum[hi + 1] - cum[lo] - (n_c[:, None] + n_c[None, :]) / 2) ** 2
    raise ValueError(f"unknown level of measurement {level!r}")


def krippendorff_alpha(data: np.ndarray | Sequence[Sequence[Any]], level: Level = "nominal") -> float:
    """Krippendorff's alpha of a raters × units table (None or NaN = missing), after Krippendorff (2011).

    Units with fewer than two values are not pairable and are left out.
    """
    table = np.asarray(data, dtype=object)
    if table.ndim != 2:
        raise ValueError("reliability data must be a raters × units table")
    units = [[v for v in table[:, u].tolist() if not _is_missing(v)] for u in range(table.shape[1])]
    units = [u for u in units if len(u) >= 2]
    if not units:
        return math.nan
    if level == "nominal":
        distinct = sorted({v for u in units for v in u}, key=str)
    else:
        distinct = sorted({float(v) for u in units for v in u})
        units = [[float(v) for v in u] for u in units]
    index = {v: i for i, v in enumerate(distinct)}
    counts = np.zeros((len(units), len(distinct)))
    for i, u in enumerate(units):
        for v in u:
            counts[i, index[v]] += 1
    m = counts.sum(axis=1)
    weighted = counts / (m - 1)[:, None]
    coincidence = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    delta2 = _delta2(np.array(distinct, dtype=object if level == "nominal" else np.float64), n_c, level)
    expected = float(n_c @ delta2 @ n_c)
    if expected == 0:
        return math.nan
    return float(1 - (n - 1) * float(np.sum(coincidence * delta2)) / expected)


def lin_ccc(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Lin's concordance correlation coefficient (population moments); pairs with a NaN are dropped."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size == 0:
        return math.nan
    cov = float(np.mean((a - a.mean()) * (b - b.mean())))
    denominator = float(a.var() + b.var() + (a.mean() - b.mean()) ** 2)
    return math.nan if denominator == 0 else 2 * cov / denominator


def icc(data: np.ndarray | Sequence[Sequence[float]], kind: Literal["ICC(2,1)", "ICC(3,1)"] = "ICC(2,1)") -> float:
    """Intraclass correlation of a targets × raters table (Shrout & Fleiss 1979); rows with a NaN dropped.

    ``ICC(2,1)``: two-way random effects, absolute agreement, single rater. ``ICC(3,1)``: two-way mixed
    effects, consistency, single rater.
    """
    table = np.asarray(data, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError("ICC needs a targets × raters table")
    table = table[~np.isnan(table).any(axis=1)]
    n, k = table.shape
    if n < 2 or k < 2:
        return math.nan
    grand = table.mean()
    ss_rows = k * float(np.sum((table.mean(axis=1) - grand) ** 2))
    ss_cols = n * float(np.sum((table.mean(axis=0) - grand) ** 2))
    ss_error = float(np.sum((table - grand) ** 2)) - ss_rows - ss_cols
    ms_rows, ms_cols = ss_rows / (n - 1), ss_cols / (k - 1)
    ms_error = ss_error / ((n - 1) * (k - 1))
    if kind == "ICC(2,1)":
        denominator = ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n
    elif kind == "ICC(3,1)":
        denominator = ms_rows + (k - 1) * ms_error
    else:
        raise ValueError(f"unknown ICC kind {kind!r}: ICC(2,1) or ICC(3,1)")
    return math.nan if denominator == 0 else (ms_rows - ms_error) / denominator


# -- a project's agreement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PairAgreement:
    """Two annotators on one tier, in one session (``scope`` = its name) or all sessions (``scope="all"``)."""

    scope: str
    tier: str
    annotator_a: str
    annotator_b: str
    n_units: int  # units both labelled
    kappa: float = math.nan  # categorical: Cohen's kappa
    alpha: float = math.nan  # Krippendorff's alpha: nominal (categorical) or interval (dimensional)
    ccc: float = math.nan  # dimensional: Lin's CCC
    icc: float = math.nan  # dimensional: ICC(2,1)


@dataclass(frozen=True)
class GroupAgreement:
    """All chosen annotators together on one tier and scope."""

    scope: str
    tier: str
    annotators: tuple[str, ...]
    n_units: int  # units with at least two labels (pairable)
    n_complete: int  # units every annotator labelled
    fleiss_kappa: float = math.nan  # categorical, over complete units
    alpha: float = math.nan  # over all pairable units
    icc2_1: float = math.nan  # dimensional, over complete units
    icc3_1: float = math.nan


@dataclass
class AgreementReport:
    unit: str
    step_us: int | None
    pairs: list[PairAgreement] = field(default_factory=list)
    groups: list[GroupAgreement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def clean(d: dict[str, Any]) -> dict[str, Any]:
            return {k: (None if isinstance(v, float) and math.isnan(v) else list(v) if isinstance(v, tuple) else v)
                    for k, v in d.items()}

        return {"unit": self.unit, "step_ms": None if self.step_us is None else self.step_us / 1000,
                "pairs": [clean(asdict(p)) for p in self.pairs], "groups": [clean(asdict(g)) for g in self.groups]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        """A plain-text table: one line per annotator pair, then one per group."""
        def f(x: float) -> str:
            return "     -" if math.isnan(x) else f"{x:6.3f}"

        unit = self.unit if self.step_us is None else f"{self.unit} ({self.step_us / 1000:g} ms)"
        lines = [f"agreement by {unit}", "",
                 f"{'tier':<12} {'scope':<16} {'annotator A':<14} {'annotator B':<14} {'n':>7} "
                 f"{'kappa':>6} {'alpha':>6} {'ccc':>6} {'icc':>6}"]
        for p in self.pairs:
            lines.append(f"{p.tier:<12} {p.scope:<16} {p.annotator_a:<14} {p.annotator_b:<14} {p.n_units:>7} "
                         f"{f(p.kappa)} {f(p.alpha)} {f(p.ccc)} {f(p.icc)}")
        if self.groups:
            lines += ["", f"{'tier':<12} {'scope':<16} {'annotators':<29} {'n':>7} {'all':>7} "
                          f"{'fleiss':>6} {'alpha':>6} {'icc21':>6} {'icc31':>6}"]
            for g in self.groups:
                lines.append(f"{g.tier:<12} {g.scope:<16} {','.join(g.annotators):<29} {g.n_units:>7} "
                             f"{g.n_complete:>7} {f(g.fleiss_kappa)} {f(g.alpha)} {f(g.icc2_1)} {f(g.icc3_1)}")
        if not self.pairs and not self.groups:
            lines.append("(no tier has two annotators to compare)")
        return "\n".join(lines)


@dataclass
class Ratings:
    """One tier's ratings in one scope: ``values[annotator]`` per unit (object labels or float scores)."""

    annotators: list[str]
    numeric: bool
    values: dict[str, list[Any]] = field(default_factory=dict)

    def matrix(self) -> np.ndarray:
        return np.array([self.values[a] for a in self.annotators], dtype=object).reshape(len(self.annotators), -1)


def _units(labels: SessionLabels, participant_id: int | None, unit: Unit, step_us: int) -> Units:
    if unit == "frames":
        return frame_units(labels.end_us(), step_us)
    return utterance_units(labels.utterances_of(participant_id))


def session_ratings(labels: SessionLabels, tier: str, *, unit: Unit = "frames", step_us: int = 40_000,
                    annotators: Sequence[str] | None = None,
                    traces: Mapping[int, Trace] | None = None) -> Ratings | None:
    """Per-unit ratings of every annotator on tier ``tier`` of one session (participants concatenated).

    ``traces`` (by tier id, from ``read_traces``) adds recorded traces to dimensional tiers.
    """
    tiers = [t for t in labels.tiers if t.key.tier == tier and (annotators is None or t.key.annotator in annotators)]
    if not tiers:
        return None
    numeric = {t.is_numeric for t in tiers}
    if len(numeric) > 1:
        raise DyadLabError(f"session {labels.session.name!r}: tier {tier!r} is categorical for some annotators and "
                           "dimensional for others; they cannot be compared")
    names = sorted({t.key.annotator for t in tiers}) if annotators is None else \
        [a for a in annotators if any(t.key.annotator == a for t in tiers)]
    ratings = Ratings(names, numeric.pop(), {a: [] for a in names})
    by_participant: dict[int | None, dict[str, TierLabels]] = {}
    for t in tiers:
        by_participant.setdefault(t.tier.participant_id, {})[t.key.annotator] = t
    for pid in sorted(by_participant, key=lambda p: (p is not None, p or 0)):
        units = _units(labels, pid, unit, step_us)
        for a in names:
            t = by_participant[pid].get(a)
            if t is None:
                column: list[Any] = [math.nan if ratings.numeric else None] * len(units)
            elif ratings.numeric:
                column = continuous_per_unit(t.segments, (traces or {}).get(t.tier.id), units).tolist()
            else:
                column = categorical_per_unit(t.segments, units).tolist()
            ratings.values[a].extend(column)
    return ratings


def _pair(scope: str, tier: str, ratings: Ratings, a: str, b: str) -> PairAgreement:
    x, y = ratings.values[a], ratings.values[b]
    both = sum(1 for u, v in zip(x, y, strict=True) if not _is_missing(u) and not _is_missing(v))
    if ratings.numeric:
        xs, ys = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
        return PairAgreement(scope, tier, a, b, both, alpha=krippendorff_alpha([x, y], "interval"),
                             ccc=lin_ccc(xs, ys), icc=icc(np.column_stack([xs, ys]), "ICC(2,1)"))
    return PairAgreement(scope, tier, a, b, both, kappa=cohen_kappa(x, y), alpha=krippendorff_alpha([x, y], "nominal"))


def _group(scope: str, tier: str, ratings: Ratings) -> GroupAgreement:
    data = ratings.matrix()
    present = np.array([[not _is_missing(v) for v in row] for row in data], dtype=bool).reshape(data.shape)
    n_units = int(np.sum(present.sum(axis=0) >= 2))
    complete = present.all(axis=0)
    level: Level = "interval" if ratings.numeric else "nominal"
    group = GroupAgreement(scope, tier, tuple(ratings.annotators), n_units, int(complete.sum()),
                           alpha=krippendorff_alpha(data, level))
    if not complete.any():
        return group
    if ratings.numeric:
        table = data[:, complete].T.astype(np.float64)
        return replace(group, icc2_1=icc(table, "ICC(2,1)"), icc3_1=icc(table, "ICC(3,1)"))
    counts, _ = label_counts(data[:, complete].T)
    return replace(group, fleiss_kappa=fleiss_kappa(counts))


def _merge(parts: list[Ratings]) -> Ratings:
    names = sorted({a for p in parts for a in p.annotators})
    merged = Ratings(names, parts[0].numeric, {a: [] for a in names})
    for p in parts:
        n = len(next(iter(p.values.values()), []))
        for a in names:
            merged.values[a].extend(p.values.get(a, [math.nan if p.numeric else None] * n))
    return merged


def agreement_report(project: Project, *, tier: str | Sequence[str] | None = "emotion", unit: Unit = "frames",
                     step_ms: float = 40.0, sessions: Sequence[str] | None = None,
                     annotators: Sequence[str] | None = None) -> AgreementReport:
    """Agreement of annotator pairs and groups, per tier name and per session, plus pooled over sessions.

    ``tier``: a tier name, several, or None for every tier name. ``unit``: fixed ``step_ms`` frames of
    session time, or the session's utterances (a participant's tier is compared on that participant's
    utterances). ``annotators`` restricts (and orders) who is compared; by default everyone who labelled
    the tier (with segments, or with a recorded trace on a dimensional tier).
    """
    return tier_agreement(project, tier=tier, unit=unit, step_ms=step_ms, sessions=sessions,
                          annotators=annotators)[0]


@dataclass
class PooledRatings:
    """The per-unit ratings behind a report's widest scope for one tier name (sessions concatenated)."""

    scope: str  # "all" when several sessions hold the tier, else that session's name
    ratings: Ratings


def tier_agreement(project: Project, *, tier: str | Sequence[str] | None = "emotion", unit: Unit = "frames",
                   step_ms: float = 40.0, sessions: Sequence[str] | None = None,
                   annotators: Sequence[str] | None = None) -> tuple[AgreementReport, dict[str, PooledRatings]]:
    """``agreement_report`` plus, per tier name, the pooled ratings it was computed from (for tables)."""
    if unit not in ("frames", "utterances"):
        raise DyadLabError(f"unit must be frames or utterances, not {unit!r}")
    step_us = int(round(step_ms * 1000))
    if unit == "frames" and step_us <= 0:
        raise DyadLabError(f"the frame step must be positive (got {step_ms} ms)")
    snapshots = read_project_labels(project, sessions=sessions, annotators=annotators)
    names = sorted({t.key.tier for s in snapshots for t in s.tiers}) if tier is None else \
        [tier] if isinstance(tier, str) else list(tier)
    traces = read_traces(project, snapshots, names)
    report = AgreementReport(unit, step_us if unit == "frames" else None)
    pooled: dict[str, PooledRatings] = {}
    for name in names:
        parts: list[tuple[str, Ratings]] = []
        for labels in snapshots:
            ratings = session_ratings(labels, name, unit=unit, step_us=step_us, annotators=annotators, traces=traces)
            if ratings is not None:
                parts.append((labels.session.name, ratings))
                if len(ratings.annotators) >= 2:
                    _add_scope(report, labels.session.name, name, ratings)
        if len(parts) == 1:
            pooled[name] = PooledRatings(*parts[0])
        elif parts:  # one session: "all" would repeat it
            if len({p.numeric for _, p in parts}) > 1:
                raise DyadLabError(f"tier {name!r} is categorical in some sessions and dimensional in others")
            merged = _merge([p for _, p in parts])
            pooled[name] = PooledRatings("all", merged)
            if len(merged.annotators) >= 2:
                _add_scope(report, "all", name, merged)
    return report, pooled


def _add_scope(report: AgreementReport, scope: str, tier: str, ratings: Ratings) -> None:
    for a, b in itertools.combinations(ratings.annotators, 2):
        report.pairs.append(_pair(scope, tier, ratings, a, b))
    if len(ratings.annotators) >= 2:
        report.groups.append(_group(scope, tier, ratings))
