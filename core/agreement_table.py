"""What an agreement table shows for one tier: the pairs and the group in one scope, each rater's per-unit
labels, and a pair's confusion table.

The Agreement panel (and anything else that draws agreement: a notebook, a report) reads this and only
draws it. The numbers are ``core.agreement``'s report — the same as ``dyadlab agreement`` — and the labels
are the very per-unit values the statistics were computed from, so a confusion table always adds up to the
kappa shown beside it.

Scope: with one session the report's scope is that session; with several, the pooled "all".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dyadlab.core.agreement import AgreementReport, GroupAgreement, PairAgreement, Unit, tier_agreement
from dyadlab.core.continuous_ratings import trace_raters

if TYPE_CHECKING:
    from dyadlab.core.project import Project

NONE_LABEL = "(none)"  # a unit one annotator left unlabelled


@dataclass(frozen=True)
class Confusion:
    """Counts of (label of A, label of B) over every unit; a missing label is ``NONE_LABEL``, listed last."""

    rows: list[str]
    columns: list[str]
    counts: Counter[tuple[str, str]]

    def count(self, row: str, column: str) -> int:
        return self.counts.get((row, column), 0)


def confusion(a: Sequence[Any], b: Sequence[Any]) -> Confusion:
    """The confusion table of two raters' per-unit labels (same length); None/NaN → ``NONE_LABEL``."""
    def name(v: Any) -> str:
        return NONE_LABEL if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

    counts = Counter((name(x), name(y)) for x, y in zip(a, b, strict=True))

    def order(values: set[str]) -> list[str]:
        return sorted(values - {NONE_LABEL}) + ([NONE_LABEL] if NONE_LABEL in values else [])

    return Confusion(order({r for r, _ in counts}), order({c for _, c in counts}), counts)


@dataclass
class AgreementTable:
    """One tier's agreement in one scope, plus everyone's per-unit labels (sessions concatenated)."""

    report: AgreementReport
    scope: str
    numeric: bool
    annotators: list[str]  # those in at least one pair of the scope, in the order asked
    labels: dict[str, list[Any]]  # annotator → label (or score; None/NaN = missing) per unit

    def pair(self, a: str, b: str) -> PairAgreement | None:
        return next((p for p in self.report.pairs if p.scope == self.scope and {p.annotator_a, p.annotator_b} == {a, b}),
                    None)

    @property
    def group(self) -> GroupAgreement | None:
        return next((g for g in self.report.groups if g.scope == self.scope), None)

    @property
    def n_units(self) -> int:
        return len(next(iter(self.labels.values()), []))

    def confusion(self, a: str, b: str) -> Confusion:
        """Rows: ``a``'s labels; columns: ``b``'s; over every unit of the scope."""
        return confusion(self.labels[a], self.labels[b])


def agreement_table(project: Project, *, tier: str, unit: Unit, step_ms: float, sessions: Sequence[str],
                    annotators: Sequence[str]) -> AgreementTable:
    """The table for the chosen tier, unit, sessions and annotators (labels read once, with the report)."""
    report, pooled = tier_agreement(project, tier=tier, unit=unit, step_ms=step_ms, sessions=sessions,
                                    annotators=annotators)
    found = pooled.get(tier)
    numeric = found.ratings.numeric if found else False
    n = len(next(iter(found.ratings.values.values()), [])) if found else 0
    labels = {a: list(found.ratings.values[a]) if found and a in found.ratings.values
              else [math.nan if numeric else None] * n for a in annotators}
    scope = found.scope if found else "all"
    present = [a for a in annotators
               if any(p.scope == scope and a in (p.annotator_a, p.annotator_b) for p in report.pairs)]
    return AgreementTable(report, scope, numeric, present, labels)


def raters(project: Project, tier: str) -> dict[str, str]:
    """Annotators who rated a tier called ``tier`` anywhere — with segments, or with a recorded trace —
    as name → annotator kind ("human", "gold", …), by name."""
    with project.store.transaction() as tx:
        found = {a.name: a.kind for a in tx.annotators.labelling(tier)}
        traced = trace_raters(tx, tier)
        found.update({a.name: a.kind for a in tx.annotators.list() if a.id in traced})
    return dict(sorted(found.items()))
