"""Participant attribute panel: role, age, gender, speaker id and free fields of each participant.

Each field commits when editing finishes (Enter or leaving the field) through an undoable
``UpdateParticipant`` edit, like any other annotation; free fields are key/value rows stored in the
participant's ``attributes``. The form re-reads the participant after undo/redo.

Gender offers the values already used in the project (so "F" is not typed as "female" next to it) and
still takes any other text. "Add field" adds an empty row that is saved only once it has a name and a
value, and the table keeps its row order while the user edits it: it is rebuilt (sorted) only when the
stored fields differ from what it shows, as after undo.

On a team server every account may record these attributes, but only admins add, remove or re-code a
participant (``core/store/rules.py``); when the user may not change them (a read-only window, a rule
that says no) the fields are greyed out with the reason as their tooltip (``app.write_access``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app.errors import guarded
from dyadlab.app.workspace import Workspace
from dyadlab.app.write_access import offer, refusal
from dyadlab.core import model
from dyadlab.core.edits import UpdateParticipant
from dyadlab.core.edits.participants import FIELDS
from dyadlab.core.labels.scheme_editing import allowed_values
from dyadlab.core.store.rules import Op

NO_AGE = -1


class ParticipantForm(QGroupBox):
    def __init__(self, ws: Workspace, participant: model.Participant) -> None:
        super().__init__()
        self.ws, self.participant_id = ws, participant.id
        self._loading = False
        self._original: dict[str, Any] = {}  # the stored fields the table was last synced with
        form = QFormLayout(self)
        self.role, self.speaker = QLineEdit(), QLineEdit()
        self.gender = QComboBox(editable=True, objectName="participantGender")
        self.gender.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # the store is the list, not the combo
        self.age = QSpinBox()
        self.age.setRange(NO_AGE, 149)
        self.age.setSpecialValueText("—")
        form.addRow("Role", self.role)
        form.addRow("Age", self.age)
        form.addRow("Gender", self.gender)
        form.addRow("Speaker", self.speaker)
        self.fields = QTableWidget(0, 2)
        self.fields.setHorizontalHeaderLabels(["Field", "Value"])
        self.fields.horizontalHeader().setStretchLastSection(True)
        self.fields.verticalHeader().hide()
        self.fields.setMaximumHeight(110)
        form.addRow(self.fields)
        buttons = QHBoxLayout()
        add, remove = QPushButton("Add field", objectName="addField"), QPushButton("Remove field")
        buttons.addWidget(add)
        buttons.addWidget(remove)
        form.addRow(buttons)
        for line, name in ((self.role, "role"), (self.gender.lineEdit(), "gender"), (self.speaker, "speaker")):
            line.editingFinished.connect(lambda n=name, w=line: self._commit(n, w.text().strip() or None))
        self.gender.activated.connect(lambda _i: self._commit("gender", self.gender.currentText().strip() or None))
        self.age.editingFinished.connect(lambda: self._commit("age", None if self.age.value() == NO_AGE else self.age.value()))
        self.fields.itemChanged.connect(lambda _item: self._commit("attributes", self._table_attributes()))
        add.clicked.connect(self._add_field)
        remove.clicked.connect(self._remove_field)
        self.refusal = refusal(ws, "participants", Op.UPDATE, columns=FIELDS)
        offer((self.role, self.age, self.gender, self.speaker, self.fields, add, remove), self.refusal)
        self.load(participant)

    def load(self, p: model.Participant) -> None:
        self._loading = True
        self.setTitle(f"Participant {p.code}" + (f" ({p.role})" if p.role else ""))
        self.role.setText(p.role or "")
        self.age.setValue(NO_AGE if p.age is None else p.age)
        self.offer_genders(p.gender)
        self.speaker.setText(p.speaker or "")
        if self.fields.rowCount() == 0 or self._table_attributes() != p.attributes:
            self.fields.setRowCount(0)  # changed elsewhere (undo, another form): show the stored fields, sorted
            for key, value in sorted(p.attributes.items()):
                row = self.fields.rowCount()
                self.fields.insertRow(row)
                self.fields.setItem(row, 0, QTableWidgetItem(str(key)))
                self.fields.setItem(row, 1, QTableWidgetItem(str(value)))
        self._original = dict(p.attributes)
        self._loading = False

    def offer_genders(self, current: str | None) -> None:
        """Fill the gender list with the values the project's attribute fields allow (Edit ▸ Coding schemes),
        then the others in use in the project, most used first; show ``current``."""
        with self.ws.project.store.transaction() as tx:
            values = [q.gender for q in tx.participants.list() if q.gender]
        counts = {v: values.count(v) for v in dict.fromkeys(values)}
        allowed = allowed_values(self.ws.schemes.values(), "gender") or []
        self.gender.clear()
        self.gender.addItems(allowed + [v for v in sorted(counts, key=lambda v: (-counts[v], v.casefold()))
                                        if v not in allowed])
        index = self.gender.findText(current or "")
        self.gender.setCurrentIndex(index)  # -1 for a value not offered (none): then the text alone
        if index < 0:
            self.gender.setEditText(current or "")

    def _table_attributes(self) -> dict[str, Any]:
        """The fields the table shows, as they are stored: a row without a name is not a field, nor is a new row
        (a name not stored yet) without a value."""
        out: dict[str, Any] = {}
        for row in range(self.fields.rowCount()):
            key, value = self.fields.item(row, 0), self.fields.item(row, 1)
            if key is not None and key.text().strip():
                name, text = key.text().strip(), value.text() if value is not None else ""
                original = self._original.get(name)
                if name not in self._original and not text.strip():
                    continue  # being added: saved once it has a value
                # a value shown but not edited keeps its type (numbers stay numbers)
                out[name] = original if original is not None and str(original) == text else text
        return out

    @guarded("Participant")
    def _commit(self, name: str, value: Any) -> None:
        if self._loading or self.ws.data is None:
            return
        current = self.ws.data.participant(self.participant_id)
        if current is None or getattr(current, name) == value:
            return
        self.ws.push(UpdateParticipant(self.participant_id, text=f"Set {name} of {current.code}", **{name: value}))

    def _add_field(self) -> None:
        """An empty row at the end, its name being edited; nothing is saved until it has a name and a value."""
        row = self.fields.rowCount()
        self._loading = True
        self.fields.insertRow(row)
        self.fields.setItem(row, 0, QTableWidgetItem(""))
        self.fields.setItem(row, 1, QTableWidgetItem(""))
        self._loading = False
        self.fields.setCurrentCell(row, 0)
        self.fields.editItem(self.fields.item(row, 0))

    def _remove_field(self) -> None:
        row = self.fields.currentRow()
        if row >= 0:
            self.fields.removeRow(row)
            self._commit("attributes", self._table_attributes())


class ParticipantPanel(QScrollArea):
    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws
        self.forms: dict[int, ParticipantForm] = {}
        self.setWidgetResizable(True)
        ws.session_opened.connect(self.rebuild)
        ws.participant_changed.connect(self._changed)
        ws.schemes_changed.connect(self.rebuild)  # attribute fields may offer other values now
        self.rebuild()

    def rebuild(self) -> None:
        body = QWidget()
        column = QVBoxLayout(body)
        self.forms = {}
        for p in self.ws.data.participants if self.ws.data else []:
            self.forms[p.id] = ParticipantForm(self.ws, p)
            column.addWidget(self.forms[p.id])
        column.addStretch(1)
        self.setWidget(body)

    def _changed(self, participant_id: int) -> None:
        form = self.forms.get(participant_id)
        p = self.ws.data.participant(participant_id) if self.ws.data else None
        if form is not None and p is not None:
            form.load(p)
            for other_id, other in self.forms.items():  # a new gender value is offered to the others too
                q = self.ws.data.participant(other_id) if other is not form else None
                if q is not None:
                    other.offer_genders(q.gender)
