"""Closing Edit ▸ Coding schemes and tiers (Close, Escape, or showing another scheme) with edits not yet
applied asks Save / Discard / Cancel, as any editor does; before, the edits were thrown away without a word."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from tests.app.modal_driver import answer_next_modal
from tests.app.test_scheme_dialog import open_dialog, type_cell

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton
SHIPPED = "emotion-4class  (categorical, shipped)"


def _answer(choice: QMessageBox.StandardButton, asked: list[str]):
    """Answer the unsaved-changes question by clicking ``choice`` (recording what it asked)."""
    def respond(box: QMessageBox) -> None:
        asked.append(f"{box.text()} {box.informativeText()}")
        box.button(choice).click()

    return answer_next_modal(respond, kind=QMessageBox)


def _project_copy(db) -> list[str]:
    rows = db("SELECT definition FROM label_schemes WHERE name = 'emotion-4class-project'")
    return [c["name"] for c in json.loads(rows[0][0])["classes"]] if rows else []


def test_close_with_unsaved_edits_asks_save_discard_or_cancel(drive, qtbot, db):
    dialog = open_dialog(drive, qtbot)
    dialog.scheme_list.setCurrentItem(dialog.scheme_list.findItems(SHIPPED, Qt.MatchFlag.MatchExactly)[0])
    type_cell(qtbot, dialog.classes, 1, 0, "joy")  # happy -> joy, not applied
    close = dialog.buttons.button(QDialogButtonBox.StandardButton.Close)
    asked: list[str] = []

    _answer(QMessageBox.StandardButton.Cancel, asked)
    qtbot.mouseClick(close, LEFT)
    assert asked == ["'emotion-4class-project' has changes that are not saved. Save them before closing?"]
    assert dialog.isVisible() and dialog.rev.classes() == ["neutral", "joy", "sad", "angry"]  # kept, still open

    _answer(QMessageBox.StandardButton.Discard, asked)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Escape closes too, and asks too
    assert len(asked) == 2
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert _project_copy(db) == []  # nothing written
    dialog = open_dialog(drive, qtbot)
    assert dialog.rev.classes() == ["neutral", "happy", "sad", "angry"]  # shown as stored again
    assert not dialog.unsaved()

    type_cell(qtbot, dialog.classes, 1, 0, "joy")
    _answer(QMessageBox.StandardButton.Save, asked)
    qtbot.mouseClick(close, LEFT)
    assert len(asked) == 3
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert _project_copy(db) == ["neutral", "joy", "sad", "angry"]  # saved, as Apply would have

    dialog = open_dialog(drive, qtbot)  # nothing unsaved now: Close just closes
    qtbot.mouseClick(close, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert len(asked) == 3


def test_showing_another_scheme_asks_and_cancel_stays_on_the_edits(drive, qtbot, db):
    dialog = open_dialog(drive, qtbot)
    dialog.scheme_list.setCurrentItem(dialog.scheme_list.findItems(SHIPPED, Qt.MatchFlag.MatchExactly)[0])
    type_cell(qtbot, dialog.classes, 1, 0, "joy")
    shipped_row = dialog.scheme_list.currentRow()
    other = next(i for i in range(dialog.scheme_list.count()) if i != shipped_row
                 and dialog.scheme_list.item(i).text().startswith("vad "))
    asked: list[str] = []
    _answer(QMessageBox.StandardButton.Cancel, asked)
    dialog.scheme_list.setCurrentRow(other)  # as a click on another scheme in the list
    assert len(asked) == 1 and "before showing 'vad" in asked[0]
    assert dialog.scheme_list.currentRow() == shipped_row and dialog.rev.classes()[1] == "joy"

    _answer(QMessageBox.StandardButton.Discard, asked)
    qtbot.mouseClick(dialog.new_categorical, LEFT)  # the shipped scheme's edits: discarded
    assert len(asked) == 2 and "before starting a new scheme" in asked[1]
    qtbot.mouseClick(dialog.new_categorical, LEFT)  # a new scheme nobody touched is nothing to save
    assert dialog.rev.kind == "categorical" and dialog.rev.classes() == []
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Close), LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert len(asked) == 2 and _project_copy(db) == []
