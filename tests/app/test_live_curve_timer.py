"""The live curves' redraw timer stops with its window.

Found running test_live_gui.py then test_player.py: a redraw timer of a closed window fired during the next
test's setup and read a project whose folder was gone ("unable to open database file").
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


def test_closing_the_window_stops_a_pending_live_curve_redraw(window, qtbot):
    timeline = window.bench.timeline
    participant = window.ws.data.participants[0].id
    row = SimpleNamespace(model_id=1, participant_id=participant, frame=3, probs=np.full(4, 0.25))
    timeline.show_live_result(SimpleNamespace(predictions=[row]))
    feed = timeline.live_curves
    assert feed.timer.isActive() and feed.pending  # a redraw is due in 200 ms
    window.close()
    assert not feed.timer.isActive() and not feed.pending
    qtbot.wait(300)  # past the redraw time: nothing fires, nothing reads the closed project
    assert feed.redraws == 0
