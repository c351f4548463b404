"""Spectrograms on the audio tracks (issue 20, item 4): toggled while playing, computed off the GUI thread,
drawn when ready, and the choice kept across rebuilds of the rows and a reopen of the project."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication

from dyadlab.app import spectrograms
from dyadlab.app.timeline.waveform_track import BOTH, SPECTROGRAM, WAVEFORM
from dyadlab.core.media import spectrogram as core_spectrogram
from dyadlab.core.media.spectrogram import TILE_COLUMNS, TileKey

pytestmark = pytest.mark.gui
S = 1_000_000


@pytest.fixture
def computed_on(monkeypatch) -> list[threading.Thread]:
    """The threads that ran an FFT or coloured a tile (every computation goes through these two)."""
    threads: list[threading.Thread] = []
    mel_power, render = core_spectrogram.mel_power, spectrograms.render

    def recording(original):
        def run(*args, **kwargs):
            threads.append(threading.current_thread())
            return original(*args, **kwargs)
        return run

    monkeypatch.setattr(core_spectrogram, "mel_power", recording(mel_power))
    monkeypatch.setattr(spectrograms, "render", recording(render))
    return threads


def waveforms_drawn(timeline) -> bool:
    return bool(timeline.waveforms) and all(w.source is not None and not w.message.textItem.toPlainText()
                                            for w in timeline.waveforms.values())


def spectrogram_drawn(track) -> bool:
    """Images of ready tiles cover the visible part of the recording, and they show sound (not one colour)."""
    items = list(track.spectrogram.items.values())
    if not items or max(np.ptp(item.image[..., :3]) for item in items) < 50:
        return False
    (x0, x1), _ = track.vb.viewRange()
    rects = sorted((item.mapRectToView(item.boundingRect()) for item in items), key=lambda r: r.left())
    covered = all(a.right() == pytest.approx(b.left()) for a, b in zip(rects, rects[1:], strict=False))
    recording_end = track.source.num_samples / track.source.sample_rate
    return covered and rects[0].left() <= max(0.0, x0) and rects[-1].right() >= min(x1, recording_end) - 0.01


def test_toggled_while_playing_it_comes_from_the_worker_and_survives_a_rebuild(drive, qtbot, computed_on) -> None:
    timeline, playback = drive.timeline, drive.bench.playback
    qtbot.waitUntil(lambda: waveforms_drawn(timeline), timeout=15000)
    assert all(t.display == WAVEFORM and not t.spectrogram.items for t in timeline.waveforms.values())
    toggle = drive.window.findChild(QAction, "view.spectrogram")
    view_menu = toggle.parent()
    drive.key(Qt.Key.Key_Space)
    assert playback.playing
    qtbot.wait(300)
    started = playback.now_us
    toggle.trigger()  # View ▸ Spectrograms on audio tracks, while playing
    assert all(t.display == BOTH for t in timeline.waveforms.values())
    qtbot.waitUntil(lambda: all(spectrogram_drawn(t) for t in timeline.waveforms.values()), timeout=15000)
    assert playback.playing and playback.now_us > started
    drive.key(Qt.Key.Key_Space)
    main = threading.main_thread()
    assert computed_on and all(thread is not main for thread in computed_on)  # the GUI thread only blits
    assert all(t.height() > t.HEIGHT for t in timeline.waveforms.values())  # room for both

    computed = len(computed_on)
    span = timeline.visible_range()
    timeline.rebuild()  # e.g. the Tiers box changed, or prediction tracks appeared
    timeline.ruler.vb.setXRange(*span, padding=0.0)
    qtbot.wait(50)
    assert all(t.display == BOTH for t in timeline.waveforms.values())
    assert waveforms_drawn(timeline)  # the waveform kept its pyramid, beside the spectrogram
    assert all(spectrogram_drawn(t) for t in timeline.waveforms.values())  # from the memory cache …
    assert len(computed_on) == computed  # … with nothing computed again
    view_menu.aboutToShow.emit()
    assert toggle.isChecked()
    toggle.trigger()
    assert all(t.display == WAVEFORM and not t.spectrogram.items for t in timeline.waveforms.values())


def test_each_track_chooses_from_its_menu_and_a_reopen_remembers(drive, qtbot, open_window,
                                                                 demo_project_copy) -> None:
    timeline = drive.timeline
    qtbot.waitUntil(lambda: waveforms_drawn(timeline), timeout=15000)
    a, b = (timeline.waveforms[p.id] for p in drive.ws.data.participants)
    viewport = b.plot.viewport()
    pos = QPoint(viewport.width() // 2, viewport.height() // 2)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                       viewport.mapToGlobal(pos)))  # a right click on B's audio
    assert b.menu is not None and b.menu.isVisible()
    choices = {action.data(): action for action in b.menu.actions()}
    assert set(choices) == {WAVEFORM, SPECTROGRAM, BOTH} and choices[WAVEFORM].isChecked()
    choices[SPECTROGRAM].trigger()
    b.menu.close()
    assert (a.display, b.display) == (WAVEFORM, SPECTROGRAM)
    assert not b.curve.isVisible() and a.curve.isVisible()
    qtbot.waitUntil(lambda: spectrogram_drawn(b), timeout=15000)
    assert not a.spectrogram.items

    cache = drive.ws.project.cache_dir / spectrograms.CACHE_DIR
    drive.window.close()  # the project closes; a new window opens it again
    again = open_window(demo_project_copy)
    shown = again.bench.timeline
    a2, b2 = (shown.waveforms[p.id] for p in again.ws.data.participants)
    assert (a2.display, b2.display) == (WAVEFORM, SPECTROGRAM)
    assert len(list(cache.glob("*.mel.npz"))) == 1  # B's, written by the first window's worker
    qtbot.waitUntil(lambda: spectrogram_drawn(b2), timeout=15000)


def test_the_loader_serves_the_newest_view_within_its_memory_budget(qapp, monkeypatch) -> None:
    samples = np.sin(2 * np.pi * 700 * np.arange(20 * 16_000) / 16_000).astype(np.float32)
    tile_bytes = TILE_COLUMNS * core_spectrogram.N_MELS * 4
    loader = spectrograms.SpectrogramLoader(memory_bytes=3 * tile_bytes)
    loader.open(SimpleNamespace())
    loader._pyramids[1] = core_spectrogram.SpectrogramPyramid.from_samples(samples, 16_000)  # as if built
    monkeypatch.setattr(loader, "_start_worker", lambda: None)  # hold the worker: look at the queue
    assert loader.tiles(1, 0, 2 * S, 1000) == []  # 2 ms per pixel: level 0, tiles of 0.64 s
    assert loader._pending == {1: [TileKey(0, i) for i in range(4)]}
    assert loader.tiles(1, 10 * S, 11 * S, 1000) == []  # the user moved on: only this view's tiles are wanted
    assert loader._pending == {1: [TileKey(0, i) for i in (15, 16, 17)]}
    monkeypatch.undo()
    with loader._lock:
        loader._start_worker()
    loader.wait(10)
    QApplication.processEvents()
    assert [k.index for _, k in loader._tiles] == [15, 16, 17]
    assert len(loader.tiles(1, 10 * S, 11 * S, 1000)) == 3  # ready now, nothing queued
    assert loader._pending == {}
    assert loader.tiles(1, 0, S // 2, 1000) == []
    loader.wait(10)
    QApplication.processEvents()
    assert [k.index for _, k in loader._tiles] == [16, 17, 0]  # the least recently used one made room
    assert loader._tile_bytes == 3 * tile_bytes
    tile = loader.tiles(1, 0, S // 2, 1000)[0]
    assert tile.rgba.shape == (TILE_COLUMNS, core_spectrogram.N_MELS, 4) and tile.rgba.dtype == np.uint8
    assert (tile.t0_s, tile.t1_s) == (0.0, 0.64)
    loader.close()
    assert loader.tiles(1, 0, S, 1000) is None  # closed: nothing served, nothing queued
