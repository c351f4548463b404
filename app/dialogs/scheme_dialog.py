"""Edit ▸ Coding schemes and tiers: the project's categorical schemes (classes, keys, colours), continuous
scales (range, step, what the ends mean, rating keys), attribute fields (e.g. gender and its values), and the
tiers each participant and annotator labels.

The dialog holds no rules: each change of a table goes through ``core.labels.scheme_editing`` (which refuses a
class twice, a key twice, a rename onto an existing class) and Apply pushes one ``core.edits.schemes`` edit
through ``Workspace.push``, so a whole editing round (renames and merges included, with the segments they
relabel) is one undo step. A key typed into a class's key field is refused at once when another binding of the
window already answers to it, naming that action. A shipped scheme is a read-only template: its edits are
saved as a project copy (named in the Name field) that the project's tiers then use. On a team server only
admins may change schemes (``roles.can(actor, "label_schemes")``); the others see them read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dyadlab.app import theme
from dyadlab.app.dialogs.tier_panel import TierPanel, button
from dyadlab.app.errors import guarded, reporter
from dyadlab.app.shortcuts import Shortcuts, key_name
from dyadlab.app.workspace import Workspace
from dyadlab.app.write_access import offer, refusal
from dyadlab.core import model
from dyadlab.core.edits.schemes import (
    ChangeScheme,
    copy_name,
    in_effect,
)
from dyadlab.core.errors import DyadLabError
from dyadlab.core.keymap import GLOBAL_KIND, Binding
from dyadlab.core.labels import scheme_editing as se
from dyadlab.core.store.roles import why_not
from dyadlab.core.store.rules import Op

if TYPE_CHECKING:
    from dyadlab.app.main_window import MainWindow

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
PAGES = {"categorical": 0, "dimensional": 1, "attributes": 2}
DIM_COLUMNS = ["Dimension", "Min", "Max", "Step", "Low end", "High end", "Up key", "Down key"]
EVERY = -1  # combo data: every participant


class KeyField(QKeySequenceEdit):
    """One key (no sequences), for a class or a rating key; ``chosen(key)`` is told the key pressed."""

    def __init__(self, key: str, chosen: Callable[[KeyField, str], None]) -> None:
        super().__init__(QKeySequence(key) if key else QKeySequence())
        self.setMaximumSequenceLength(1)
        self.setClearButtonEnabled(True)
        self.keySequenceChanged.connect(lambda seq: chosen(self, "" if seq.isEmpty() else key_name(seq)))


class SchemeDialog(QDialog):
    def __init__(self, ws: Workspace, shortcuts: Shortcuts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws, self.shortcuts = ws, shortcuts
        self.setWindowTitle("Coding schemes and tiers")
        self.setObjectName("SchemeDialog")
        self.resize(980, 620)
        self.base: model.LabelScheme | None = None  # the stored scheme being edited (None: a new one)
        self.rev: se.Revision | None = None
        self._fresh: se.Revision | None = None  # a new scheme as "New …" made it (untouched: nothing to save)
        self._filling = False
        # what the team server's rule table allows this account (``app.write_access``): schemes are the admins'
        self.schemes_refused = refusal(ws, "label_schemes", Op.UPDATE) or refusal(ws, "label_schemes", Op.INSERT)
        self.may_edit_schemes = self.schemes_refused is None
        tiers_refused = refusal(ws, "tiers", Op.INSERT) and why_not(ws.annotator, "tiers", Op.INSERT, owner=ws.annotator)
        layout = QVBoxLayout(self)
        self.message = QLabel()
        self.message.setObjectName(theme.ERROR_LABEL)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._schemes_tab(), "Schemes")
        self.tier_panel = TierPanel(ws, self.message.setText, refused=tiers_refused)
        self.tabs.addTab(self.tier_panel, "Tiers")
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Apply
                                        | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(guarded("Apply scheme")(lambda _c=False: self.apply()))
        self.buttons.accepted.connect(guarded("Apply scheme")(self._ok))
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        theme.decorate(self)
        ws.schemes_changed.connect(self._refresh)
        ws.session_opened.connect(self.tier_panel.fill)  # left open across a session switch: that session's tiers
        self._refresh()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Enter finishes typing a name or a cell; it does not press OK (that would apply and close)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)

    # -- layout ----------------------------------------------------------------------------------------

    def _schemes_tab(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        left = QVBoxLayout()
        self.scheme_list = QListWidget()
        self.scheme_list.setMinimumWidth(260)
        self.scheme_list.currentItemChanged.connect(lambda item, _old: self._pick(item))
        left.addWidget(self.scheme_list, 1)
        self.new_categorical = button("New categorical scheme", lambda: self._new("categorical"), left)
        self.new_scale = button("New continuous scale", lambda: self._new("dimensional"), left)
        self.new_attributes = button("New attribute fields", lambda: self._new("attributes"), left)
        offer((self.new_categorical, self.new_scale, self.new_attributes), self.schemes_refused)
        row.addLayout(left, 1)
        right = QVBoxLayout()
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Name:"))
        self.name_edit = QLineEdit()
        self.name_edit.editingFinished.connect(guarded("Scheme name")(self._renamed))
        name_row.addWidget(self.name_edit, 1)
        right.addLayout(name_row)
        self.template_note = QLabel()
        self.template_note.setWordWrap(True)
        right.addWidget(self.template_note)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._classes_page())
        self.pages.addWidget(self._dimensions_page())
        self.pages.addWidget(self._fields_page())
        self.pages.addWidget(QLabel("Keypoint skeletons are edited in their scheme files."))
        right.addWidget(self.pages, 1)
        row.addLayout(right, 3)
        return page

    def _table_page(self, columns: list[str], edited: Callable[[QTableWidgetItem], None],
                    actions: list[tuple[str, Callable[[], object]]], hint: str) -> tuple[QWidget, QTableWidget,
                                                                                     list[QPushButton]]:
        """A page of the editor: a table whose cell edits go to ``edited``, a row of buttons, a hint."""
        page = QWidget()
        box = QVBoxLayout(page)
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(columns)
        table.horizontalHeader().setStretchLastSection(True)
        table.itemChanged.connect(guarded("Scheme")(edited))
        box.addWidget(table, 1)
        row = QHBoxLayout()
        made = [button(text, slot, row) for text, slot in actions]
        box.addLayout(row)
        if hint:
            box.addWidget(QLabel(hint))
        return page, table, made

    def _classes_page(self) -> QWidget:
        page, self.classes, made = self._table_page(
            ["Class", "Key", "Colour"], self._class_renamed,
            [("Add class", self._add_class), ("Remove class…", self._remove_class), ("Merge into…", self._merge_class),
             ("Up", lambda: self._move_class(-1)), ("Down", lambda: self._move_class(1))],
            "A class key labels the selected segment (paused) or codes while held (playing). "
            "Renaming or merging a class relabels its segments when you apply.")
        self.add_class_button, self.remove_class_button, self.merge_button, self.class_up, self.class_down = made
        self.classes.setColumnWidth(0, 200)
        self.classes.setColumnWidth(1, 160)
        return page

    def _dimensions_page(self) -> QWidget:
        page, self.dimensions, made = self._table_page(
            DIM_COLUMNS, self._dimension_edited, [("Add dimension", self._add_dimension)],
            "A tier of a scale is named after the dimension it rates; the rating keys move the continuous trace, "
            "digits score the selected segment.")
        self.dimensions.horizontalHeader().setStretchLastSection(False)
        (self.add_dimension_button,) = made
        return page

    def _fields_page(self) -> QWidget:
        page, self.fields, made = self._table_page(
            ["Field", "Allowed values (comma-separated)"], self._field_edited, [("Add field", self._add_field)],
            "The Participants panel offers a field's allowed values (e.g. gender).")
        (self.add_field_button,) = made
        return page

    # -- the scheme list -----------------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Re-read what the workspace holds (after an apply, an undo or a tier edit elsewhere)."""
        chosen = self.base.id if self.base is not None else None
        self.scheme_list.blockSignals(True)
        self.scheme_list.clear()
        for s in sorted(self.ws.schemes.values(), key=lambda s: s.name):
            item = QListWidgetItem(f"{s.name}  ({s.kind}{', shipped' if se.is_template(s.name) else ''})")
            item.setData(NAME_ROLE, s.id)
            self.scheme_list.addItem(item)
            if s.id == chosen:
                self.scheme_list.setCurrentItem(item)
        self.scheme_list.blockSignals(False)
        if chosen is not None and chosen in self.ws.schemes:
            if not self.dirty():  # a tier added meanwhile must not throw away the classes being edited
                self._load(self.ws.schemes[chosen])
        elif self.base is not None or self.rev is None:
            first = self.scheme_list.item(0)
            self.scheme_list.setCurrentItem(first)
        self.tier_panel.fill()

    def _pick(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        picked = item.data(NAME_ROLE)
        if not self._settle(f"showing '{self.ws.schemes[picked].name}'"):
            self._show_listed(self.base.id if self.base is not None else None)  # stay on the one being edited
            return
        self._show_listed(picked)  # saving rebuilt the list
        self._load(self.ws.schemes[picked])

    def _show_listed(self, scheme_id: int | None) -> None:
        """Mark ``scheme_id`` in the list (none: no row) without loading it."""
        self.scheme_list.blockSignals(True)
        self.scheme_list.setCurrentItem(None)
        for row in range(self.scheme_list.count()):
            if self.scheme_list.item(row).data(NAME_ROLE) == scheme_id:
                self.scheme_list.setCurrentRow(row)
        self.scheme_list.blockSignals(False)

    def _load(self, scheme: model.LabelScheme) -> None:
        self.base = scheme
        rev = se.start(scheme)
        if se.is_template(scheme.name):
            rev = se.Revision(copy_name(set(s.name for s in self.ws.schemes.values()), scheme.name), rev.kind,
                              rev.definition)
        self.rev = rev
        self._fill()

    def _new(self, kind: str) -> None:
        if not self._settle("starting a new scheme"):
            return
        self._show_listed(None)
        self.base = None
        taken = set(s.name for s in self.ws.schemes.values())
        name = next(n for n in ("new scheme", *(f"new scheme {i}" for i in range(2, 999))) if n not in taken)
        self.rev = {"categorical": se.Revision(name, "categorical", {"classes": []}),
                    "dimensional": se.scale(name, 1, 5, step=1.0),
                    "attributes": se.Revision(name, "attributes", {"fields": []})}[kind]
        self._fresh = self.rev
        self._fill()
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    # -- filling the editor from the revision --------------------------------------------------------

    def _editable(self) -> bool:
        return self.may_edit_schemes and self.rev is not None and self.rev.kind in PAGES

    def _fill(self) -> None:
        rev = self.rev
        if rev is None:
            return
        self._filling = True
        try:
            self.name_edit.setText(rev.name)
            self.pages.setCurrentIndex(PAGES.get(rev.kind, 3))
            template = self.base is not None and se.is_template(self.base.name)
            if not self.may_edit_schemes:
                note = f"The schemes are shown read-only: {self.schemes_refused}."
            elif template:
                note = (f"'{self.base.name}' is a shipped template and stays as it is: applying saves your changes "
                        "as the project copy named above, and the project's tiers then use the copy.")
            else:
                note = ""
            self.template_note.setText(note)
            if rev.kind == "categorical":
                self._fill_classes(rev)
            elif rev.kind == "dimensional":
                self._fill_dimensions(rev)
            elif rev.kind == "attributes":
                self._fill_fields(rev)
            editable = self._editable()
            for w in (self.name_edit, self.classes, self.dimensions, self.fields, self.add_class_button,
                      self.remove_class_button, self.merge_button, self.class_up, self.class_down,
                      self.add_dimension_button, self.add_field_button, self.apply_button):
                w.setEnabled(editable)
        finally:
            self._filling = False
        self._show_problems()

    def _fill_classes(self, rev: se.Revision) -> None:
        row_before = self.classes.currentRow()
        self.classes.setRowCount(0)
        for row, c in enumerate(rev.definition.get("classes", [])):
            self.classes.insertRow(row)
            item = QTableWidgetItem(c["name"])
            item.setData(NAME_ROLE, c["name"])
            self.classes.setItem(row, 0, item)
            field = KeyField(str(c.get("key", "")), self._class_key)
            field.setObjectName(f"key-{c['name']}")
            self.classes.setCellWidget(row, 1, field)
            color = QPushButton(c.get("color", ""))
            color.setStyleSheet(f"QPushButton {{ border-left: 14px solid {c.get('color', '#888888')}; }}")
            color.clicked.connect(guarded("Colour")(lambda _c=False, b=color: self._pick_color(b)))
            self.classes.setCellWidget(row, 2, color)
        if 0 <= row_before < self.classes.rowCount():
            self.classes.setCurrentCell(row_before, 0)

    def _fill_dimensions(self, rev: se.Revision) -> None:
        self.dimensions.setRowCount(0)
        for row, d in enumerate(rev.definition.get("dimensions", [])):
            self.dimensions.insertRow(row)
            labels = list(d.get("labels", ["", ""])) + ["", ""]
            cells = [d["name"], f"{d['min']:g}", f"{d['max']:g}", f"{d['step']:g}" if "step" in d else "",
                     labels[0], labels[1]]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(NAME_ROLE, d["name"])
                self.dimensions.setItem(row, col, item)
            keys = list(d.get("keys", ["", ""])) + ["", ""]
            for col, which in ((6, 0), (7, 1)):
                field = KeyField(keys[which], lambda f, key, w=which: self._rating_key(f, w, key))
                field.setObjectName(f"key-{d['name']}-{'up' if which == 0 else 'down'}")
                self.dimensions.setCellWidget(row, col, field)

    def _fill_fields(self, rev: se.Revision) -> None:
        self.fields.setRowCount(0)
        for row, f in enumerate(rev.definition.get("fields", [])):
            self.fields.insertRow(row)
            for col, text in enumerate((f["name"], ", ".join(f.get("values", [])))):
                item = QTableWidgetItem(text)
                item.setData(NAME_ROLE, f["name"])
                self.fields.setItem(row, col, item)

    # -- changes ---------------------------------------------------------------------------------------

    def _others(self) -> list[Binding]:
        """The bindings in effect that this scheme's keys must not take (its own, and its template's, aside)."""
        skip = {s.name for s in (self.rev, self.base) if s is not None}
        return [b for b in self.shortcuts.keymap.bindings if b.context.scheme is None or b.context.scheme not in skip]

    def _change(self, make: Callable[[se.Revision], se.Revision], *, in_place: bool = False) -> bool:
        """Apply one change to the working revision; a refusal is shown and the tables put back.

        ``in_place``: the change came from a cell of a table (its own signal is running), so the table is not
        rebuilt now; the caller updates that row, and a refusal rebuilds it once the signal has returned."""
        assert self.rev is not None
        try:
            self.rev = make(self.rev)
        except DyadLabError as exc:
            if in_place:
                QTimer.singleShot(0, lambda problem=exc.problem: (self._fill(), self._show_problems(problem)))
            else:
                self._fill()
            self._show_problems(exc.problem)
            return False
        if in_place:
            self._show_problems()
        else:
            self._fill()
        return True

    @staticmethod
    def _row_of(table: QTableWidget, widget: QWidget, col: int) -> int:
        return next(r for r in range(table.rowCount()) if table.cellWidget(r, col) is widget)

    def _set_row_name(self, table: QTableWidget, row: int, name: str) -> None:
        self._filling = True
        try:
            for col in range(table.columnCount()):
                item = table.item(row, col)
                if item is not None:
                    item.setData(NAME_ROLE, name)
        finally:
            self._filling = False

    def _show_problems(self, extra: str = "") -> None:
        found = se.problems(self.rev, self._others()) if self.rev is not None and self._editable() else []
        self.message.setText("\n".join(([extra] if extra else []) + found))

    def _renamed(self) -> None:
        if not self._filling and self.rev is not None and self.name_edit.text().strip() != self.rev.name:
            name = self.name_edit.text().strip()
            self._change(lambda r: se.Revision(name, r.kind, r.definition, r.relabel))

    def _selected_class(self) -> str | None:
        item = self.classes.item(self.classes.currentRow(), 0) if self.classes.currentRow() >= 0 else None
        return item.data(NAME_ROLE) if item is not None else None

    def _class_renamed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        old, new = item.data(NAME_ROLE), item.text().strip()
        if new != old and self._change(lambda r: se.rename_class(r, old, new), in_place=True):
            self._set_row_name(self.classes, item.row(), new)

    def _take_key(self, field: KeyField, old: str, make: Callable[[se.Revision], se.Revision]) -> None:
        """A key pressed in a key field: taken into the revision, or refused (the field shows ``old`` again and
        the message names what holds the key). The table is not rebuilt: the field is the one signalling."""
        if self._filling or self.rev is None:
            return
        try:
            candidate = make(self.rev)
        except DyadLabError as exc:
            refusal = exc.problem
        else:
            before = set(se.problems(self.rev, self._others()))
            new = [m for m in se.problems(candidate, self._others()) if m not in before]
            if not new:
                self.rev = candidate
                self._show_problems()
                return
            refusal = f"Not taken: {new[0]}"
        field.blockSignals(True)
        field.setKeySequence(QKeySequence(old) if old else QKeySequence())
        field.blockSignals(False)
        self.message.setText(refusal)

    def _stale(self, table: QTableWidget, field: KeyField, col: int, part: str) -> bool:
        """A key field re-sends its key when it loses focus, which can be after the scheme it belongs to was
        replaced in the dialog (a scale's rating key while a categorical scheme is shown, its table left on a
        hidden page): ignore a field of a part the shown scheme lacks, or no longer in its table."""
        return self._filling or self.rev is None or part not in self.rev.definition or not any(
            table.cellWidget(r, col) is field for r in range(table.rowCount()))

    def _class_key(self, field: KeyField, key: str) -> None:
        if self._stale(self.classes, field, 1, "classes"):
            return
        name = self.classes.item(self._row_of(self.classes, field, 1), 0).data(NAME_ROLE)
        old = next((str(c.get("key", "")) for c in self.rev.definition["classes"] if c["name"] == name), "")
        self._take_key(field, old, lambda r: se.set_class(r, name, key=key))

    def _rating_key(self, field: KeyField, which: int, key: str) -> None:
        if self._stale(self.dimensions, field, 6 + which, "dimensions"):
            return
        name = self.dimensions.item(self._row_of(self.dimensions, field, 6 + which), 0).data(NAME_ROLE)
        dim = next(d for d in self.rev.definition["dimensions"] if d["name"] == name)
        keys = list(dim.get("keys", ["", ""])) + ["", ""]
        old, keys[which] = keys[which], key.lower() if len(key) == 1 else key
        self._take_key(field, old, lambda r: se.set_dimension(r, name, keys=(keys[0], keys[1])))

    def _pick_color(self, button: QPushButton) -> None:
        name = self.classes.item(self._row_of(self.classes, button, 2), 0).data(NAME_ROLE)
        current = next(c.get("color", "#888888") for c in self.rev.definition["classes"] if c["name"] == name)
        color = QColorDialog.getColor(QColor(current), self, f"Colour of {name}")
        if color.isValid() and self._change(lambda r: se.set_class(r, name, color=color.name()), in_place=True):
            button.setText(color.name())
            button.setStyleSheet(f"QPushButton {{ border-left: 14px solid {color.name()}; }}")

    def _add_class(self) -> None:
        names = set(self.rev.classes())
        name = next(f"class {i}" for i in range(1, 1000) if f"class {i}" not in names)
        if self._change(lambda r: se.add_class(r, name)):
            row = self.classes.rowCount() - 1
            self.classes.setCurrentCell(row, 0)
            self.classes.editItem(self.classes.item(row, 0))

    def _originals(self, name: str) -> list[str]:
        """The stored labels that become class ``name`` (itself, and what was renamed or merged into it)."""
        stored = set(self.base.classes) if self.base is not None else set()
        mine = [] if name in self.rev.relabel or name not in stored else [name]
        return mine + [old for old, new in self.rev.relabel.items() if new == name]

    def _in_use(self, name: str) -> int:
        if self.base is None:
            return 0
        with self.ws.project.store.transaction() as tx:
            tier_ids = [t.id for t in tx.tiers.list() if t.scheme_id == self.base.id]
            counts = tx.segments.count_by_value(tier_ids) if tier_ids else {}
        return sum(counts.get(v, 0) for v in self._originals(name))

    def _ask_target(self, name: str, question: str) -> str | None:
        others = [c for c in self.rev.classes() if c != name]
        if not others:
            self.message.setText(f"'{name}' is the only class: there is nothing to map it to")
            return None
        target, ok = QInputDialog.getItem(self, "Map the class", question, others, 0, False)
        return target if ok else None

    def _remove_class(self) -> None:
        name = self._selected_class()
        if name is None:
            self.message.setText("Select the class to remove first.")
            return
        used = self._in_use(name)
        if not used:
            self._change(lambda r: se.remove_class(r, name))
            return
        target = self._ask_target(name, f"{used} segment{'s' if used != 1 else ''} are labelled '{name}'. "
                                        "Which class do they become?")
        if target is not None:
            self._change(lambda r: se.remove_class(r, name, map_to=target))

    def _merge_class(self) -> None:
        name = self._selected_class()
        if name is None:
            self.message.setText("Select the class to merge into another first.")
            return
        target = self._ask_target(name, f"Merge '{name}' into (its segments become that class):")
        if target is not None:
            self._change(lambda r: se.merge_classes(r, [name], target))

    def _move_class(self, offset: int) -> None:
        name = self._selected_class()
        if name is not None and self._change(lambda r: se.move_class(r, name, offset)):
            self.classes.setCurrentCell(self.rev.classes().index(name), 0)

    def _dimension_edited(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        name, col, text = item.data(NAME_ROLE), item.column(), item.text().strip()
        try:
            number = float(text) if col in (1, 2, 3) and text else None
        except ValueError:
            problem = f"{DIM_COLUMNS[col]} of {name!r} must be a number, not {text!r}"
            QTimer.singleShot(0, lambda: (self._fill(), self._show_problems(problem)))
            return
        row = item.row()
        labels = (self.dimensions.item(row, 4).text().strip(), self.dimensions.item(row, 5).text().strip())
        changed = self._change(lambda r: se.set_dimension(
            r, name, new_name=text if col == 0 else None, low=number if col == 1 else None,
            high=number if col == 2 else None, step=number if col == 3 else None,
            labels=labels if col in (4, 5) else None), in_place=True)
        if changed and col == 0:
            self._set_row_name(self.dimensions, row, text)

    def _add_dimension(self) -> None:
        names = {d["name"] for d in self.rev.definition.get("dimensions", [])}
        name = next(f"dimension {i}" for i in range(1, 1000) if f"dimension {i}" not in names)
        self._change(lambda r: se.set_dimension(r, name, low=1, high=5, step=1))

    def _field_edited(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        old = item.data(NAME_ROLE)
        name = self.fields.item(item.row(), 0).text().strip()
        values = [v.strip() for v in (self.fields.item(item.row(), 1).text()).split(",") if v.strip()]

        def change(r: se.Revision) -> se.Revision:
            fields = [f for f in r.definition["fields"] if f["name"] != old]
            r = se.Revision(r.name, r.kind, {**r.definition, "fields": fields}, r.relabel)
            return se.set_field(r, name, values)

        if self._change(change, in_place=True):
            self._set_row_name(self.fields, item.row(), name)

    def _add_field(self) -> None:
        names = {f["name"] for f in self.rev.definition.get("fields", [])}
        name = "gender" if "gender" not in names else next(f"field {i}" for i in range(1, 999) if f"field {i}" not in names)
        self._change(lambda r: se.set_field(r, name, ["female", "male"] if name == "gender" else ["yes", "no"]))

    # -- apply -------------------------------------------------------------------------------------------

    def dirty(self) -> bool:
        if self.rev is None:
            return False
        if self.base is None:
            return True
        same = self.rev.definition == self.base.definition and not self.rev.relabel
        return not same or (self.rev.name != self.base.name and not se.is_template(self.base.name))

    def apply(self) -> bool:
        """Write the scheme being edited as one undoable step; False (and why, shown) when refused."""
        self._renamed()
        if not self.dirty() or not self._editable():
            return True
        found = se.problems(self.rev, self._others())
        if found:
            self.message.setText("\n".join(found))
            return False
        actions = [b for b in self.shortcuts.keymap.bindings if b.context.kind == GLOBAL_KIND]
        edit = ChangeScheme(self.base.id if self.base else None, self.rev, actions=actions)
        if not self.ws.push(edit):
            self.message.setText(reporter.last or "not saved")
            return False
        self.base, self.rev = edit.written, None
        self._refresh()
        n = len(edit.relabelled)
        relabelled = f"; {n} segment{'s' if n != 1 else ''} relabelled" if n else ""
        self.message.setText(f"Saved '{edit.written.name}'{relabelled}. Edit ▸ Undo takes it back.")
        return True

    def _ok(self) -> None:
        if self.apply():
            self.accept()

    # -- leaving with edits not applied ----------------------------------------------------------------

    def unsaved(self) -> bool:
        """Edits that closing (or showing another scheme) would throw away; a new scheme nobody touched has none."""
        self._renamed()  # a name typed but not yet confirmed with Enter counts
        return self._editable() and self.dirty() and (self.base is not None or self.rev != self._fresh)

    def _settle(self, leaving: str) -> bool:
        """Ask Save / Discard / Cancel, as any editor does, before ``leaving`` throws unsaved edits away.

        True when the dialog may go on: nothing was unsaved, the edits were saved, or the user discarded them
        (the editor then shows the stored scheme again). False: the user cancelled, or saving was refused (the
        reason is shown in the dialog, which stays on the edits)."""
        if not self.unsaved():
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Coding schemes and tiers",
                          f"'{self.rev.name}' has changes that are not saved.", parent=self)
        box.setObjectName("UnsavedSchemeBox")
        box.setInformativeText(f"Save them before {leaving}?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return bool(guarded("Apply scheme")(self.apply)())
        if answer == QMessageBox.StandardButton.Discard:
            self.rev = self._fresh = None
            if self.base is not None:
                self._load(self.base)
            else:
                self._refresh()  # a new scheme thrown away: the list's first scheme is shown
            self.message.setText("")
            return True
        return False

    def reject(self) -> None:
        """Close, Escape or the window's close button: unsaved edits are saved or discarded first, or kept."""
        if self._settle("closing"):
            super().reject()

def open_scheme_dialog(win: MainWindow) -> SchemeDialog | None:
    """Edit ▸ Coding schemes and tiers… (one dialog per window; shown again if open)."""
    if win.ws is None:
        reporter.notice("open a project first")
        return None
    dialog = getattr(win, "scheme_dialog", None)
    if dialog is None or not shiboken6.isValid(dialog) or dialog.ws is not win.ws:
        dialog = SchemeDialog(win.ws, win.shortcuts, win)
        win.bench.destroyed.connect(dialog.deleteLater)  # the project closed: its dialog goes with it
        win.scheme_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog


def follow_scheme_changes(win: MainWindow) -> None:
    """After a scheme or the tier layout changed (or was undone): the keymap takes the new keys, the rating
    panel the new dimensions, the timeline redraws its tiers with the new names and colours."""
    ws, bench = win.ws, win.bench

    def changed() -> None:
        win.shortcuts.set_schemes(in_effect(list(ws.schemes.values())))
        bench.rater.set_participant(bench.rater.participant_id)
        span = bench.timeline.visible_range()
        bench.timeline.rebuild()
        bench.timeline.ruler.vb.setXRange(*span, padding=0.0)

    ws.schemes_changed.connect(changed)
