"""Segment labels on the timeline: a box too narrow for its label shows it elided, never blank, and hovering
any segment tells its whole label; a drag that runs into a neighbour says in the status bar why it stopped."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QHelpEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QToolTip

from tests.app.conftest import send_mouse

pytestmark = pytest.mark.gui
S = 1_000_000


def _label_pixels(track, t0: float, t1: float) -> int:
    """Pixels of the label's dark ink inside the box of the segment [t0, t1] s, as the viewport shows it: dark
    pixels in the columns where the box's light class colour shows at its top (not the dark track around it)."""
    viewport = track.plot.viewport()
    image = viewport.grab().toImage()
    ratio = image.devicePixelRatio()
    a, b = track.view_to_widget(t0, 0.5), track.view_to_widget(t1, 0.5)
    top = int(viewport.height() * 0.2 * ratio)
    rows = range(int(viewport.height() * 0.3 * ratio), int(viewport.height() * 0.7 * ratio))
    dark = 0
    for x in range(int(a.x() * ratio), int(b.x() * ratio) + 1):
        if QColor(image.pixel(x, top)).lightness() < 100:
            continue  # not inside the box
        dark += sum(QColor(image.pixel(x, y)).lightness() < 60 for y in rows)  # the label's #111111
    return dark


def _zoom(drive, track, px_per_s: float) -> None:
    """Show the tier at ``px_per_s`` from 0 s, whatever width the window gave the timeline."""
    drive.show_range(0.0, track.plot.viewport().width() / px_per_s)


def test_a_short_segment_shows_its_label_elided_and_whole_on_hover(drive, qtbot):
    track = drive.tier_track("A", "emotion")
    _zoom(drive, track, 60.0)
    drive.drag(track, 1.0, 1.6)  # 36 px at this zoom: too narrow for "happy"
    drive.key(Qt.Key.Key_2)
    (seg,) = drive.ws.segments(track.tier.id)
    assert seg.value == "happy"
    width = track.view_to_widget(1.6, 0.5).x() - track.view_to_widget(1.0, 0.5).x()
    assert width < track.items._width("happy") + 8  # the case that used to draw no label at all
    drive.key(Qt.Key.Key_Escape)  # deselect: no selection frame inside the box
    qtbot.wait(30)
    assert _label_pixels(track, 1.0, 1.6) > 10

    # the pointer rests on it: the tooltip names the whole label and the times
    viewport = track.plot.viewport()
    pos = drive.point(track, 1.3)
    send_mouse(viewport, QMouseEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    qtbot.wait(30)
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, pos.toPoint(), viewport.mapToGlobal(pos.toPoint())))
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert QToolTip.text() == "happy  0:01.000–0:01.600"
    # off the segment, no tooltip of it
    off = drive.point(track, 2.5)
    send_mouse(viewport, QMouseEvent.Type.MouseMove, off, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    qtbot.wait(30)
    assert track.items.toolTip() == ""
    QToolTip.hideText()


def test_a_box_too_narrow_even_for_an_ellipsis_stays_plain(drive, qtbot):
    track = drive.tier_track("A", "emotion")
    _zoom(drive, track, 400.0)
    drive.drag(track, 1.0, 1.08)  # two frames
    drive.key(Qt.Key.Key_2)
    drive.key(Qt.Key.Key_Escape)
    assert _label_pixels(track, 1.0, 1.08) > 3  # 32 px wide here: "…" at least
    _zoom(drive, track, 60.0)  # ~5 px wide now
    qtbot.wait(30)
    assert track.view_to_widget(1.08, 0.5).x() - track.view_to_widget(1.0, 0.5).x() < track.items._width("…") + 8
    assert _label_pixels(track, 1.0, 1.08) == 0


def test_a_drag_into_a_neighbour_says_where_it_stopped(drive, db):
    track = drive.tier_track("A", "emotion")
    _zoom(drive, track, min(60.0, track.plot.viewport().width() / 4.5))  # 0-4.5 s in view
    status = drive.window.statusBar()

    def rows() -> list[tuple[int, int]]:
        return db("SELECT start_us, end_us FROM segments WHERE tier_id = ? ORDER BY start_us", track.tier.id)

    drive.drag(track, 2.0, 3.0)
    drive.drag(track, 0.5, 2.6)  # runs into the segment at 2 s: created up to 2 s only
    assert [end for _, end in rows()] == [2 * S, 3 * S]
    assert "0:02.000" in status.currentMessage() and "overlap" in status.currentMessage(), status.currentMessage()
    status.clearMessage()
    drive.drag(track, 3.4, 3.8)  # fits: nothing to say
    assert "overlap" not in status.currentMessage()
    drive.drag(track, 3.6, 2.9)  # moves it left into the one ending at 3 s: it stops there
    assert rows()[-1][0] == 3 * S
    assert "0:03.000" in status.currentMessage() and "previous segment" in status.currentMessage()
