"""The Participants panel: gender offers the values in use (and still takes free text); "Add field" saves
nothing until the new field has a name and a value, and the table keeps its rows in place while edited."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton

pytestmark = pytest.mark.gui


def _forms(drive):
    dock = drive.window.docks["Participants"]
    dock.show()
    dock.raise_()
    panel = dock.widget()
    drive.qtbot.waitUntil(panel.isVisible, timeout=2000)
    by_code = {drive.ws.data.participant(pid).code: form for pid, form in panel.forms.items()}
    return by_code["A"], by_code["B"]


def _stored(db, form) -> tuple[str | None, dict]:
    gender, attributes = db("SELECT gender, attributes FROM participants WHERE id = ?", form.participant_id)[0]
    return gender, json.loads(attributes)


def _editor(form) -> QLineEdit:
    """The cell editor open in the form's table (Qt's item delegate puts a line edit on the viewport)."""
    editors = [w for w in form.fields.viewport().findChildren(QLineEdit) if w.isVisible()]
    assert len(editors) == 1
    return editors[0]


def _edit_cell(qtbot, form, row: int, column: int) -> None:
    """Click the cell and press F2 (the table's edit key), as a keyboard user does."""
    item = form.fields.item(row, column)
    form.fields.scrollToItem(item)
    qtbot.mouseClick(form.fields.viewport(), Qt.MouseButton.LeftButton, pos=form.fields.visualItemRect(item).center())
    qtbot.keyClick(form.fields, Qt.Key.Key_F2)


def _type_into_editor(qtbot, form, text: str, *, replace: bool = False) -> None:
    """Type into the open cell editor and press Enter, as a user does."""
    editor = _editor(form)
    if replace:
        editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(10)


def _keys(form) -> list[str]:
    return [form.fields.item(r, 0).text() for r in range(form.fields.rowCount())]


def test_gender_offers_the_values_in_use_and_takes_free_text(drive, db, qtbot) -> None:
    a, b = _forms(drive)
    combo = a.gender
    assert [combo.itemText(i) for i in range(combo.count())] == ["F", "M"]  # the demo's values, both in use
    first = combo.currentText()
    other = "M" if first == "F" else "F"
    combo.showPopup()  # pick the other offered value from the drop-down list
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=2000)
    rect = view.visualRect(view.model().index(combo.findText(other), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert _stored(db, a)[0] == other

    line = combo.lineEdit()  # free entry still works
    line.selectAll()
    qtbot.keyClicks(line, "nonbinary")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert _stored(db, a)[0] == "nonbinary"
    assert "nonbinary" in [b.gender.itemText(i) for i in range(b.gender.count())]  # offered to the others too
    assert [combo.itemText(i) for i in range(combo.count())].count("nonbinary") == 1


def test_add_field_saves_nothing_empty_and_rows_stay_in_place(drive, db, qtbot) -> None:
    a, _b = _forms(drive)
    before = _stored(db, a)[1]
    assert _keys(a) == sorted(before)  # render_geometry, voice
    add = next(button for button in a.findChildren(QPushButton) if button.text() == "Add field")
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert _stored(db, a)[1] == before  # an empty row is not a field
    _type_into_editor(qtbot, a, "age_group")  # the new row's name is being edited at once
    assert _stored(db, a)[1] == before  # a name without a value: not saved yet
    assert _keys(a) == [*sorted(before), "age_group"]

    _edit_cell(qtbot, a, 2, 1)
    _type_into_editor(qtbot, a, "20-30")
    assert _stored(db, a)[1] == {**before, "age_group": "20-30"}
    assert _keys(a) == [*sorted(before), "age_group"]  # saved, and still where the user typed it

    _edit_cell(qtbot, a, 2, 0)  # rename it: the row does not jump either
    _type_into_editor(qtbot, a, "agegroup", replace=True)
    assert _stored(db, a)[1] == {**before, "agegroup": "20-30"}
    assert _keys(a)[2] == "agegroup"

    drive.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo: the table shows the stored fields again
    drive.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _stored(db, a)[1] == before and _keys(a) == sorted(before)
