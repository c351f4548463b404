"""An annotator's working set of tiers in a session, and how far each tier's annotation has got.

When someone opens a session as annotator X, X gets their own copy of the session's tier layout
(same names, participants and schemes as the tiers already there — typically the gold tiers — or the
default emotion + valence/arousal/dominance set when the session has none), so every annotator labels
into their own rows and nobody overwrites anyone else. Progress (segments and the share of the session
covered) feeds the project browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from dyadlab.core import model
from dyadlab.core.edits.base import EditRefused
from dyadlab.core.labels import THESIS_4CLASS
from dyadlab.core.store import Store, UnitOfWork

DEFAULT_LAYOUT: tuple[tuple[str, str, str], ...] = (
    ("emotion", THESIS_4CLASS, "categorical"),
    ("valence", "vad", "dimensional"),
    ("arousal", "vad", "dimensional"),
    ("dominance", "vad", "dimensional"),
)
EDITABLE_KINDS = ("categorical", "dimensional")


def ensure_annotator(store: Store, name: str) -> model.Annotator:
    name = name.strip()
    if not name:
        raise EditRefused("an annotator needs a name")
    with store.transaction() as tx:
        return tx.annotators.ensure(name)


def ensure_annotator_tiers(store: Store, session_id: int, annotator: model.Annotator) -> list[model.Tier]:
    """Create (once) the annotator's own tiers mirroring the session's layout; returns them all."""
    with store.transaction() as tx:
        layout: dict[tuple[int | None, str], tuple[int, str]] = {}
        for t in tx.tiers.list(session_id):
            if t.kind in EDITABLE_KINDS:
                layout.setdefault((t.participant_id, t.name), (t.scheme_id, t.kind))
        if not layout:
            for p in tx.participants.list(session_id):
                for name, scheme_name, kind in DEFAULT_LAYOUT:
                    scheme = tx.schemes.by_name(scheme_name)
                    if scheme is not None:
                        layout[(p.id, name)] = (scheme.id, kind)
        mine = [tx.tiers.ensure(session_id, name, scheme_id=scheme_id, annotator_id=annotator.id, kind=kind,
                                participant_id=pid)
                for (pid, name), (scheme_id, kind) in sorted(layout.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1]))]
    return mine


@dataclass(frozen=True)
class TierProgress:
    tier: model.Tier
    annotator: str
    participant: str | None
    segments: int
    covered_us: int
    fraction: float  # share of the session duration covered by segments, 0..1


def _covered(segments: list[model.Segment]) -> int:
    total, reach = 0, -1
    for s in sorted(segments, key=lambda s: s.start_us):
        start = max(s.start_us, reach)
        if s.end_us > start:
            total += s.end_us - start
        reach = max(reach, s.end_us)
    return total


def tier_progress(tx: UnitOfWork, session: model.Session) -> list[TierProgress]:
    """Per tier (all annotators): segment count and coverage of the session."""
    annotators = {a.id: a.name for a in tx.annotators.list()}
    codes = {p.id: p.code for p in tx.participants.list(session.id)}
    tiers = tx.tiers.list(session.id)
    by_tier: dict[int, list[model.Segment]] = {t.id: [] for t in tiers}
    for s in tx.segments.list(tier_ids=[t.id for t in tiers]) if tiers else []:
        by_tier[s.tier_id].append(s)
    duration = session.duration_us or max((s.end_us for segs in by_tier.values() for s in segs), default=0)
    out = []
    for t in tiers:
        covered = _covered(by_tier[t.id])
        out.append(TierProgress(t, annotators.get(t.annotator_id, "?"), codes.get(t.participant_id or -1),
                                len(by_tier[t.id]), covered, min(1.0, covered / duration) if duration else 0.0))
    return out
