"""Model-assisted labelling: the model's utterance labels as proposals the annotator accepts, edits or rejects.

One key each (Shift+A accept, Shift+E accept-and-select to edit, Shift+D reject: plain A, E and D are rating
keys of the vad scheme; the keymap in ``app/shortcuts.py`` owns them), and each is one undoable command: the core
edits of ``core.inference.assist`` (``accept_edit``, ``RejectProposal``) go through ``Workspace.push`` like
every other edit, so Ctrl+Z takes an accepted segment (or a rejection) back and the database says so.

Proposing runs the model over the session's utterances the first time, which takes seconds: it runs off the
GUI thread (``BackgroundCall``) with a busy bar, and the list fills in when the result lands. Refreshing the
list after an edit reads only the store (no model run), so it stays immediate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.docks.model_box import ModelBox
from dyadlab.app.errors import reporter
from dyadlab.app.live.background import BackgroundCall
from dyadlab.app.shortcuts import shown, stored_keys
from dyadlab.app.workspace import Workspace
from dyadlab.core.inference.assist import Proposal, RejectProposal, accept_edit, propose

Seek = Callable[[int], None]
KEYS = {"assist.accept": "accept", "assist.edit": "accept and edit", "assist.reject": "reject"}  # shortcut ids


class AssistPanel(QWidget):
    proposed = Signal()  # proposals were computed and listed (or computing them failed)

    def __init__(self, ws: Workspace, seek: Seek, key_text: Callable[[str], str] | None = None) -> None:
        """``key_text(action id)``: the keys the keymap gives an action now (``Shortcuts.key_text``); without
        it the panel names the keys the user set (or the defaults)."""
        super().__init__()
        self.ws, self.seek = ws, seek
        self.key_text = key_text or (lambda action_id: shown(stored_keys(action_id)))
        self.proposals: list[Proposal] = []
        self.background = BackgroundCall("assist", self)
        self.background.done.connect(self._proposed)
        self.background.failed.connect(self._failed)
        self.background.busy_changed.connect(self._busy)
        self.model = ModelBox(ws.project, "AssistModel")
        self.run = QPushButton("Propose")
        self.run.setObjectName("AssistPropose")
        self.run.setToolTip("Label this session's utterances with the model and offer them "
                            f"({' / '.join(self.key_text(a) for a in KEYS)})")
        self.run.clicked.connect(self.start)
        self.list = QListWidget()
        self.list.setObjectName("AssistProposals")
        self.list.itemClicked.connect(lambda item: self._go(self.list.row(item)))
        self.status = QLabel("No proposals yet.")
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setObjectName("AssistBusy")
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy.hide()
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.run)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row)
        layout.addWidget(self.busy)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        ws.session_opened.connect(self._session_opened)
        ws.edited.connect(self._refresh)
        self.refresh_models()

    @property
    def model_id(self) -> int | None:
        return self.model.model_id

    def refresh_models(self) -> None:
        self.model.refill()

    def _session_opened(self) -> None:
        self.background.cancel()  # proposals of the previous session must not land in this one
        self.refresh_models()
        self.proposals = []
        self._show()

    def start(self) -> None:
        """Write the model's utterance labels (once) and list what the annotator has not labelled yet.

        Runs off the GUI thread; ``proposed`` fires once the list is shown."""
        if self.model_id is None or self.ws.session is None:
            reporter.notice("no model or session to propose from")
            return
        project, model_id, session_id, annotator = self.ws.project, int(self.model_id), self.ws.session.id, \
            self.ws.annotator
        self.status.setText("Computing the model's utterance labels…")
        self.background.start(lambda: propose(project, model_id, session_id, annotator))

    def _busy(self, on: bool) -> None:
        self.busy.setVisible(on)
        self.run.setEnabled(not on)

    def _failed(self, exc: Any) -> None:
        self.status.setText(f"No proposals: {exc}")
        reporter.report(exc, "Model proposals")
        self.proposed.emit()

    def _proposed(self, proposals: list[Proposal]) -> None:
        self.proposals = proposals
        self.ws.reload_tiers()  # the model's tier may be new: show it on the timeline
        self._show()
        if self.proposals:
            self._go(0)
        self.proposed.emit()

    def _refresh(self) -> None:
        """After any edit: drop what is now labelled or rejected (no model run)."""
        if not self.proposals or self.model_id is None or self.ws.session is None:
            return
        current = self.list.currentRow()
        self.proposals = propose(self.ws.project, int(self.model_id), self.ws.session.id, self.ws.annotator,
                                 compute=False)
        self._show(min(max(current, 0), len(self.proposals) - 1))

    def _show(self, row: int = 0) -> None:
        names = {p.id: p.code for p in self.ws.data.participants} if self.ws.data else {}
        self.list.clear()
        for q in self.proposals:
            item = QListWidgetItem(f"{names.get(q.participant_id, '?')}  {q.start_us / 1e6:6.2f}–{q.end_us / 1e6:.2f} s"
                                   f"  {q.value}  {q.confidence:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, q.key)
            self.list.addItem(item)
        if self.proposals:
            self.list.setCurrentRow(row)
        keys = " · ".join(f"{self.key_text(a)} {what}" for a, what in KEYS.items())
        self.status.setText(f"{len(self.proposals)} proposals · {keys}" if self.proposals else "No open proposals.")

    def _go(self, row: int) -> None:
        self.list.setCurrentRow(row)
        self.seek(self.proposals[row].start_us)

    @property
    def current(self) -> Proposal | None:
        row = self.list.currentRow()
        return self.proposals[row] if 0 <= row < len(self.proposals) else None

    # -- the three keys ----------------------------------------------------------------------------------
    def accept(self, *, select: bool = False) -> bool:
        """Create the annotator's segment from the current proposal (undoable)."""
        q = self.current
        if q is None:
            reporter.notice("no proposal to accept: press Propose in the Assist panel")
            return False
        edit = accept_edit(self.ws.project, q, self.ws.annotator)
        if not self.ws.push(edit):
            return False
        if select and edit.segment is not None:
            self.ws.select(next((s for s in self.ws.segments(edit.segment.tier_id) if s.id == edit.segment.id), None))
        return True

    def reject(self) -> bool:
        q = self.current
        if q is None:
            reporter.notice("no proposal to reject")
            return False
        return self.ws.push(RejectProposal(q, self.ws.annotator.id))
