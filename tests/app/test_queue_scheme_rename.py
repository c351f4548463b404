"""After a class of the tier's scheme is renamed (happy → joy, as Edit ▸ Coding schemes does it), the "Next to
label" panel offers the tier's classes, says the model's "happy" is not one of them, and refuses to accept it
up front with that reason; a class button labels the stretch "joy". It kept a "happy" button and Accept failed
on save with "'happy' is not a class of tier 'emotion'" (U9-8)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from dyadlab.core.edits.schemes import ChangeScheme
from dyadlab.core.labels import scheme_editing as se

from .test_queue_panel import MINE, S, queue_of

pytestmark = pytest.mark.gui
CTRL = Qt.KeyboardModifier.ControlModifier


def _buttons(panel) -> list[str]:
    """The class buttons the panel shows now (the replaced ones are only scheduled for deletion)."""
    return [panel.labels.itemAt(i).widget().text() for i in range(panel.labels.count())]


def test_after_renaming_a_class_the_panel_offers_the_tiers_classes_and_refuses_the_old_one(drive, db, qtbot):
    a = next(p for p in drive.ws.data.participants if p.code == "A")
    panel = drive.window.docks["Queue"].widget()
    panel.show_items(queue_of(drive, a.id))  # the second entry, 2–3 s, proposes happy
    panel.jump(1)
    assert "Proposed: happy" in panel.choice.text() and "happy" in _buttons(panel)

    tier = drive.tier_track("A", "emotion").tier
    scheme = drive.ws.scheme(tier)
    assert drive.ws.push(ChangeScheme(scheme.id, se.rename_class(se.start(scheme), "happy", "joy")))
    assert "joy" in drive.ws.scheme(drive.tier_track("A", "emotion").tier).classes  # the project copy

    assert _buttons(panel) == ["neutral", "joy", "sad", "angry"]
    assert "not a class of this tier" in panel.choice.text()
    assert "happy (not a class of this tier)" in panel.list.item(1).text()

    drive.key(Qt.Key.Key_Return, CTRL)  # accept: refused with the reason, nothing written
    assert db(MINE, a.id) == []
    assert "Cannot accept: 'happy' is not a class of tier 'emotion'" in panel.status.text()
    assert "joy" in panel.status.text()

    qtbot.mouseClick(panel.findChild(type(panel.run), "QueueLabel_joy"), Qt.MouseButton.LeftButton)
    assert db(MINE, a.id) == [("joy", 2 * S, 3 * S)]
