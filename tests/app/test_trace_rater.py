"""The continuous rater keeps recording when the rated participant changes mid-pass (Rating dock's box)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _rated_samples(db, participant: str) -> int:
    rows = db("SELECT b.data FROM series s JOIN series_blocks b ON b.series_id = s.id JOIN participants p "
              "ON p.id = s.participant_id WHERE s.kind = 'trace' AND s.name = 'valence' AND p.code = ?", participant)
    return int(sum(np.count_nonzero(~np.isnan(np.frombuffer(data, "<f4"))) for (data,) in rows))


def test_switching_the_rated_participant_while_recording_goes_on_rating_the_new_one(drive, db, qtbot):
    from dyadlab.app.errors import reporter

    panel = drive.window.docks["Rating"].widget()
    rater = drive.bench.rater
    drive.key(Qt.Key.Key_R)
    drive.key(Qt.Key.Key_Space)
    qtbot.wait(300)
    panel.who.setCurrentIndex(panel.who.findText("Rate participant B"))  # the user picks B in the box
    assert rater.recording and {d.tier.participant_id for d in rater.dims} == {panel.who.currentData()}
    qtbot.wait(400)
    drive.key(Qt.Key.Key_Space)
    drive.key(Qt.Key.Key_R)
    assert _rated_samples(db, "A") > 3 and _rated_samples(db, "B") > 3
    assert not any("Unexpected" in line for line in reporter.history)
