"""Gold-standard merge: several annotators' labels → one "gold" annotator's tiers, with provenance.

Models are trained and evaluated on one label per unit, but a corpus has several annotators. This merges
chosen annotators' tiers of one name (e.g. ``emotion``) per session and participant:

* **categorical** tiers by *majority vote* (plurality among the annotators who labelled the unit, at least
  ``min_votes`` of them);
* **dimensional** tiers by the *mean* or *median* score of the annotators who rated the unit.

Units are fixed-step frames of session time or utterances, discretised exactly as the agreement
statistics do (``core/labels/timeline.py``). Consecutive frames with the same outcome become one gold
segment. Each gold segment's ``provenance`` says how it was made: ``method``, ``unit``, the
``annotators`` merged and — categorical — ``votes`` (label → number of votes; for frame units summed
over the segment's frames, i.e. annotator-frames) and ``frames``; dimensional — each annotator's
``scores``.

A tie (two labels with the most votes) is listed in the report for review, and resolved by the tie policy:
``unlabelled`` (no gold label there) or ``prefer`` (the label of a named annotator, when it is one of the
tied labels). The gold tiers' previous segments are replaced, all in one transaction, as one undoable edit
(``GoldMerge``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from dyadlab.core import model
from dyadlab.core.edits.base import Edit, Touch
from dyadlab.core.errors import DyadLabError
from dyadlab.core.labels.snapshot import SessionLabels, TierLabels, read_project_labels
from dyadlab.core.labels.timeline import (
    Units,
    categorical_per_unit,
    frame_units,
    scores_per_unit,
    utterance_units,
)

if TYPE_CHECKING:
    from dyadlab.core.project import Project
    from dyadlab.core.store import UnitOfWork

Method = Literal["majority", "mean", "median"]
TiePolicy = Literal["unlabelled", "prefer"]
Unit = Literal["frames", "utterances"]
#: Per gold tier to write: its session, the source tier it mirrors, and the merged segments.
Planned = list[tuple[SessionLabels, TierLabels, list[dict[str, Any]]]]


@dataclass(frozen=True)
class Tie:
    """Units where two or more labels got the most votes (consecutive tied frames are one entry)."""

    session: str
    participant: str | None
    tier: str
    start_us: int
    end_us: int
    votes: dict[str, int]  # every label voted for, with its votes (per unit)
    resolved: str | None  # the label the tie policy chose, or None (left unlabelled)


@dataclass
class GoldReport:
    gold: str
    tier: str
    method: str
    unit: str
    annotators: list[str]
    segments_written: int = 0
    segments_replaced: int = 0
    tiers: list[str] = field(default_factory=list)  # "session/participant" of each gold tier written
    ties: list[Tie] = field(default_factory=list)
    edit: GoldMerge | None = field(default=None, repr=False, compare=False)  # the write, undoable

    def __str__(self) -> str:
        lines = [f"gold {self.gold!r} on tier {self.tier!r} by {self.method} over {self.unit} of "
                 f"{', '.join(self.annotators)}: {self.segments_written} segments in {len(self.tiers)} tier(s)"
                 + (f" (replacing {self.segments_replaced})" if self.segments_replaced else "")]
        if self.ties:
            lines.append(f"{len(self.ties)} tie(s) to review:")
            for t in self.ties:
                votes = ", ".join(f"{k} {v}" for k, v in sorted(t.votes.items()))
                lines.append(f"  {t.session}/{t.participant or '*'} {t.start_us / 1e6:.3f}–{t.end_us / 1e6:.3f} s: "
                             f"{votes} → {t.resolved or 'unlabelled'}")
        return "\n".join(lines)


@dataclass
class _Outcome:
    """The merge result of one unit: its value (label or score), and what provenance it adds."""

    value: Any
    key: Any  # units merge into one segment while this stays the same
    votes: Counter[str] = field(default_factory=Counter)
    scores: dict[str, float] = field(default_factory=dict)


def _vote(column: list[Any], names: list[str], min_votes: int, policy: TiePolicy,
          prefer: str | None) -> tuple[_Outcome | None, dict[str, int] | None]:
    """Majority of one unit; also returns the votes when it was a tie."""
    votes = Counter(v for v in column if v is not None)
    if sum(votes.values()) < min_votes or not votes:
        return None, None
    top = max(votes.values())
    winners = sorted(v for v, n in votes.items() if n == top)
    tie = None
    if len(winners) == 1:
        winner: str | None = winners[0]
    else:
        tie = dict(votes)
        preferred = column[names.index(prefer)] if policy == "prefer" and prefer in names else None
        winner = preferred if preferred in winners else None
    if winner is None:
        return None, tie
    return _Outcome(winner, winner, votes=votes), tie


def _average(column: list[float], names: list[str], min_votes: int, method: Method) -> _Outcome | None:
    scores = {a: s for a, s in zip(names, column, strict=True) if not math.isnan(s)}
    if len(scores) < max(min_votes, 1):
        return None
    values = np.array(list(scores.values()))
    value = float(np.mean(values) if method == "mean" else np.median(values))
    return _Outcome(value, tuple(sorted(scores.items())), scores=scores)


def _units(labels: SessionLabels, participant_id: int | None, unit: Unit, step_us: int) -> Units:
    if unit == "frames":
        return frame_units(labels.end_us(), step_us)
    return utterance_units(labels.utterances_of(participant_id))


def _merge_tier(labels: SessionLabels, sources: dict[str, TierLabels], names: list[str], *, unit: Unit,
                step_us: int, method: Method, min_votes: int, policy: TiePolicy, prefer: str | None,
                ties: list[Tie]) -> list[dict[str, Any]]:
    """Gold segment dicts (start_us, end_us, value, score, provenance) for one participant's tier."""
    first = next(iter(sources.values()))
    units = _units(labels, first.tier.participant_id, unit, step_us)
    numeric = method != "majority"
    columns = {a: (scores_per_unit(t.segments, units).tolist() if numeric else categorical_per_unit(t.segments, units)
                   .tolist()) for a, t in sources.items()}
    missing = math.nan if numeric else None
    per_unit = [[columns[a][i] if a in columns else missing for a in names] for i in range(len(units))]
    outcomes: list[_Outcome | None] = []
    for i, column in enumerate(per_unit):
        if numeric:
            outcomes.append(_average(column, names, min_votes, method))
            continue
        outcome, tie = _vote(column, names, min_votes, policy, prefer)
        outcomes.append(outcome)
        if tie is not None:
            start, end = int(units.starts_us[i]), int(units.ends_us[i])
            last = ties[-1] if ties else None
            if (unit == "frames" and last is not None and last.end_us == start and last.votes == tie
                    and last.session == labels.session.name and last.participant == first.key.participant):
                ties[-1] = Tie(last.session, last.participant, last.tier, last.start_us, end, tie, last.resolved)
            else:
                ties.append(Tie(labels.session.name, first.key.participant, first.key.tier, start, end, tie,
                                None if outcome is None else outcome.value))
    base = {"method": method, "unit": unit, "annotators": list(names)}
    if unit == "frames":
        base["step_us"] = step_us
    segments: list[dict[str, Any]] = []
    i = 0
    while i < len(units):
        outcome = outcomes[i]
        if outcome is None:
            i += 1
            continue
        j = i + 1
        if unit == "frames":
            while j < len(units) and outcomes[j] is not None and outcomes[j].key == outcome.key \
                    and units.starts_us[j] == units.ends_us[j - 1]:
                j += 1
        provenance = dict(base)
        if numeric:
            provenance["scores"] = outcome.scores
        else:
            votes: Counter[str] = Counter()
            for merged in outcomes[i:j]:
                if merged is not None:
                    votes.update(merged.votes)
            provenance["votes"] = dict(sorted(votes.items()))
            provenance["frames" if unit == "frames" else "utterance"] = j - i if unit == "frames" else units.name(i)
        segments.append({"start_us": int(units.starts_us[i]), "end_us": int(units.ends_us[j - 1]),
                         "value": None if numeric else outcome.value, "score": outcome.value if numeric else None,
                         "provenance": provenance})
        i = j
    return segments


def merge_gold(project: Project, *, tier: str = "emotion", annotators: Sequence[str] | None = None,
               gold: str = "gold", unit: Unit = "frames", step_ms: float = 40.0, method: Method | None = None,
               tie_policy: TiePolicy = "unlabelled", prefer: str | None = None, min_votes: int = 1,
               sessions: Sequence[str] | None = None, dry_run: bool = False) -> GoldReport:
    """Merge ``annotators``' tiers named ``tier`` into annotator ``gold`` (see the module docstring).

    ``annotators``: who to merge (default: every annotator with such a tier, except ``gold`` and other
    gold-kind annotators). ``method``: ``majority`` for categorical tiers (the default for them), ``mean``
    (default for dimensional) or ``median``. ``dry_run`` computes everything (ties included) and writes
    nothing; its ``report.edit`` is the merge ready to run (``Edit.do``, or the GUI's undo stack), so a
    previewed merge is written exactly as previewed. Without ``dry_run`` the merge is written (committed)
    before this returns, and ``report.edit.undo(store)`` takes it back.
    """
    if unit not in ("frames", "utterances"):
        raise DyadLabError(f"unit must be frames or utterances, not {unit!r}")
    if tie_policy not in ("unlabelled", "prefer"):
        raise DyadLabError(f"tie policy must be unlabelled or prefer, not {tie_policy!r}")
    step_us = int(round(step_ms * 1000))
    if unit == "frames" and step_us <= 0:
        raise DyadLabError(f"the frame step must be positive (got {step_ms} ms)")
    snapshots = read_project_labels(project, sessions=sessions, tier_names=[tier])
    everyone = sorted({t.key.annotator for s in snapshots for t in s.tiers
                       if t.key.annotator != gold and t.annotator.kind != "gold"})
    names = list(annotators) if annotators is not None else everyone
    if gold in names:
        raise DyadLabError(f"the gold annotator {gold!r} cannot also be one of the annotators merged")
    if not names:
        raise DyadLabError(f"no annotator has a tier named {tier!r} to merge")
    if tie_policy == "prefer" and prefer not in names:
        raise DyadLabError(f"the tie policy prefers {prefer!r}, who is not among the merged annotators "
                           f"({', '.join(names)})")
    kinds = {t.is_numeric for s in snapshots for t in s.tiers if t.key.annotator in names}
    schemes = {t.scheme.id for s in snapshots for t in s.tiers if t.key.annotator in names}
    if len(kinds) > 1 or len(schemes) > 1:
        raise DyadLabError(f"the {tier!r} tiers of {', '.join(names)} use different label schemes or kinds; "
                           "only tiers of one scheme can be merged")
    numeric = kinds.pop() if kinds else False
    method = method or ("mean" if numeric else "majority")
    if numeric == (method == "majority"):
        raise DyadLabError(f"{method} does not fit {'dimensional' if numeric else 'categorical'} tiers "
                           f"(use {'mean or median' if numeric else 'majority'})")
    report = GoldReport(gold, tier, method, unit, names)
    planned: Planned = []
    for labels in snapshots:
        by_participant: dict[int | None, dict[str, TierLabels]] = {}
        for t in labels.tiers:
            if t.key.annotator in names:
                by_participant.setdefault(t.tier.participant_id, {})[t.key.annotator] = t
        for pid in sorted(by_participant, key=lambda p: (p is not None, p or 0)):
            sources = by_participant[pid]
            segments = _merge_tier(labels, sources, names, unit=unit, step_us=step_us, method=method,
                                   min_votes=min_votes, policy=tie_policy, prefer=prefer, ties=report.ties)
            planned.append((labels, next(iter(sources.values())), segments))
    report.edit = GoldMerge(gold, planned, report)
    if not dry_run:
        report.edit.do(project.store)
    else:
        report.segments_written = sum(len(s) for _, _, s in planned)
        report.tiers = [f"{lab.session.name}/{src.key.participant or '*'}" for lab, src, _ in planned]
    return report


class GoldMerge(Edit):
    """The write of one merge as an undoable edit: the gold tiers' previous segments are replaced.

    ``apply`` empties each gold tier (keeping what it removed) and inserts the merged segments; ``revert``
    deletes those and puts the removed ones back with their ids, so an undone merge leaves the gold tiers
    exactly as they were (the gold annotator and its empty tiers, once created, stay). Redo writes the
    planned segments again. The counts of the last ``apply`` land in ``report``.
    """

    text = "Merge gold"

    def __init__(self, gold: str, planned: Planned, report: GoldReport) -> None:
        self.gold, self.planned, self.report = gold, planned, report
        self.replaced: list[model.Segment] = []
        self.written: list[int] = []
        self.tier_ids: set[int] = set()

    def apply(self, tx: UnitOfWork) -> None:
        annotator = tx.annotators.by_name(self.gold) or tx.annotators.add(self.gold, kind="gold")
        replaced: list[model.Segment] = []
        written: list[int] = []
        tiers: list[str] = []
        for labels, source, segments in self.planned:
            tier = tx.tiers.ensure(labels.session.id, source.key.tier, scheme_id=source.tier.scheme_id,
                                   annotator_id=annotator.id, kind=source.tier.kind,
                                   participant_id=source.tier.participant_id)
            if tier.read_only:
                raise DyadLabError(f"the gold tier {labels.session.name}/{source.key.format()} is read-only")
            replaced += [tx.segments.delete(old.id) for old in tx.segments.list(tier.id)]
            tx.segments.add_many({**s, "tier_id": tier.id, "annotator_id": annotator.id} for s in segments)
            written += [seg.id for seg in tx.segments.list(tier.id)]  # the tier was emptied: all of them are new
            tiers.append(f"{labels.session.name}/{source.key.participant or '*'}")
            self.tier_ids.add(tier.id)
        self.replaced, self.written = replaced, written
        self.report.segments_replaced, self.report.segments_written, self.report.tiers = \
            len(replaced), len(written), tiers

    def revert(self, tx: UnitOfWork) -> None:
        for segment_id in self.written:
            tx.segments.delete(segment_id)
        for segment in self.replaced:
            tx.segments.restore(segment)

    def touched(self) -> set[Touch]:
        return {("segments", tier_id) for tier_id in self.tier_ids}
