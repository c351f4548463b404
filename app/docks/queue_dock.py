"""The "Next to label" panel: the stretches worth labelling next (``core.active.queue``), with the reason.

Enter (or a double click, or the jump key from anywhere) jumps to the current entry: the playhead moves to
its start, the annotator's own tier of that participant becomes the active tier, and the model's label is
shown preselected. The accept key creates the annotator's segment with that label and selects it, so the
palette keys (class keys, or a click in the Label palette) relabel it right away; the panel's own label
buttons create the segment with another class instead. The skip key sets the entry aside (remembered per
annotator) and jumps to the next one. Each of these is one core edit pushed through ``Workspace.push``, so
Ctrl+Z takes it back and the entry returns to the list. Keys come from the keymap (``queue.*`` ids in
``app/shortcuts.py``).

Background retraining (``core.active.retrain``): after every N labels accepted or corrected here (the
"Retrain every" box, kept in QSettings; 0 = off) a low-priority fine-tune job starts through the window's
``JobRunner``; when it ends (``job_ended``) and the fine-tune scored better on the annotator's held-back
labels, the queue switches to the new model and ``model_replaced(old, new)`` tells the overlays. The
annotator keeps labelling meanwhile; the previous model stays in the registry.

Rank ranks the open session's stretches of both participants or one (the participant box), on the active
tier's name when that is one of the annotator's categorical tiers (any scheme), else on ``emotion``.
Ranking may run the model over the session the first time (seconds): it runs off the GUI thread
(``BackgroundCall``). After an edit the list is filtered from what it holds (no model run): labelled and
skipped entries leave it, undone ones come back, and the order stays the one the annotator saw.

The class buttons are the classes of the annotator's tier as its scheme is now (``Workspace.schemes_changed``
refreshes them), not the model's: after a class was renamed in the scheme editor (happy → joy) the panel
offered "happy" and Accept failed on save. A proposed class the tier's scheme lacks is said so on the entry,
and Accept refuses it up front with that reason; a class button labels the stretch with the tier's class.
(The model's classes are not translated through the rename: the scheme does not record its renames.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.docks.model_box import ModelBox
from dyadlab.app.errors import reporter
from dyadlab.app.live.background import BackgroundCall
from dyadlab.app.shortcuts import shown, stored_keys
from dyadlab.app.workspace import Workspace
from dyadlab.app.write_access import offer, refusal
from dyadlab.core.active.queue import QueueItem, build_queue
from dyadlab.core.active.retrain import DEFAULT_EVERY, RetrainSchedule, outcome, submit_retrain
from dyadlab.core.inference.assist import TARGET_TIER, RejectProposal, accept_edit, rejected_keys
from dyadlab.core.store.rules import Op

Seek = Callable[[int], None]
KEYS = {"queue.jump": "jump", "queue.accept": "accept", "queue.skip": "skip"}  # shortcut ids
EVERY_SETTING = "queue/retrain_every"


class QueuePanel(QWidget):
    ranked = Signal()  # the queue was computed and listed (or computing it failed)
    labelled = Signal(int)  # a label was accepted or corrected from the queue: how many so far
    model_replaced = Signal(int, int)  # (old model id, new model id): a retraining did better

    def __init__(self, ws: Workspace, seek: Seek, key_text: Callable[[str], str] | None = None, *,
                 tier: str = TARGET_TIER, jobs: Any = None) -> None:
        """``jobs``: the window's ``JobRunner`` (retraining is off without one)."""
        super().__init__()
        self.ws, self.seek, self.tier_name, self.jobs = ws, seek, tier, jobs
        self.schedule = RetrainSchedule(every=int(QSettings().value(EVERY_SETTING, DEFAULT_EVERY)))
        self.key_text = key_text or (lambda action_id: shown(stored_keys(action_id)))
        self.items: list[QueueItem] = []  # as ranked (acted-on entries stay here, hidden, so undo restores them)
        self.shown_items: list[QueueItem] = []
        self.pending: QueueItem | None = None  # the entry jumped to
        self.count = 0
        self.background = BackgroundCall("queue", self)
        self.background.done.connect(self.show_items)
        self.background.failed.connect(self._failed)
        self.background.busy_changed.connect(self._busy)
        self.model = ModelBox(ws.project, "QueueModel")
        self.who = QComboBox()  # whose stretches: both participants, or one
        self.who.setObjectName("QueueParticipant")
        self.run = QPushButton("Rank")
        self.run.setObjectName("QueueRank")
        self.run.setToolTip("Rank this session's unlabelled stretches by what labelling them is worth")
        self.run.clicked.connect(self.start)
        self.list = QListWidget()
        self.list.setObjectName("QueueEntries")
        self.list.itemActivated.connect(lambda item: self.jump(self.list.row(item)))
        self.choice = QLabel("")
        self.choice.setObjectName("QueueChoice")
        self.labels = QHBoxLayout()  # the class buttons of the entry jumped to (its proposed class checked)
        self.status = QLabel("Press Rank to see what to label next.")
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy.hide()
        self.every = QSpinBox()
        self.every.setObjectName("QueueRetrainEvery")
        self.every.setRange(0, 10_000)
        self.every.setValue(self.schedule.every)
        self.every.setPrefix("retrain every ")
        self.every.setSpecialValueText("no retraining")
        self.every.setToolTip("Fine-tune the model in the background after this many labels from the queue; "
                              "it replaces the model only when it scores better on your held-back labels")
        self.every.valueChanged.connect(self._set_every)
        # a retraining registers its model: where the server would refuse this account that, none is started
        self.retrain_refused = refusal(ws, "models", Op.INSERT)
        offer([self.every], self.retrain_refused, tooltip=self.every.toolTip())
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.who)
        row.addWidget(self.run)
        row.addWidget(self.every)
        choice_row = QHBoxLayout()
        choice_row.addWidget(self.choice)
        choice_row.addLayout(self.labels, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row)
        layout.addWidget(self.busy)
        layout.addWidget(self.list, 1)
        layout.addLayout(choice_row)
        layout.addWidget(self.status)
        ws.session_opened.connect(self._session_opened)
        ws.edited.connect(self._refresh)
        ws.schemes_changed.connect(self._refresh)  # a class renamed or removed: other buttons, other refusals
        self.refresh_models()
        self._fill_participants()

    @property
    def model_id(self) -> int | None:
        return self.model.model_id

    def refresh_models(self) -> None:
        self.model.refill()

    def set_model(self, model_id: int) -> None:
        """Rank with ``model_id`` from now on (a retrained model replaces the one behind the queue)."""
        self.model.refill(select=model_id)

    def _session_opened(self) -> None:
        self.background.cancel()
        self.refresh_models()
        self._fill_participants()
        self.show_items([])

    def _fill_participants(self) -> None:
        self.who.clear()
        self.who.addItem("both", None)
        for p in self.ws.data.participants if self.ws.data else []:
            self.who.addItem(p.code, p.id)

    def _tier_to_rank(self) -> str:
        """The active tier's name when it is one of the annotator's categorical tiers (any scheme), else the
        panel's default tier."""
        tier = self.ws.active_tier
        if tier is not None and tier.kind == "categorical" and tier.annotator_id == self.ws.annotator.id:
            return tier.name
        return self.tier_name

    def start(self) -> None:
        """Rank the open session's stretches off the GUI thread; ``ranked`` fires once they are listed."""
        if self.model_id is None or self.ws.session is None:
            reporter.notice("no model or session to rank with")
            return
        self.tier_name = self._tier_to_rank()
        project, model_id, session_id, who, tier = (self.ws.project, int(self.model_id), self.ws.session.id,
                                                     self.ws.annotator, self.tier_name)
        participants = None if self.who.currentData() is None else [int(self.who.currentData())]
        self.status.setText(f"Ranking this session's stretches on tier {tier!r}…")
        self.background.start(lambda: build_queue(project, model_id, who, tier=tier, sessions=[session_id],
                                                  participants=participants))

    def _busy(self, on: bool) -> None:
        self.busy.setVisible(on)
        self.run.setEnabled(not on)

    def _failed(self, exc: Any) -> None:
        self.status.setText(f"No queue: {exc}")
        reporter.report(exc, "Next to label")
        self.ranked.emit()

    def show_items(self, items: list[QueueItem]) -> None:
        """List ``items`` (best first) and make the first one current."""
        self.items = list(items)
        self.pending = None
        self._show(0)
        self.ranked.emit()

    # -- what is still open ------------------------------------------------------------------------------
    def _open(self) -> list[QueueItem]:
        """The ranked entries the annotator has neither labelled nor skipped (read from the store)."""
        if self.ws.session is None:
            return []
        skipped = rejected_keys(self.ws.project.store, self.ws.annotator.id)
        with self.ws.project.store.transaction() as tx:
            mine = {t.participant_id: tx.segments.list(t.id) for t in
                    tx.tiers.list(self.ws.session.id, annotator_id=self.ws.annotator.id, name=self.tier_name)}

        def labelled(q: QueueItem) -> bool:
            p = q.proposal
            return any(s.start_us < p.end_us and p.start_us < s.end_us for s in mine.get(p.participant_id, []))

        return [q for q in self.items if q.proposal.session_id == self.ws.session.id
                and q.proposal.key not in skipped and not labelled(q)]

    def _refresh(self) -> None:
        if self.items:
            self._show(max(self.list.currentRow(), 0), self.current)

    def _tier_classes(self, participant_id: int) -> list[str] | None:
        """The classes of the annotator's tier the entry is labelled on, as its scheme is now (None: no such
        tier in the open session yet; accepting creates it from the layout)."""
        tier = next((t for t in (self.ws.data.tiers if self.ws.data else []) if t.kind == "categorical"
                     and t.annotator_id == self.ws.annotator.id and t.participant_id == participant_id
                     and t.name == self.tier_name), None)
        return self.ws.scheme(tier).classes if tier is not None and tier.scheme_id in self.ws.schemes else None

    def not_a_class(self, q: QueueItem) -> str | None:
        """Why the model's proposed class cannot be accepted on the tier (its scheme lacks it), else None."""
        classes = self._tier_classes(q.proposal.participant_id)
        if classes is None or q.proposal.value in classes:
            return None
        return (f"{q.proposal.value!r} is not a class of tier {self.tier_name!r} (classes: {', '.join(classes)}): "
                "pick the class it is")

    def _show(self, row: int = 0, current: QueueItem | None = None) -> None:
        names = {p.id: p.code for p in self.ws.data.participants} if self.ws.data else {}
        self.shown_items = self._open()
        self.list.clear()
        for q in self.shown_items:
            p = q.proposal
            problem = self.not_a_class(q)
            value = f"{p.value} (not a class of this tier)" if problem else p.value
            item = QListWidgetItem(f"#{q.entry.rank + 1}  {names.get(p.participant_id, '?')}  "
                                   f"{p.start_us / 1e6:6.2f}–{p.end_us / 1e6:.2f} s  {value}  · {q.why}")
            item.setToolTip(f"{problem}\n{q.why}" if problem else q.why)
            self.list.addItem(item)
        if current is not None and current in self.shown_items:
            row = self.shown_items.index(current)
        if self.shown_items:
            self.list.setCurrentRow(min(row, len(self.shown_items) - 1))
        if self.pending is not None and self.pending not in self.shown_items:
            self.pending = None
        self._show_choice()
        keys = " · ".join(f"{self.key_text(a)} {what}" for a, what in KEYS.items())
        self.status.setText(f"{len(self.shown_items)} to label · Enter, {keys}" if self.shown_items
                            else "Nothing left to label here." if self.items else "Press Rank to see what to label next.")

    def _show_choice(self) -> None:
        while self.labels.count():
            widget = self.labels.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        q = self.pending
        if q is None:
            self.choice.setText("")
            return
        problem = self.not_a_class(q)
        self.choice.setText(f"Proposed: {q.proposal.value} (not a class of this tier: pick one)" if problem
                            else f"Proposed: {q.proposal.value}")
        self.choice.setToolTip(problem or q.why)
        for value in self._tier_classes(q.proposal.participant_id) or q.entry.stretch.classes:
            button = QPushButton(value)
            button.setObjectName(f"QueueLabel_{value}")
            button.setCheckable(True)
            button.setChecked(value == q.proposal.value)  # the model's label, preselected
            button.clicked.connect(lambda _c=False, v=value: self.label(v))
            self.labels.addWidget(button)

    @property
    def current(self) -> QueueItem | None:
        row = self.list.currentRow()
        return self.shown_items[row] if 0 <= row < len(self.shown_items) else None

    # -- the keys ------------------------------------------------------------------------------------------
    def jump(self, row: int | None = None) -> bool:
        """Go to entry ``row`` (default: the current one): playhead, active tier, proposed label."""
        if row is not None:
            self.list.setCurrentRow(row)
        q = self.current
        if q is None:
            reporter.notice("nothing to label next: press Rank in the Next to label panel")
            return False
        self.pending = q
        p = q.proposal
        own = next((t for t in self.ws.visible_tiers() if t.annotator_id == self.ws.annotator.id
                    and t.participant_id == p.participant_id and t.name == self.tier_name), None)
        if own is not None:
            self.ws.select(None)
            self.ws.set_active_tier(own.id)
        self.seek(p.start_us)
        self._show_choice()
        return True

    def accept(self) -> bool:
        """Label the jumped-to entry with the model's label (and select it, so a palette key relabels it)."""
        return self.label(None)

    def label(self, value: str | None) -> bool:
        """Label the jumped-to (else the current) entry: ``None`` accepts the model's label, else a correction."""
        q = self.pending or self.current
        if q is None:
            reporter.notice("nothing to label: press Rank in the Next to label panel")
            return False
        problem = self.not_a_class(q) if value is None or value == q.proposal.value else None
        if problem:  # refused here, with the reason, not by the store on save
            self.status.setText(f"Cannot accept: {problem}")
            reporter.notice(f"Cannot accept: {problem}")
            return False
        edit = accept_edit(self.ws.project, q.proposal, self.ws.annotator, tier=self.tier_name, value=value)
        if not self.ws.push(edit):
            return False
        self.ws.reload_tiers()  # the annotator's tier may be new
        if edit.segment is not None:
            self.ws.select(next((s for s in self.ws.segments(edit.segment.tier_id) if s.id == edit.segment.id), None))
        self.pending = None
        self._show_choice()
        self.count += 1
        self.labelled.emit(self.count)
        if (self.schedule.count() and self.jobs is not None and self.model_id is not None
                and self.retrain_refused is None):
            self._retrain(int(self.model_id))
        return True

    def skip(self) -> bool:
        """Set the current entry aside (undoable) and jump to the next one."""
        q = self.pending or self.current
        if q is None:
            reporter.notice("nothing to skip")
            return False
        row = self.shown_items.index(q) if q in self.shown_items else 0
        if not self.ws.push(RejectProposal(q.proposal, self.ws.annotator.id)):
            return False
        self.pending = None
        if self.shown_items:
            self.jump(min(row, len(self.shown_items) - 1))
        return True

    # -- background retraining ----------------------------------------------------------------------------
    def _set_every(self, n: int) -> None:
        self.schedule.every = n
        QSettings().setValue(EVERY_SETTING, n)

    def _retrain(self, model_id: int) -> None:
        job = submit_retrain(self.jobs, self.ws.project, model_id, self.ws.annotator.name, tier=self.tier_name)
        self.schedule.started(job.id)
        self.status.setText(f"Retraining the model on your labels in the background (job {job.id})…")

    def job_ended(self, job_id: int) -> None:
        """A job ended (the Jobs panel says so): when it was our retraining, adopt a better model."""
        if not self.schedule.finished(job_id):
            return
        result = outcome(self.jobs.get(job_id))
        if result is None:
            self.status.setText(f"Retraining (job {job_id}) did not finish; the model stays.")
            return
        text = result.summary[0].upper() + result.summary[1:]
        if result.replaced and result.new_model_id is not None:
            text += " — press Rank to re-rank with it"
            self.set_model(result.new_model_id)
            self.model_replaced.emit(result.model_id, result.new_model_id)
        self.status.setText(text)

