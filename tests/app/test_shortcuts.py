"""Shortcuts: listed in the help dialog, re-assignable there, remembered in QSettings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QPushButton

from dyadlab.app.shortcuts import SPECS

pytestmark = pytest.mark.gui
S = 1_000_000


def test_help_lists_every_action_and_scheme_keys(drive, qtbot):
    drive.key(Qt.Key.Key_F1)
    dialog = drive.window.findChild(object, "ShortcutsDialog")
    qtbot.waitUntil(dialog.isVisible)
    texts = {}
    for i in range(dialog.tree.topLevelItemCount()):
        group = dialog.tree.topLevelItem(i)
        for j in range(group.childCount()):
            texts[group.child(j).text(0)] = group.child(j).text(1)
    assert {s.text for s in SPECS} <= set(texts)
    assert texts["Split segment at the playhead"] == "B"
    assert texts["happy"] == "2" and texts["valence up / down"] == "Q / A"
    assert not dialog.conflicts.text()
    dialog.close()


def test_reassigning_a_key_in_the_dialog_applies_and_persists(drive, db, qtbot):
    drive.window.show_shortcuts()
    dialog = drive.window.findChild(object, "ShortcutsDialog")
    group = next(dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())
                 if dialog.tree.topLevelItem(i).text(0) == "Editing")
    item = next(group.child(j) for j in range(group.childCount()) if group.child(j).text(0).startswith("Split"))
    dialog.tree.setCurrentItem(item)
    dialog.editor.setKeySequence(QKeySequence("Ctrl+K"))
    assign = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Assign")
    qtbot.mouseClick(assign, Qt.MouseButton.LeftButton)
    dialog.close()
    assert QSettings().value("shortcuts/edit.split") == "Ctrl+K"
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("A", "emotion")
    drive.drag(track, 1.0, 3.0)
    drive.bench.playback.seek(2 * S)
    drive.key(Qt.Key.Key_B)  # no longer split
    assert len(db("SELECT * FROM segments WHERE tier_id = ?", track.tier.id)) == 1
    drive.key(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert len(db("SELECT * FROM segments WHERE tier_id = ?", track.tier.id)) == 2
