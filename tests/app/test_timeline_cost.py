"""What keeps opening a project and scrolling the timeline cheap, checked as counts, not times.

Each timeline track is its own pyqtgraph view linked to the ruler, so the work of an open grows with
how often the tracks are resized, and the work of a scroll step with how often (and how much of)
each track is painted. Timings live in ``bench/large_project.py``; these tests pin the mechanisms.
"""

from __future__ import annotations

from collections import Counter

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from dyadlab.app.timeline.segments_item import SegmentsItem, SegmentStyle
from dyadlab.core import model

S = 1_000_000


def _segment(seg_id: int, start_s: float, end_s: float, value: str = "happy") -> model.Segment:
    return model.Segment(seg_id, 1, round(start_s * S), round(end_s * S), value, 1)


def _item(segments: list[model.Segment]) -> SegmentsItem:
    item = SegmentsItem(SegmentStyle({"happy": "#ff0000", "sad": "#0000ff"}), editable=True)
    item.set_segments(segments, 100.0)
    return item


def test_visible_segments_are_found_by_their_times_overlaps_included() -> None:
    # given in no particular order; 2 is long and reaches over 3 and 4
    segs = [_segment(4, 30, 31), _segment(1, 0, 5), _segment(2, 10, 40), _segment(3, 12, 13), _segment(5, 50, 60)]
    item = _item(segs)
    ids = lambda x0, x1: sorted(item.segments[i].id for i in item.visible(x0, x1))  # noqa: E731

    assert [s.id for s in item.segments] == [1, 2, 3, 4, 5]  # sorted by start
    assert ids(0, 100) == [1, 2, 3, 4, 5]
    assert ids(35, 36) == [2]  # only the long one covers it, though 3 and 4 start before
    assert ids(5.5, 9.9) == []
    assert ids(12.5, 30.5) == [2, 3, 4]
    assert ids(60, 70) == [5]  # touching the end counts
    assert _item([]).visible(0, 10) == []


def test_a_paint_draws_only_the_segments_in_the_exposed_strip(qapp) -> None:
    item = _item([_segment(i, 2 * i, 2 * i + 1) for i in range(50)])
    view = pg.ViewBox()
    view.addItem(item)
    view.setRange(xRange=(0, 100), yRange=(0, 1), padding=0)
    drawn = Counter()

    class Counting(QPainter):
        def drawRoundedRect(self, *args) -> None:  # noqa: N802 (Qt override)
            drawn["box"] += 1
            super().drawRoundedRect(*args)

    image = QImage(400, 40, QImage.Format.Format_ARGB32)
    for exposed, expected in ((QRectF(), 50), (QRectF(20.5, 0, 3.0, 1), 2)):  # empty = the whole item
        drawn.clear()
        option = QStyleOptionGraphicsItem()
        option.exposedRect = exposed
        painter = Counting(image)
        item.paint(painter, option)
        painter.end()
        assert drawn["box"] == expected  # segments 10 (20-21 s) and 11 (22-23 s) for the strip


def test_opening_a_project_lays_each_track_out_once(qtbot, open_window, demo_project_copy, monkeypatch) -> None:
    resized = Counter()
    original = pg.ViewBox.resizeEvent

    def counting(self, event) -> None:
        resized[id(self)] += 1
        original(self, event)

    monkeypatch.setattr(pg.ViewBox, "resizeEvent", counting)
    window = open_window(demo_project_copy)
    qtbot.wait(50)  # whatever the event loop still had to lay out
    tracks = window.bench.timeline.tracks[1:]  # the ruler's view sits in a layout: one resize more
    assert len(tracks) > 5
    # created at pyqtgraph's default size, then the final one (the window's ~10 settling passes are not seen)
    assert max(resized[id(t.vb)] for t in tracks) <= 2, [resized[id(t.vb)] for t in tracks]


def test_a_pan_paints_each_visible_tier_once(qtbot, window) -> None:
    timeline = window.bench.timeline
    painted = Counter()
    for tier_id, track in timeline.tier_tracks.items():
        original = track.items.paint

        def counting(p, *args, tier_id=tier_id, original=original) -> None:
            painted[tier_id] += 1
            original(p, *args)

        track.items.paint = counting  # the view calls the Python override per paint
    qtbot.wait(50)
    for step in range(5):
        painted.clear()
        timeline.ruler.vb.setXRange(step * 0.5, step * 0.5 + 4.0, padding=0.0)
        qtbot.wait(20)
        assert painted and max(painted.values()) == 1, dict(painted)


def test_imports_are_warmed_on_a_worker_thread_and_failures_left_to_the_real_import(monkeypatch) -> None:
    import sys
    import threading

    from dyadlab.app import main_window

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    monkeypatch.setattr(main_window, "WARM_MODULES", ("no_such_module_dyadlab", "colorsys"))
    main_window._warm_imports()
    for thread in threading.enumerate():
        if thread.name == "dyadlab-warm-imports":
            thread.join(timeout=10)
    assert "colorsys" in sys.modules  # imported after the one that failed, on the worker


def test_a_pan_moves_only_the_tracks_on_screen_and_the_rest_catch_up(qtbot, window) -> None:
    timeline = window.bench.timeline
    timeline.scroll.setFixedHeight(120)  # room for two or three rows: the others are scrolled out of view
    qtbot.wait(50)
    followers = [t.vb for t in timeline.tracks[1:]]
    moved = Counter()
    for vb in followers:
        original = vb.updateMatrix

        def counting(*args, vb=vb, original=original) -> None:
            moved[id(vb)] += 1
            original(*args)

        vb.updateMatrix = counting
    timeline.ruler.vb.setXRange(3.0, 7.0, padding=0.0)
    on_screen = [vb for vb in followers if moved[id(vb)]]
    assert 0 < len(on_screen) < len(followers) // 2, (len(on_screen), len(followers))
    shown = on_screen[0].state["viewRange"][0]  # from 3 s; ends earlier when a scroll bar narrows the rows
    assert shown[0] == pytest.approx(3.0) and 6.5 < shown[1] <= 7.0
    stale = next(vb for vb in reversed(followers) if not moved[id(vb)])
    assert stale.state["viewRange"][0] != pytest.approx(shown)  # not moved yet ...
    last = timeline.tracks[-1]
    timeline.scroll.ensureWidgetVisible(last)  # ... until scrolled into view
    qtbot.wait(20)
    assert last.vb.state["viewRange"][0] == pytest.approx(shown)
    assert stale.viewRange()[0] == pytest.approx(shown)  # and whoever asks a stale one gets the ruler's range
    for vb in followers:
        assert vb.viewRange()[0] == pytest.approx(shown)


def test_a_track_narrower_than_the_ruler_keeps_time_under_the_same_screen_x(qtbot, window) -> None:
    timeline = window.bench.timeline
    timeline.scroll.setFixedHeight(120)  # the rows get a vertical scroll bar: tracks end left of the ruler
    qtbot.wait(50)
    timeline.ruler.vb.setXRange(2.0, 10.0, padding=0.0)
    track = timeline.tracks[1]
    assert track.plot.width() < timeline.ruler.plot.width()
    for seconds in (2.5, 6.0, 9.0):
        ruler_x = timeline.ruler.plot.mapToGlobal(timeline.ruler.view_to_widget(seconds).toPoint()).x()
        track_x = track.plot.mapToGlobal(track.view_to_widget(seconds).toPoint()).x()
        assert abs(ruler_x - track_x) <= 1


def test_docks_behind_other_tabs_are_built_when_first_shown(qtbot, window) -> None:
    from dyadlab.app.docks.agreement_dock import AgreementPanel
    from dyadlab.app.docks.dock_table import DOCKS
    from dyadlab.app.docks.lazy_dock import LazyDock

    lazy = {key: dock for key, dock in window.docks.items() if isinstance(dock, LazyDock)}
    assert set(lazy) == {spec.key for spec in DOCKS if spec.lazy}
    assert set(lazy) == {"Participants", "Inspector", "Agreement", "Keypoints", "Models", "Assist"}
    assert all(spec.tab for spec in DOCKS if spec.lazy)  # a lazy dock is a tab behind another, never in front
    assert not any(dock.built for dock in lazy.values())  # none of them is the front tab after an open
    assert not window.findChildren(AgreementPanel)
    assert window.findChild(pg.PlotWidget, "jobsCurve") is None  # the Jobs panel's plot waits for a job
    window.docks["Agreement"].raise_()  # the user picks its tab
    qtbot.waitUntil(lambda: lazy["Agreement"].built, timeout=2000)
    panel = lazy["Agreement"].widget()
    assert isinstance(panel, AgreementPanel) and window.findChildren(AgreementPanel) == [panel]
    assert lazy["Agreement"].widget() is panel  # built once
    window.shortcuts.actions["inspect.next"].trigger()  # a key for a panel not yet shown builds it
    assert lazy["Inspector"].built


def test_the_key_coder_watches_only_its_window_not_every_event_of_the_app(qtbot, open_window, demo_project_copy,
                                                                           monkeypatch) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit

    from dyadlab.app.editing.key_coder import KeyCoder

    seen = Counter()
    original = KeyCoder.eventFilter

    def counting(self, obj, event) -> bool:
        seen[type(obj).__name__] += 1
        return original(self, obj, event)

    monkeypatch.setattr(KeyCoder, "eventFilter", counting)
    window = open_window(demo_project_copy)
    qtbot.wait(50)
    # an application-wide filter saw ~15k events of every widget here; the window's native window gets few
    assert set(seen) <= {"QWidgetWindow", "QWindow"} and sum(seen.values()) < 500, seen
    seen.clear()
    field = QLineEdit(window.bench)  # a text field of the window: keys typed there are text, not labels
    field.show()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    before = window.ws.undo_stack.count()
    qtbot.keyClick(window.windowHandle(), Qt.Key.Key_1)
    assert seen and field.text() == "1" and window.ws.undo_stack.count() == before, seen
