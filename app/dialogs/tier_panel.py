"""The Tiers tab of Edit ▸ Coding schemes and tiers: the session's tiers per participant and annotator, and
adding (here or in every session), renaming and reordering them.

Each button pushes one ``core.edits.schemes`` edit through ``Workspace.push`` (one undo step); the rules — a
tier named twice, a scale's tier not named after its dimension, an attribute scheme on a tier — live there.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import guarded, reporter
from dyadlab.app.workspace import Workspace
from dyadlab.app.write_access import offer
from dyadlab.core import model
from dyadlab.core.edits.schemes import AddTiers, RenameTiers, ReorderTiers, TierSpec, in_effect
from dyadlab.core.labels.scheme_editing import TIER_KIND

ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the tier id of a row
EVERY = -1  # participant combo: every participant


def button(text: str, slot: Callable[[], object], box: QHBoxLayout | QVBoxLayout) -> QPushButton:
    """A push button running ``slot`` (errors reported, never raised into Qt), added to ``box``."""
    made = QPushButton(text)
    made.clicked.connect(guarded(text)(lambda _c=False: slot()))
    box.addWidget(made)
    return made


class TierPanel(QWidget):
    """``say``: where the panel tells the user what happened or why not (the dialog's message line);
    ``refused``: why this account may not add or change tiers (None: it may)."""

    def __init__(self, ws: Workspace, say: Callable[[str], None], *, refused: str | None) -> None:
        super().__init__()
        self.ws, self.say = ws, say
        box = QVBoxLayout(self)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Participant", "Tier", "Annotator", "Scheme"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        box.addWidget(self.table, 1)
        edit_row = QHBoxLayout()
        self.up = button("Up", lambda: self._move_tier(-1), edit_row)
        self.down = button("Down", lambda: self._move_tier(1), edit_row)
        self.rename_edit = QLineEdit()
        self.rename_edit.setPlaceholderText("new name of the selected tier")
        edit_row.addWidget(self.rename_edit, 1)
        self.rename_button = button("Rename tier", self._rename_tier, edit_row)
        box.addLayout(edit_row)
        grid = QGridLayout()
        self.participant, self.annotator, self.scheme = QComboBox(), QComboBox(), QComboBox()
        self.scheme.currentIndexChanged.connect(lambda _i: self._suggest_tier_name())
        self.name_edit = QLineEdit()
        self.every_session = QCheckBox("in every session (and sessions added later)")
        for col, (text, widget) in enumerate((("Participant", self.participant), ("Annotator", self.annotator),
                                              ("Scheme", self.scheme), ("Tier name", self.name_edit))):
            grid.addWidget(QLabel(text), 0, col)
            grid.addWidget(widget, 1, col)
        grid.addWidget(self.every_session, 2, 0, 1, 3)
        add_row = QHBoxLayout()
        self.add_button = button("Add tier", self._add_tier, add_row)
        grid.addLayout(add_row, 2, 3)
        box.addLayout(grid)
        offer((self.up, self.down, self.rename_edit, self.rename_button, self.participant, self.annotator,
               self.scheme, self.name_edit, self.every_session, self.add_button), refused)

    def fill(self) -> None:
        """Re-list the session's tiers; the participant, annotator and scheme chosen (and the tier name typed)
        stay for the next Add tier (after an add, or a session switch that still has them)."""
        data = self.ws.data
        chosen = [(box, box.currentText()) for box in (self.participant, self.annotator, self.scheme)]
        scheme, typed = self.scheme.currentText(), self.name_edit.text()
        self.table.setRowCount(0)
        self.participant.clear()
        self.annotator.clear()
        self.scheme.clear()
        if data is None:
            return
        codes = {p.id: p.code for p in data.participants}
        order = {p.id: i for i, p in enumerate(data.participants)}
        tiers = [t for t in data.tiers if t.kind in TIER_KIND.values()]
        tiers.sort(key=lambda t: (order.get(t.participant_id or -1, 99), t.annotator_id != self.ws.annotator.id,
                                  t.annotator_id, t.position, t.kind != "categorical", t.name))
        for row, t in enumerate(tiers):
            self.table.insertRow(row)
            scheme = self.ws.schemes.get(t.scheme_id)
            cells = [codes.get(t.participant_id or -1, "session"), t.name, data.annotators[t.annotator_id].name,
                     scheme.name if scheme else "?"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, t.id)
                self.table.setItem(row, col, item)
        self.participant.addItem("every participant", EVERY)
        for p in data.participants:
            self.participant.addItem(p.code, p.id)
        if self.ws.annotator.id >= 0:
            self.annotator.addItem(self.ws.annotator.name, self.ws.annotator.id)
        for a in data.annotators.values():
            if a.kind == "human" and a.id != self.ws.annotator.id:
                self.annotator.addItem(a.name, a.id)
        for s in sorted(in_effect(list(self.ws.schemes.values())), key=lambda s: s.name):
            if s.kind in TIER_KIND:
                self.scheme.addItem(s.name, s.id)
        self._suggest_tier_name()
        for box, text in chosen:
            if box.findText(text) >= 0:
                box.setCurrentIndex(box.findText(text))
        if typed and self.scheme.currentText() == scheme:  # the name typed for that scheme stays too
            self.name_edit.setText(typed)

    def _suggest_tier_name(self) -> None:
        scheme = self.ws.schemes.get(self.scheme.currentData())
        if scheme is None:
            return
        dims = [d["name"] for d in scheme.definition.get("dimensions", [])]
        self.name_edit.setText(dims[0] if dims else scheme.name)

    def _selected_tier(self) -> model.Tier | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return self.ws.tier(item.data(ID_ROLE)) if item is not None else None

    def _add_tier(self) -> None:
        data = self.ws.data
        scheme_id, annotator_id = self.scheme.currentData(), self.annotator.currentData()
        if data is None or scheme_id is None or annotator_id is None:
            self.say("Open a session, and pick a scheme and an annotator first.")
            return
        chosen = self.participant.currentData()
        every = self.every_session.isChecked()
        with self.ws.project.store.transaction() as tx:
            sessions = tx.sessions.list() if every else [data.session]
            code = data.participant(chosen).code if chosen != EVERY else None
            specs = [TierSpec(s.id, p.id, annotator_id, self.name_edit.text().strip(), scheme_id)
                     for s in sessions for p in tx.participants.list(s.id) if code is None or p.code == code]
        if self.ws.push(AddTiers(specs, layout=every)):
            self.say(f"Added {len(specs)} tier{'s' if len(specs) != 1 else ''}.")
        else:
            self.say(reporter.last or "not added")

    def _rename_tier(self) -> None:
        tier = self._selected_tier()
        if tier is None:
            self.say("Select the tier to rename first.")
            return
        if not self.ws.push(RenameTiers([tier.id], self.rename_edit.text().strip())):
            self.say(reporter.last or "not renamed")

    def _move_tier(self, offset: int) -> None:
        tier = self._selected_tier()
        if tier is None:
            return
        rows = [self.ws.tier(self.table.item(r, 0).data(ID_ROLE)) for r in range(self.table.rowCount())]
        group = [t for t in rows if t is not None and (t.participant_id, t.annotator_id) ==
                 (tier.participant_id, tier.annotator_id)]
        i = group.index(tier)
        j = max(0, min(len(group) - 1, i + offset))
        if i == j:
            return
        group.insert(j, group.pop(i))
        if self.ws.push(ReorderTiers([t.id for t in group])):
            row = next(r for r in range(self.table.rowCount())
                       if self.table.item(r, 0).data(ID_ROLE) == tier.id)
            self.table.setCurrentCell(row, 0)
