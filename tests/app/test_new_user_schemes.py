"""A new annotator's afternoon with Edit ▸ Coding schemes and tiers (issue 20), through the real widgets:
the dialog left open while switching sessions, then used to add a tier in the session now shown."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from dyadlab.app.errors import reporter
from tests.app.modal_driver import accept_annotator
from tests.app.test_scheme_dialog import open_dialog, press_key
from tests.app.test_session_switch import double_click_session

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def test_the_tiers_tab_follows_a_session_switch_and_adds_the_tier_there(drive, qtbot, db):
    dialog = open_dialog(drive, qtbot)
    dialog.tabs.setCurrentIndex(1)
    first = drive.ws.session.id
    other = next(s for s in drive.window._session_ids() if s != first)
    double_click_session(drive, other)  # the dialog stays open (it is not modal)
    tiers = dialog.tier_panel
    shown = {tiers.table.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) for r in range(tiers.table.rowCount())}
    assert shown == {t.id for t in drive.ws.data.tiers if t.kind in ("categorical", "dimensional")}
    tiers.participant.setCurrentIndex(tiers.participant.findText("A"))
    tiers.scheme.setCurrentIndex(tiers.scheme.findText("emotion-4class"))
    tiers.name_edit.setText("emotion 2")
    qtbot.mouseClick(tiers.add_button, LEFT)
    assert reporter.dialog is None, reporter.last
    assert dialog.message.text() == "Added 1 tier."
    assert db("SELECT t.session_id FROM tiers t JOIN participants p ON p.id = t.participant_id "
              "WHERE t.name = 'emotion 2' AND p.code = 'A'") == [(other,)]
    assert "emotion 2" in [t.tier.name for t in drive.timeline.tier_tracks.values()]


def test_another_annotator_gets_the_tiers_in_the_order_they_were_laid_out(drive, qtbot):
    """Alice adds a tier and moves it up; Bob, opening the session later, sees his copies in her order (the
    demo's gold tiers, never reordered, all at position 0, gave the order before)."""
    dialog = open_dialog(drive, qtbot)
    dialog.tabs.setCurrentIndex(1)
    tiers = dialog.tier_panel
    tiers.participant.setCurrentIndex(tiers.participant.findText("A"))
    tiers.scheme.setCurrentIndex(tiers.scheme.findText("emotion-4class"))
    tiers.name_edit.setText("mood")
    qtbot.mouseClick(tiers.add_button, LEFT)
    tiers.table.setCurrentCell(next(r for r in range(tiers.table.rowCount()) if tiers.table.item(r, 1).text() == "mood"), 1)
    for _ in range(3):
        qtbot.mouseClick(tiers.up, LEFT)
    dialog.close()

    def mine_of_a() -> list[str]:
        a = next(p.id for p in drive.ws.data.participants if p.code == "A")
        return [t.tier.name for t in drive.timeline.tier_tracks.values()
                if t.tier.participant_id == a and t.tier.annotator_id == drive.ws.annotator.id]

    laid_out = mine_of_a()
    assert laid_out == ["emotion", "mood", "arousal", "dominance", "valence"]
    accept_annotator("bob")
    drive.key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)  # switch
    qtbot.waitUntil(lambda: drive.ws is not None and drive.ws.annotator.name == "bob", timeout=5000)
    assert mine_of_a() == laid_out


def test_a_rating_key_already_taken_is_refused_as_the_first_of_the_pair_is_pressed(drive, qtbot):
    """The up key of a new scale is pressed first: Q (vad's valence up) or 1 (a score digit of the scale itself)
    were taken without a word, because only a complete pair was checked; pressing the down key then was refused
    naming the up key."""
    dialog = open_dialog(drive, qtbot)
    qtbot.mouseClick(dialog.new_scale, LEFT)
    up = dialog.dimensions.cellWidget(0, 6)
    press_key(qtbot, up, Qt.Key.Key_Q)
    assert "key Q of 'new scheme up' (while rating with new scheme) is already 'valence up' (while rating with vad)" \
        in dialog.message.text()
    assert up.keySequence().isEmpty()
    press_key(qtbot, up, Qt.Key.Key_1)
    assert "key 1 is given twice in this scheme: 'score 1'" in dialog.message.text()
    assert up.keySequence().isEmpty()
    press_key(qtbot, up, Qt.Key.Key_T)
    press_key(qtbot, dialog.dimensions.cellWidget(0, 7), Qt.Key.Key_Y)
    assert dialog.message.text() == ""
    assert dialog.rev.definition["dimensions"][0]["keys"] == ["t", "y"]


def test_adding_a_tier_keeps_the_choices_for_the_next_one(drive, qtbot, db):
    """After Add tier the form went back to 'every participant' and the first scheme: a second click (to add
    the next tier of A) added tiers named after another scheme for everyone."""
    dialog = open_dialog(drive, qtbot)
    dialog.tabs.setCurrentIndex(1)
    tiers = dialog.tier_panel
    tiers.participant.setCurrentIndex(tiers.participant.findText("A"))
    tiers.scheme.setCurrentIndex(tiers.scheme.findText("emotion-4class"))
    tiers.name_edit.setText("emotion")  # taken: refused, the form stays as it is
    qtbot.mouseClick(tiers.add_button, LEFT)
    assert "exists already" in dialog.message.text()
    tiers.name_edit.setText("mood")
    qtbot.mouseClick(tiers.add_button, LEFT)
    assert dialog.message.text() == "Added 1 tier."
    assert (tiers.participant.currentText(), tiers.scheme.currentText()) == ("A", "emotion-4class")
    tiers.name_edit.setText("gaze")
    qtbot.mouseClick(tiers.add_button, LEFT)
    assert db("SELECT p.code, t.name, s.name FROM tiers t JOIN participants p ON p.id = t.participant_id "
              "JOIN label_schemes s ON s.id = t.scheme_id WHERE t.name IN ('mood', 'gaze') ORDER BY t.id") == [
        ("A", "mood", "emotion-4class"), ("A", "gaze", "emotion-4class")]
