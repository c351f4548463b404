"""Playing a session: the clock drives the playhead and every view shows the frame it says."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui
S = 1_000_000


def view_pixels(view) -> np.ndarray:
    image = view.image.convertToFormat(view.image.Format.Format_RGB888)
    ptr = image.constBits()
    return np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]


def test_views_are_titled_by_participant(drive):
    titles = [v.title for v in drive.bench.grid.views]
    assert titles == ["A · right", "B · left"]
    assert all(v.error is None for v in drive.bench.grid.views)


def test_play_moves_playhead_and_views_follow_the_clock(drive, qtbot):
    drive.wait_frames()
    playback = drive.bench.playback
    drive.key(Qt.Key.Key_Space)
    assert playback.playing
    qtbot.wait(700)
    drive.key(Qt.Key.Key_Space)
    assert not playback.playing
    t = playback.now_us
    assert 0.4 * S < t < 2.5 * S
    for track in drive.timeline.tracks:
        assert track.playhead.value() == pytest.approx(t / S)
    drive.wait_frames()
    for view in drive.bench.grid.views:
        frame = drive.bench.media.frame_for(view.view.id, t)
        assert view.shown_frame == frame
        decoder = drive.bench.media.decoder(view.view.id)
        shown = view_pixels(view)
        expected = decoder.get_frame(frame, max_size=(view.image.width(), view.image.height()))
        assert shown.shape == expected.reshape(shown.shape).shape
        assert np.array_equal(shown, expected.reshape(shown.shape))
        other = decoder.get_frame(max(0, frame - 12), max_size=(view.image.width(), view.image.height()))
        assert not np.array_equal(shown, other.reshape(shown.shape))


def test_frame_steps_are_exact_in_the_focused_view(drive):
    playback, media = drive.bench.playback, drive.bench.media
    focused = drive.bench.grid.focused.view
    for _ in range(3):
        drive.key(Qt.Key.Key_Right)
    assert media.frame_for(focused.id, playback.now_us) == 3
    drive.key(Qt.Key.Key_Left)
    assert media.frame_for(focused.id, playback.now_us) == 2
    drive.key(Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert media.frame_for(focused.id, playback.now_us) == 12
    drive.wait_frames()
    assert drive.bench.grid.focused.shown_frame == 12
    assert "frame 12/299" in drive.window.transport.time_label.text()


def test_click_on_timeline_seeks(drive):
    drive.show_range(0.0, 12.0)
    drive.click(drive.timeline.ruler, 6.0)
    t = drive.bench.playback.now_us
    assert abs(t - 6 * S) < 0.1 * S
    assert t == drive.bench.playback.snap(t)  # lands on a frame start of the focused view
    drive.click(drive.timeline.waveforms[drive.ws.data.participants[0].id], 2.5)
    assert abs(drive.bench.playback.now_us - 2.5 * S) < 0.1 * S
    drive.wait_frames()


def test_wheel_zooms_and_drag_pans_all_tracks(drive, qtbot):
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("A", "emotion")
    pos = drive.point(track, 6.0)
    event = QWheelEvent(pos, track.plot.viewport().mapToGlobal(pos), QPointF(0, 0).toPoint(),
                        QPointF(0, 240).toPoint(), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(track.plot.viewport(), event)
    qtbot.wait(20)
    x0, x1 = drive.timeline.visible_range()
    assert x1 - x0 < 10.0 and x0 < 6.0 < x1
    wave = drive.timeline.waveforms[drive.ws.data.participants[0].id]
    drive.drag(wave, 6.0, 5.0)
    y0, y1 = drive.timeline.visible_range()
    assert y0 == pytest.approx(x0 + 1.0, abs=0.05)
    for other in drive.timeline.tracks:
        assert other.vb.viewRange()[0] == pytest.approx([y0, y1], abs=1e-6)


def test_speed_segment_jumps_and_loop(drive, qtbot):
    pb, ws = drive.bench.playback, drive.ws
    drive.key(Qt.Key.Key_BracketRight)
    assert pb.clock.speed == 2.0
    drive.key(Qt.Key.Key_BracketLeft)
    drive.key(Qt.Key.Key_BracketLeft)
    assert pb.clock.speed == 0.5
    drive.key(Qt.Key.Key_Backslash)
    assert pb.clock.speed == 1.0
    ws.show_annotator(next(a.id for a in ws.data.annotators.values() if a.name == "gold"))
    gold = drive.tier_track("A", "emotion", annotator="gold").tier
    ws.set_active_tier(gold.id)
    first, second = ws.segments(gold.id)[:2]
    drive.key(Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert pb.now_us == second.start_us and ws.selected == second
    drive.key(Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert pb.now_us == first.start_us
    ws.select(second)
    drive.key(Qt.Key.Key_L)
    assert pb.clock.loop == (second.start_us, second.end_us)
    assert drive.window.shortcuts.actions["play.loop"].isChecked()
    pb.seek(second.end_us - 100_000)
    drive.key(Qt.Key.Key_Space)
    qtbot.wait(400)
    drive.key(Qt.Key.Key_Space)
    assert second.start_us <= pb.now_us < second.start_us + 600_000  # wrapped to the loop start
    drive.key(Qt.Key.Key_L)
    assert pb.clock.loop is None


def test_focus_layout_and_view_cycling(drive):
    grid = drive.bench.grid
    first, second = grid.views
    drive.key(Qt.Key.Key_V)
    assert grid.focused is second and "cam_B" in drive.window.transport.time_label.text()
    drive.key(Qt.Key.Key_F)
    assert grid.mode == "focus" and second.width() > 2 * first.width()
    drive.key(Qt.Key.Key_F)
    assert grid.mode == "grid"


def test_two_cameras_on_one_participant_show_in_the_grid_and_the_focus_layout_picks_either(qtbot, open_window,
                                                                                             tmp_path):
    from dyadlab.core.media.synthetic_scene import Recorder, write_scene
    from dyadlab.core.project_setup import import_creating_project
    from tests.app.conftest import Driver

    media = tmp_path / "media" / "pair01"
    write_scene(media, [Recorder("mix", 0.0, 4.0), Recorder("A", 0.2, 3.0, fps=25),
                        Recorder("B", 0.4, 3.0, fps=25)], seed=5)
    (media / "A.mp4").rename(media / "A.close.mp4")  # A filmed twice: a close-up and a profile
    write_scene(tmp_path / "profile", [Recorder("A", 0.2, 3.0, fps=25)], seed=6)
    (tmp_path / "profile" / "A.mp4").rename(media / "A.mp4")
    import_creating_project("folder", tmp_path / "p", media)
    drive = Driver(qtbot, open_window(tmp_path / "p"))
    grid = drive.bench.grid
    drive.wait_frames()
    assert sorted(v.view.name for v in grid.views) == ["A", "A.close", "B"]
    close = next(v for v in grid.views if v.view.name == "A.close")
    owners = {v.view.name: v.view.participant_id for v in grid.views}
    assert owners["A"] == owners["A.close"] != owners["B"]
    assert all(v.isVisible() and v.width() > 100 for v in grid.views)  # the grid shows all three
    drive.key(Qt.Key.Key_F)
    assert grid.mode == "focus"
    drive.widget_click(close, close.rect().center())  # the close-up thumbnail: it becomes the big one
    qtbot.waitUntil(lambda: grid.focused is close)
    others = [v for v in grid.views if v is not close]
    qtbot.waitUntil(lambda: all(close.width() > 2 * v.width() for v in others))  # laid out at the next event
