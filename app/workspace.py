"""The open project as the GUI sees it: who is annotating, which session, what is selected, and the
one undo stack. The command context of the app (SLEAP's ``CommandContext``), without business rules.

Widgets read state from here and change annotations only through ``push`` (core edits wrapped in
undo commands); after every commit, undo or redo the workspace re-reads what the edit touched and
emits a signal, so every view of a tier or series redraws from the database, never from a guess.
Owned by the main window; lives in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from dyadlab.app.commands.edit_command import push_edit
from dyadlab.app.errors import reporter
from dyadlab.core import model
from dyadlab.core.edits import Edit, Touch, ensure_annotator_tiers
from dyadlab.core.errors import ConflictError, DyadLabError
from dyadlab.core.project import Project
from dyadlab.core.store.roles import Action, allowed

ALL_ANNOTATORS = -2  # show every annotator's tiers (an annotator id is never negative)


@dataclass(frozen=True)
class SessionData:
    """Everything about the open session that changes only when the session (re)opens."""

    session: model.Session
    participants: list[model.Participant]
    views: list[model.View]
    audio: list[model.AudioTrack]
    tiers: list[model.Tier]
    annotators: dict[int, model.Annotator]

    def participant(self, participant_id: int | None) -> model.Participant | None:
        return next((p for p in self.participants if p.id == participant_id), None)

    @property
    def duration_us(self) -> int:
        return model.session_extent_us(self.session, self.views, self.audio)


class Workspace(QObject):
    session_opened = Signal()
    tiers_changed = Signal()  # which tiers are shown, or the active one
    segments_changed = Signal(int)  # tier id
    series_changed = Signal(int)  # series id
    participant_changed = Signal(int)  # participant id
    selection_changed = Signal()
    edited = Signal()  # any commit, undo or redo
    schemes_changed = Signal()  # a label scheme or the tier layout changed (scheme dialog, its undo)

    def __init__(self, project: Project, annotator: model.Annotator, *,
                 on_conflict: Callable[[Workspace, Edit, ConflictError], bool] | None = None) -> None:
        """``on_conflict`` decides, with the user, what happens when someone else changed what an edit
        touches (team mode); without it such an edit is refused and reported."""
        super().__init__()
        self.project, self.annotator = project, annotator
        self.on_conflict = on_conflict
        self.undo_stack = QUndoStack(self)
        self.data: SessionData | None = None
        self.schemes: dict[int, model.LabelScheme] = {}
        # a browsing (read-only) session has no tiers of its own: show everyone's
        self.shown_annotator_id: int = annotator.id if annotator.id >= 0 else ALL_ANNOTATORS
        self.active_tier_id: int | None = None
        self.selected: model.Segment | None = None
        self._segments: dict[int, list[model.Segment]] = {}
        with project.store.transaction() as tx:
            self.schemes = {s.id: s for s in tx.schemes.list()}

    # -- session ---------------------------------------------------------------------------------

    def open_session(self, session_id: int) -> None:
        """Load a session; the annotator gets their own tiers in it (created once)."""
        store = self.project.store
        reopened = self.data is not None and self.data.session.id == session_id  # e.g. its media moved
        with store.transaction() as tx:
            session = tx.sessions.get(session_id)
        if self.annotator.id >= 0:
            try:
                ensure_annotator_tiers(store, session_id, self.annotator)
            except DyadLabError as exc:  # read-only or locked database: browse what is there
                reporter.report(exc, "Cannot create your tiers")
        with store.transaction() as tx:
            self.data = SessionData(session, tx.participants.list(session_id), tx.views.list(session_id),
                                    tx.audio.list(session_id), tx.tiers.list(session_id),
                                    {a.id: a for a in tx.annotators.list()})
            self._segments = {t.id: [] for t in self.data.tiers}
            for seg in tx.segments.list(tier_ids=list(self._segments)):
                self._segments[seg.tier_id].append(seg)
        if not reopened:  # the shown session re-opened keeps its undo history (Undo a media change)
            self.undo_stack.clear()
        self.selected = None
        own = [t for t in self.visible_tiers() if self.can_edit(t) and t.kind == "categorical"]
        self.active_tier_id = own[0].id if own else None
        self.session_opened.emit()

    def reload_tiers(self) -> None:
        """Pick up tiers written outside an edit (a model's utterance predictions) without reopening."""
        if self.data is None:
            return
        with self.project.store.transaction() as tx:
            tiers = tx.tiers.list(self.data.session.id)
            annotators = {a.id: a for a in tx.annotators.list()}
            self._segments = {t.id: [] for t in tiers}
            for seg in tx.segments.list(tier_ids=list(self._segments)):
                self._segments[seg.tier_id].append(seg)
            # an import elsewhere may have put a tier on a scheme written meanwhile (a project copy)
            new_schemes = {t.scheme_id for t in tiers} - set(self.schemes)
            if new_schemes:
                self.schemes = {s.id: s for s in tx.schemes.list()}
        self.data = replace(self.data, tiers=tiers, annotators=annotators)
        self.tiers_changed.emit()
        if new_schemes:
            self.schemes_changed.emit()  # the keymap and the rating panel take its keys

    def reload_schemes(self) -> None:
        """Re-read the label schemes and the tiers after a scheme or the tier layout changed."""
        with self.project.store.transaction() as tx:
            self.schemes = {s.id: s for s in tx.schemes.list()}
        self.reload_tiers()
        self.schemes_changed.emit()

    @property
    def session(self) -> model.Session | None:
        return self.data.session if self.data else None

    # -- tiers -------------------------------------------------------------------------------------

    def scheme(self, tier: model.Tier) -> model.LabelScheme:
        return self.schemes[tier.scheme_id]

    def tier(self, tier_id: int | None) -> model.Tier | None:
        return next((t for t in self.data.tiers if t.id == tier_id), None) if self.data else None

    def can_edit(self, tier: model.Tier) -> bool:
        """Whether the user's role lets them write ``tier`` (the same rule core edits enforce)."""
        if self.annotator.id < 0:  # browsing read-only: no account acts
            return False
        owner = self.data.annotators.get(tier.annotator_id) if self.data else None
        return allowed(self.annotator, Action.EDIT_TIER, tier=tier, owner_kind=owner.kind if owner else None)

    def visible_tiers(self) -> list[model.Tier]:
        """The annotator's own tiers, plus the shown annotator's (read-only) for comparison."""
        if self.data is None:
            return []
        shown = self.shown_annotator_id
        tiers = [t for t in self.data.tiers if t.kind in ("categorical", "dimensional")
                 and (t.annotator_id == self.annotator.id or shown in (ALL_ANNOTATORS, t.annotator_id))]
        order = {p.id: i for i, p in enumerate(self.data.participants)}
        kinds = {"categorical": 0, "dimensional": 1}
        return sorted(tiers, key=lambda t: (order.get(t.participant_id or -1, 99), t.position, kinds[t.kind], t.name,
                                            t.annotator_id != self.annotator.id, t.annotator_id))

    def show_annotator(self, annotator_id: int) -> None:
        self.shown_annotator_id = annotator_id
        self.tiers_changed.emit()

    def set_active_tier(self, tier_id: int | None) -> None:
        if tier_id != self.active_tier_id:
            self.active_tier_id = tier_id
            self.tiers_changed.emit()

    @property
    def active_tier(self) -> model.Tier | None:
        return self.tier(self.active_tier_id)

    # -- segments ------------------------------------------------------------------------------------

    def segments(self, tier_id: int) -> list[model.Segment]:
        return self._segments.get(tier_id, [])

    def segment_at(self, tier_id: int, t_us: int) -> model.Segment | None:
        return next((s for s in self.segments(tier_id) if s.start_us <= t_us < s.end_us), None)

    def select(self, segment: model.Segment | None) -> None:
        self.selected = segment
        if segment is not None:
            self.set_active_tier(segment.tier_id)
        self.selection_changed.emit()

    # -- edits ---------------------------------------------------------------------------------------

    def push(self, edit: Edit, merge_key: object | None = None) -> bool:
        """Commit ``edit`` and put it on the undo stack; False (and reported) when it failed.

        When someone else changed the segment meanwhile, the user picks theirs or mine (team mode).
        """
        decide = self.on_conflict
        return push_edit(self, edit, merge_key,
                         on_conflict=None if decide is None else lambda exc: decide(self, edit, exc))

    def notify(self, touches: set[Touch]) -> None:
        """Re-read what an edit touched and tell the views."""
        if any(kind in ("schemes", "tiers") for kind, _ in touches):
            self.reload_schemes()
        for kind, key in sorted(touches):
            if kind == "segments":
                with self.project.store.transaction() as tx:
                    self._segments[key] = tx.segments.list(key)
                self.segments_changed.emit(key)
            elif kind == "series":
                self.series_changed.emit(key)
            elif kind == "participant" and self.data is not None:
                with self.project.store.transaction() as tx:
                    updated = tx.participants.get(key)
                self.data.participants[:] = [updated if p.id == key else p for p in self.data.participants]
                self.participant_changed.emit(key)
        self._refresh_selection()
        self.edited.emit()

    def _refresh_selection(self) -> None:
        if self.selected is not None:
            fresh = next((s for s in self.segments(self.selected.tier_id) if s.id == self.selected.id), None)
            if fresh != self.selected:
                self.selected = fresh
                self.selection_changed.emit()

    def tier_ids_holding(self, segment_ids: set[int]) -> set[int]:
        """Tiers whose loaded segments include any of ``segment_ids`` (where a deleted id used to be)."""
        return {tid for tid, segs in self._segments.items() if any(s.id in segment_ids for s in segs)}

    def refresh_segments(self, tier_ids: set[int]) -> set[int]:
        """Re-read tiers changed outside this window (other annotators); redraw only those that differ.

        Returns the tier ids redrawn. A tier this window does not know yet reloads the tier list.
        """
        if self.data is None or not tier_ids:
            return set()
        if tier_ids - set(self._segments):
            self.reload_tiers()
            self._refresh_selection()
            return set(tier_ids)
        fresh: dict[int, list[model.Segment]] = {tid: [] for tid in tier_ids}
        with self.project.store.transaction() as tx:
            for seg in tx.segments.list(tier_ids=sorted(tier_ids)):
                fresh[seg.tier_id].append(seg)
        redrawn = {tid for tid, segs in fresh.items() if segs != self._segments.get(tid)}
        for tid in sorted(redrawn):
            self._segments[tid] = fresh[tid]
            self.segments_changed.emit(tid)
        self._refresh_selection()
        return redrawn
