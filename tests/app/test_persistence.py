"""Everything done in one window is there when the project is opened again (autosave = commit)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui
S = 1_000_000


def test_reopen_finds_segments_traces_keypoints_attributes_and_layout(open_window, demo_project_copy, driver_for):
    from dyadlab.app.commands import segment_actions as seg
    from dyadlab.core.edits import UpdateParticipant

    first = open_window(demo_project_copy)
    ws, bench = first.ws, first.bench
    emotion = next(t for t in ws.visible_tiers() if t.name == "emotion" and ws.can_edit(t))
    assert seg.create_segment(ws, emotion, 2 * S, 3 * S, value="sad")
    participant = ws.data.participants[1]
    assert ws.push(UpdateParticipant(participant.id, gender="nb", attributes={"site": "lab 2"}))
    bench.rater.set_recording(True)
    for i in range(30):
        bench.rater.on_time(i * 40_000, True)
    bench.rater.set_recording(False)
    view = bench.grid.focused
    assert bench.keypoints.move_point(view.view, 3, 320.0, 200.0)
    driver_for(first).key(Qt.Key.Key_F)  # focus + thumbnails layout, remembered per project
    assert bench.grid.mode == "focus"
    first.close()

    again = open_window(demo_project_copy)
    ws2, bench2 = again.ws, again.bench
    assert ws2.session.id == ws.session.id
    assert [(s.start_us, s.end_us, s.value) for s in ws2.segments(emotion.id)] == [(2 * S, 3 * S, "sad")]
    assert again.bench.timeline.tier_tracks[emotion.id].items.segments[0].value == "sad"
    form = again.docks["Participants"].widget().forms[participant.id]
    assert form.gender.currentText() == "nb" and form.fields.item(0, 1).text() == "lab 2"
    valence = next(t for t in ws2.visible_tiers() if t.name == "valence" and t.participant_id == ws.data.participants[0].id
                   and ws2.can_edit(t))
    assert bench2.timeline.overlays[valence.id].point_count == 30
    assert bench2.grid.mode == "focus"
    frame, xyv = bench2.keypoints.points(bench2.grid.focused.view)
    assert frame == 0 and xyv[3, :2] == pytest.approx(np.array([320.0, 200.0]))
