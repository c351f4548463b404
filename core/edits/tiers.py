"""An annotator's working set of tiers in a session, and how far each tier's annotation has got.

When someone opens a session as annotator X, X gets their own copy of the session's tier layout
(same names, participants and schemes as the tiers already there — typically the gold tiers — or the
project's layout — by default emotion + valence/arousal/dominance — when the session has none), so every annotator labels
into their own rows and nobody overwrites anyone else. Progress (segments and the share of the session
covered) feeds the project browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dyadlab.core import model
from dyadlab.core.edits.base import EditRefused
from dyadlab.core.labels import THESIS_4CLASS
from dyadlab.core.store import Store, UnitOfWork
from dyadlab.core.store.repositories import TierCoverage

DEFAULT_LAYOUT: tuple[tuple[str, str, str], ...] = (
    ("emotion", THESIS_4CLASS, "categorical"),
    ("valence", "vad", "dimensional"),
    ("arousal", "vad", "dimensional"),
    ("dominance", "vad", "dimensional"),
)
EDITABLE_KINDS = ("categorical", "dimensional")
#: Project setting: the (tier, scheme, kind) layout new sessions start with, once the project changed it
#: (``core.edits.schemes``: a tier added to every session, a shipped scheme replaced by a project copy).
LAYOUT_SETTING = "tier_layout"


def project_layout(tx: UnitOfWork) -> tuple[tuple[str, str, str], ...]:
    """The tier layout a session without tiers gets: the project's own, else ``DEFAULT_LAYOUT``."""
    stored = tx.settings.get(LAYOUT_SETTING)
    return tuple((str(n), str(s), str(k)) for n, s, k in stored) if stored else DEFAULT_LAYOUT


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
        shown: dict[tuple[int | None, int], dict[str, int]] = {}  # (participant, annotator) -> tier name -> position
        for t in tx.tiers.list(session_id):
            if t.kind in EDITABLE_KINDS:
                layout.setdefault((t.participant_id, t.name), (t.scheme_id, t.kind))
                shown.setdefault((t.participant_id, t.annotator_id), {})[t.name] = t.position
        # where the tiers already there are shown: as the annotator who laid a participant's tiers out shows
        # them (most distinct positions; gold or model tiers, never reordered, all sit at 0), then anyone's
        positions: dict[tuple[int | None, str], int] = {}
        for (pid, _annotator), names in sorted(shown.items(), key=lambda kv: -len(set(kv[1].values()))):
            for name, position in names.items():
                positions.setdefault((pid, name), position)
        had = {(t.participant_id, t.name) for t in tx.tiers.list(session_id, annotator_id=annotator.id)}
        if not layout:
            for p in tx.participants.list(session_id):
                for name, scheme_name, kind in project_layout(tx):
                    scheme = tx.schemes.by_name(scheme_name)
                    if scheme is not None:
                        layout[(p.id, name)] = (scheme.id, kind)
        mine = [tx.tiers.ensure(session_id, name, scheme_id=scheme_id, annotator_id=annotator.id, kind=kind,
                                participant_id=pid)
                for (pid, name), (scheme_id, kind) in sorted(layout.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1]))]
        mine = [tx.tiers.update(t.id, position=positions[key]) if key not in had and positions.get(key) else t
                for t in mine for key in [(t.participant_id, t.name)]]
    return mine


@dataclass(frozen=True)
class TierProgress:
    tier: model.Tier
    annotator: str
    participant: str | None
    segments: int
    covered_us: int
    fraction: float  # share of the session duration covered by segments, 0..1


def project_progress(tx: UnitOfWork, sessions: Sequence[model.Session]) -> dict[int, list[TierProgress]]:
    """Per session (by id), per tier (all annotators): segment count and coverage of the session.

    One grouped query for all the sessions (``tx.segments.progress``): segments are counted and their
    coverage summed in the database, never loaded, so asking for a whole project stays quick.
    """
    if not sessions:
        return {}
    ids = [s.id for s in sessions]
    annotators = {a.id: a.name for a in tx.annotators.list()}
    coverage = tx.segments.progress(ids)
    # One session: its own tiers. Several: the project's tiers and participants in one read each, rather
    # than two queries per session (100 sessions made that the slow part).
    one = ids[0] if len(ids) == 1 else None
    codes = {p.id: p.code for p in tx.participants.list(one)}
    tiers: dict[int, list[model.Tier]] = {sid: [] for sid in ids}
    for t in tx.tiers.list(one):
        if t.session_id in tiers:
            tiers[t.session_id].append(t)
    none = TierCoverage(0, 0, 0)
    out: dict[int, list[TierProgress]] = {}
    for session in sessions:
        mine = tiers[session.id]
        duration = session.duration_us or max((coverage.get(t.id, none).last_end_us for t in mine), default=0)
        out[session.id] = [
            TierProgress(t, annotators.get(t.annotator_id, "?"), codes.get(t.participant_id or -1), c.segments,
                         c.covered_us, min(1.0, c.covered_us / duration) if duration else 0.0)
            for t in mine for c in [coverage.get(t.id, none)]]
    return out


def tier_progress(tx: UnitOfWork, session: model.Session) -> list[TierProgress]:
    """Per tier (all annotators): segment count and coverage of the session."""
    return project_progress(tx, [session])[session.id]
