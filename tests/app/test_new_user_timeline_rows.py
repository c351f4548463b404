"""A timeline row that comes into view because the timeline grew (its split dragged up, the window made taller, a dock closed) shows
the ruler's range, not the one it had when it went off screen: the Predictions row at the bottom drew its
playhead seconds away from every other row's after a zoom (found by the new-user walkthrough)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_row_uncovered_by_a_taller_timeline_follows_the_zoom(drive, qtbot):
    bench, timeline = drive.bench, drive.timeline
    last = timeline.tracks[-1]  # the Predictions row
    total = sum(bench.sizes())
    bench.setSizes([total - 200, 200])  # the timeline's split dragged down: the bottom rows go off screen
    qtbot.waitUntil(lambda: last.y() > timeline.scroll.viewport().height(), timeout=5000)
    timeline.scroll.verticalScrollBar().setValue(0)
    qtbot.wait(300)  # the rows' own resizes settle (a resize catches a row up)
    drive.show_range(4.0, 12.0)
    # dragged up until the bottom row is half on screen (the scroll bar stays: no row changes its width)
    grow = int(last.y() + last.height() // 2 - timeline.scroll.viewport().height())
    bench.setSizes([total - 200 - grow, 200 + grow])
    qtbot.waitUntil(lambda: last.y() < timeline.scroll.viewport().height(), timeout=5000)
    assert timeline.scroll.verticalScrollBar().maximum() > 0
    qtbot.wait(50)
    shown = last.vb.state["viewRange"][0]  # what the row draws (viewRange() would catch up on asking)
    assert shown == pytest.approx(timeline.ruler.vb.state["viewRange"][0], abs=0.2)
