"""Waveforms survive every rebuild of the timeline's rows (issue 18, item 3): changing the Tiers box
("+ gold") or prediction tracks appearing replaced both waveforms with "loading audio…" for good.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def waveforms_drawn(timeline) -> bool:
    return bool(timeline.waveforms) and all(w.source is not None and not w.message.textItem.toPlainText()
                                            for w in timeline.waveforms.values())


def test_the_tiers_box_keeps_both_waveforms(drive) -> None:
    timeline = drive.timeline
    drive.qtbot.waitUntil(lambda: waveforms_drawn(timeline), timeout=15000)
    before = dict(timeline.waveforms)
    box = drive.window.compare
    gold = next(i for i in range(box.count()) if "gold" in box.itemText(i))
    box.setCurrentIndex(gold)
    box.activated.emit(gold)  # as a user's pick does
    assert any(t.tier.annotator_id != drive.ws.annotator.id for t in timeline.tier_tracks.values())
    assert all(timeline.waveforms[pid] is not before[pid] for pid in before)  # the rows were rebuilt
    assert waveforms_drawn(timeline)
    assert len(timeline.waveforms) == 2


def test_prediction_tracks_appearing_keep_the_waveforms(drive) -> None:
    timeline = drive.timeline
    drive.qtbot.waitUntil(lambda: waveforms_drawn(timeline), timeout=15000)
    span = timeline.visible_range()
    timeline.rebuild()  # what refresh_predictions does when a model's first rows arrive
    timeline.ruler.vb.setXRange(*span, padding=0.0)
    assert waveforms_drawn(timeline)
