"""Edit ▸ Coding schemes and tiers, driven as a user would: a new categorical scheme with keys and a continuous
scale are defined in the dialog, tiers added with them, and their keys then label on the timeline and move the
rating; a key the window already uses is refused naming that action; renaming or merging a class (of a shipped
scheme: a project copy) relabels the segments and is one undo step."""

from __future__ import annotations

import json

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QSlider

from dyadlab.app.docks.palette_dock import PalettePanel
from tests.app.modal_driver import answer_next_modal

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def open_dialog(drive, qtbot):
    drive.window.shortcuts.trigger("edit.schemes")  # Edit ▸ Coding schemes and tiers…
    dialog = drive.window.scheme_dialog
    qtbot.waitExposed(dialog)
    focus(qtbot, dialog)
    return dialog


def focus(qtbot, dialog) -> None:
    """Make the dialog the active window, so typing goes to its focused field (as after a click on it)."""
    def active() -> bool:
        if not dialog.isActiveWindow():
            dialog.activateWindow()
        return dialog.isActiveWindow()

    qtbot.waitUntil(active, timeout=5000)


def type_into(qtbot, line: QLineEdit, text: str) -> None:
    focus(qtbot, line.window())
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.wait(10)  # a table's cell editor commits on the next turn of the event loop


def type_cell(qtbot, table, row: int, col: int, text: str) -> None:
    """Double-click-edit a cell as a user does: open its editor, type, Enter."""
    focus(qtbot, table.window())
    table.setCurrentCell(row, col)
    table.editItem(table.item(row, col))
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    type_into(qtbot, editor, text)


def press_key(qtbot, field, key) -> None:
    focus(qtbot, field.window())
    field.setFocus()
    qtbot.keyClick(field, key)


def test_define_a_scheme_and_a_scale_add_tiers_and_label_with_their_keys(drive, qtbot, db):
    dialog = open_dialog(drive, qtbot)
    qtbot.mouseClick(dialog.new_categorical, LEFT)
    type_into(qtbot, dialog.name_edit, "engagement")
    for name in ("engaged", "bored"):
        qtbot.mouseClick(dialog.add_class_button, LEFT)
        type_into(qtbot, QApplication.focusWidget(), name)  # the new class's name cell is open for typing
    press_key(qtbot, dialog.classes.cellWidget(0, 1), Qt.Key.Key_5)
    # B splits segments: refused, the field stays empty, and the dialog names the action
    press_key(qtbot, dialog.classes.cellWidget(1, 1), Qt.Key.Key_B)
    assert "is already 'Split segment at the playhead'" in dialog.message.text()
    assert dialog.classes.cellWidget(1, 1).keySequence().isEmpty()
    press_key(qtbot, dialog.classes.cellWidget(1, 1), Qt.Key.Key_6)
    qtbot.mouseClick(dialog.apply_button, LEFT)
    (definition,) = db("SELECT definition FROM label_schemes WHERE name = 'engagement'")[0]
    assert [(c["name"], c["key"]) for c in json.loads(definition)["classes"]] == [("engaged", "5"), ("bored", "6")]

    qtbot.mouseClick(dialog.new_scale, LEFT)
    type_into(qtbot, dialog.name_edit, "warmth")
    for col, text in ((0, "warmth"), (1, "-3"), (2, "3"), (3, "0.5"), (4, "cold"), (5, "warm")):
        type_cell(qtbot, dialog.dimensions, 0, col, text)
    press_key(qtbot, dialog.dimensions.cellWidget(0, 6), Qt.Key.Key_T)
    press_key(qtbot, dialog.dimensions.cellWidget(0, 7), Qt.Key.Key_Y)
    qtbot.mouseClick(dialog.apply_button, LEFT)
    (definition,) = db("SELECT definition FROM label_schemes WHERE name = 'warmth'")[0]
    assert json.loads(definition)["dimensions"] == [{"name": "warmth", "min": -3.0, "max": 3.0, "step": 0.5,
                                                     "labels": ["cold", "warm"], "keys": ["t", "y"]}]

    dialog.tabs.setCurrentIndex(1)
    tiers = dialog.tier_panel
    for scheme in ("engagement", "warmth"):
        tiers.participant.setCurrentIndex(tiers.participant.findText("A"))
        tiers.scheme.setCurrentIndex(tiers.scheme.findText(scheme))
        assert tiers.name_edit.text() == scheme
        qtbot.mouseClick(tiers.add_button, LEFT)
    assert db("SELECT t.kind FROM tiers t JOIN annotators a ON a.id = t.annotator_id "
              "WHERE t.name IN ('engagement', 'warmth') AND a.name = 'alice' ORDER BY t.name") == [
        ("categorical",), ("dimensional",)]

    def mine_of_a() -> list[str]:
        a = drive.ws.data.participants[0].id
        return [t.name for t in drive.ws.visible_tiers() if t.participant_id == a and t.annotator_id == drive.ws.annotator.id]

    assert mine_of_a() == ["emotion", "arousal", "dominance", "valence", "engagement", "warmth"]
    row = next(r for r in range(tiers.table.rowCount()) if tiers.table.item(r, 0).text() == "A"
               and tiers.table.item(r, 1).text() == "engagement")
    tiers.table.setCurrentCell(row, 1)
    qtbot.mouseClick(tiers.up, LEFT)  # above valence, on the timeline too
    assert mine_of_a() == ["emotion", "arousal", "dominance", "engagement", "valence", "warmth"]
    dialog.close()

    # the new tier is on the timeline; its keys label and the palette offers its classes
    track = drive.tier_track("A", "engagement")
    drive.show_range(0.0, 6.0)
    drive.drag(track, 1.0, 2.0)
    palette = drive.window.findChild(PalettePanel)
    assert palette.buttons["engaged"].text() == "5  engaged"
    drive.key(Qt.Key.Key_6)
    assert db("SELECT value FROM segments WHERE tier_id = ?", track.tier.id) == [("bored",)]
    drive.key(Qt.Key.Key_5)
    assert db("SELECT value FROM segments WHERE tier_id = ?", track.tier.id) == [("engaged",)]

    # the rating panel rates the new scale, and its up key moves it
    slider = drive.window.findChild(QSlider, "rate-warmth")
    assert slider is not None
    rater = drive.bench.rater
    assert rater.dimension("warmth").value == 0.0
    assert slider.toolTip() == "-3 cold … 3 warm"
    drive.key(Qt.Key.Key_T)
    assert rater.dimension("warmth").value == 0.5  # the scale's step


def test_rename_and_merge_of_a_shipped_scheme_are_one_undo_each(drive, qtbot, db):
    track = drive.tier_track("A", "emotion")
    drive.show_range(0.0, 6.0)
    for t0, key in ((1.0, Qt.Key.Key_2), (3.0, Qt.Key.Key_3)):  # happy, sad
        drive.drag(track, t0, t0 + 1.0)
        drive.key(key)
    tier = track.tier.id
    labels = "SELECT value FROM segments WHERE tier_id = ? ORDER BY start_us"
    assert db(labels, tier) == [("happy",), ("sad",)]

    dialog = open_dialog(drive, qtbot)
    dialog.scheme_list.setCurrentItem(dialog.scheme_list.findItems("emotion-4class  (categorical, shipped)",
                                                                   Qt.MatchFlag.MatchExactly)[0])
    assert dialog.name_edit.text() == "emotion-4class-project"
    assert "shipped template" in dialog.template_note.text()
    type_cell(qtbot, dialog.classes, 1, 0, "joy")  # happy -> joy
    qtbot.mouseClick(dialog.apply_button, LEFT)
    assert db(labels, tier) == [("joy",), ("sad",)]
    assert db("SELECT s.name FROM tiers t JOIN label_schemes s ON s.id = t.scheme_id WHERE t.id = ?", tier) == [
        ("emotion-4class-project",)]
    assert "happy" in db("SELECT definition FROM label_schemes WHERE name = 'emotion-4class'")[0][0]

    # merge sad into joy: the dialog asks which class, the answer relabels on apply
    dialog.classes.setCurrentCell(2, 0)

    def answer(box: QInputDialog) -> None:
        box.setTextValue("joy")
        box.accept()

    answer_next_modal(answer, kind=QInputDialog)
    qtbot.mouseClick(dialog.merge_button, LEFT)
    assert dialog.rev.classes() == ["neutral", "joy", "angry"]
    qtbot.mouseClick(dialog.apply_button, LEFT)
    assert db(labels, tier) == [("joy",), ("joy",)]

    dialog.close()
    palette = drive.window.findChild(PalettePanel)
    drive.ws.set_active_tier(tier)
    assert list(palette.buttons) == ["neutral", "joy", "angry"]
    undo = (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    drive.key(*undo)  # the merge, whole
    assert db(labels, tier) == [("joy",), ("sad",)]
    drive.key(*undo)  # the rename and the copy, whole
    assert db(labels, tier) == [("happy",), ("sad",)]
    assert db("SELECT count(*) FROM label_schemes WHERE name = 'emotion-4class-project'") == [(0,)]
    assert list(palette.buttons) == ["neutral", "happy", "sad", "angry"]
    assert "emotion-4class  (categorical, shipped)" in [dialog.scheme_list.item(i).text()
                                                       for i in range(dialog.scheme_list.count())]


def test_on_a_team_server_an_annotator_sees_the_schemes_read_only(drive, qtbot, monkeypatch):
    monkeypatch.setattr(drive.ws.project.store, "is_server", True)  # the rule table a team server enforces
    dialog = open_dialog(drive, qtbot)
    assert drive.ws.annotator.role == "annotator"
    assert "read-only: 'alice' is 'annotator' and may not" in dialog.template_note.text()
    for control in (dialog.new_categorical, dialog.new_scale, dialog.classes, dialog.add_class_button,
                    dialog.name_edit, dialog.apply_button):
        assert not control.isEnabled()
    assert dialog.tier_panel.add_button.isEnabled()  # own tiers: an annotator may add them
    drive.window.close_project()  # the dialog belongs to the project: it goes with it
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=3000)


def test_attribute_fields_offer_their_values_to_the_participants_panel(drive, qtbot, db):
    dock = drive.window.docks["Participants"]
    dock.show()
    qtbot.waitUntil(lambda: dock.widget().isVisible(), timeout=2000)
    dialog = open_dialog(drive, qtbot)
    qtbot.mouseClick(dialog.new_attributes, LEFT)
    type_into(qtbot, dialog.name_edit, "participant fields")
    qtbot.mouseClick(dialog.add_field_button, LEFT)
    type_cell(qtbot, dialog.fields, 0, 1, "female, male, non-binary")
    qtbot.mouseClick(dialog.apply_button, LEFT)
    assert db("SELECT kind FROM label_schemes WHERE name = 'participant fields'") == [("attributes",)]
    form = next(iter(dock.widget().forms.values()))  # rebuilt when the scheme changed
    offered = [form.gender.itemText(i) for i in range(form.gender.count())]
    assert offered[:3] == ["female", "male", "non-binary"]


def test_a_key_field_left_over_from_the_previous_scheme_does_not_break_the_next(drive, qtbot):
    """Qt's key field re-sends its key when it loses focus; when that happens as another scheme is shown, the
    field belongs to the scheme no longer being edited (a scale's rating key, now a categorical scheme)."""
    from PySide6.QtGui import QKeySequence

    from dyadlab.app.dialogs.scheme_dialog import KeyField

    dialog = open_dialog(drive, qtbot)
    names = [dialog.scheme_list.item(i).text() for i in range(dialog.scheme_list.count())]
    dialog.scheme_list.setCurrentRow(next(i for i, n in enumerate(names) if n.startswith("vad ")))
    stale = next(w for w in dialog.dimensions.findChildren(KeyField))
    dialog.scheme_list.setCurrentRow(next(i for i, n in enumerate(names) if n.startswith("emotion-4class ")))
    assert "classes" in dialog.rev.definition and "dimensions" not in dialog.rev.definition
    before = json.dumps(dialog.rev.definition, sort_keys=True)
    stale.setKeySequence(QKeySequence("Z"))  # the late re-send: nothing to change, and no KeyError
    assert json.dumps(dialog.rev.definition, sort_keys=True) == before
