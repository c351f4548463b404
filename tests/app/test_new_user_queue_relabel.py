"""Accepting the queue's proposal and then relabelling it with a palette key is a correction, and the segment
says so: the Label palette showed "alice (accepted)" on a segment whose label the annotator had just changed
away from the model's, and the stored provenance kept how = accepted (found by the new-user walkthrough).
Relabelling back to the model's label makes it an acceptance again; undo restores what was there."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from dyadlab.app.docks.palette_dock import PalettePanel

from .test_queue_panel import queue_of

pytestmark = pytest.mark.gui
S = 1_000_000
CTRL = Qt.KeyboardModifier.ControlModifier
MINE = ("SELECT s.value, s.provenance FROM segments s JOIN annotators a ON a.id = s.annotator_id "
        "WHERE a.name = 'alice' AND s.start_us = ?")


def _stored(db) -> tuple[str, dict]:
    (value, provenance), = db(MINE, 6 * S)
    return value, json.loads(provenance)


def test_a_palette_key_after_accepting_makes_the_segment_a_correction(drive, db, qtbot):
    a = next(p for p in drive.ws.data.participants if p.code == "A")
    panel = drive.window.docks["Queue"].widget()
    panel.show_items(queue_of(drive, a.id))  # first entry: 6–7 s, the model proposes sad
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Return)  # jump
    drive.key(Qt.Key.Key_Return, CTRL)  # accept
    value, provenance = _stored(db)
    assert value == "sad" and provenance["how"] == "accepted"
    palette = drive.window.findChild(PalettePanel)

    drive.key(Qt.Key.Key_2)  # relabel: happy
    value, provenance = _stored(db)
    assert value == "happy" and provenance["how"] == "corrected" and provenance["model_value"] == "sad"
    assert "alice (corrected)" in palette.selection.text()

    drive.key(Qt.Key.Key_3)  # back to the model's label
    value, provenance = _stored(db)
    assert value == "sad" and provenance["how"] == "accepted"

    drive.key(Qt.Key.Key_Z, CTRL)
    drive.key(Qt.Key.Key_Z, CTRL)  # both relabels undone: the acceptance as it was
    value, provenance = _stored(db)
    assert value == "sad" and provenance["how"] == "accepted" and "model_value" not in provenance
