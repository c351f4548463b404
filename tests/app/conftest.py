"""GUI test fixtures: isolated QSettings, a main window on a writable demo project, and a driver
that clicks, drags and types on the real widgets (timeline viewports, video views, the window).

pyqtgraph turns raw mouse events into clicks and drags only when moves are at least 10 ms apart and
several pixels long, so drags here move in small timed steps.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

S = 1_000_000
LEFT = Qt.MouseButton.LeftButton
LEAK_GRACE_S = 2.0  # how long a closed window's threads may take to finish before the test fails
# Pools that live as long as the process by design (not a window's): the JPEG crop decoders of the cache
# (core.features.crop_codec), started by the first test that reads face crops, whichever that is
PROCESS_WIDE_THREADS = ("dyadlab-jpeg",)


def send_mouse(widget: QWidget, kind, pos: QPointF, button, buttons,
               modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


class Driver:
    def __init__(self, qtbot, window) -> None:
        self.qtbot, self.window = qtbot, window

    @property
    def ws(self):
        return self.window.ws

    @property
    def bench(self):
        return self.window.bench

    @property
    def timeline(self):
        return self.bench.timeline

    def tier_track(self, participant: str, name: str, annotator: str = "alice"):
        for track in self.timeline.tier_tracks.values():
            p = self.ws.data.participant(track.tier.participant_id)
            owner = self.ws.data.annotators[track.tier.annotator_id].name
            if p is not None and p.code == participant and track.tier.name == name and owner == annotator:
                return track
        raise LookupError(f"no track {participant}/{name}/{annotator}")

    def show_range(self, t0: float, t1: float) -> None:
        self.timeline.ruler.vb.setXRange(t0, t1, padding=0.0)
        self.qtbot.wait(20)

    def point(self, track, seconds: float) -> QPointF:
        self.timeline.scroll.ensureWidgetVisible(track)
        return track.view_to_widget(seconds, 0.5)

    def click(self, track, seconds: float, button=LEFT) -> None:
        viewport = track.plot.viewport()
        pos = self.point(track, seconds)
        send_mouse(viewport, QMouseEvent.Type.MouseButtonPress, pos, button, button)
        send_mouse(viewport, QMouseEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)
        self.qtbot.wait(10)

    def drag(self, track, t0: float, t1: float, button=LEFT, steps: int = 6) -> None:
        viewport = track.plot.viewport()
        a, b = self.point(track, t0), self.point(track, t1)
        send_mouse(viewport, QMouseEvent.Type.MouseButtonPress, a, button, button)
        for i in range(1, steps + 1):
            self.qtbot.wait(15)
            p = a + (b - a) * (i / steps)
            send_mouse(viewport, QMouseEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button)
        self.qtbot.wait(15)
        send_mouse(viewport, QMouseEvent.Type.MouseButtonRelease, b, button, Qt.MouseButton.NoButton)
        self.qtbot.wait(10)

    def key(self, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        if not self.window.isActiveWindow():  # window shortcuts only fire in the active window
            def active() -> bool:  # asked again on every poll: a dialog opening meanwhile may take it back
                if not self.window.isActiveWindow():
                    self.window.activateWindow()
                return self.window.isActiveWindow()

            self.qtbot.waitUntil(active, timeout=5000)
        self.qtbot.keyClick(self.window.windowHandle(), key, modifiers)  # as typed: through the native window
        self.qtbot.wait(5)

    def widget_click(self, widget: QWidget, pos: QPoint | QPointF, button=LEFT, double: bool = False) -> None:
        pos = QPointF(pos)
        send_mouse(widget, QMouseEvent.Type.MouseButtonPress, pos, button, button)
        send_mouse(widget, QMouseEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)
        if double:
            send_mouse(widget, QMouseEvent.Type.MouseButtonDblClick, pos, button, button)
            send_mouse(widget, QMouseEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)

    def widget_drag(self, widget: QWidget, a: QPointF, b: QPointF, steps: int = 5) -> None:
        send_mouse(widget, QMouseEvent.Type.MouseButtonPress, a, LEFT, LEFT)
        for i in range(1, steps + 1):
            self.qtbot.wait(5)
            send_mouse(widget, QMouseEvent.Type.MouseMove, a + (b - a) * (i / steps), Qt.MouseButton.NoButton, LEFT)
        send_mouse(widget, QMouseEvent.Type.MouseButtonRelease, b, LEFT, Qt.MouseButton.NoButton)
        self.qtbot.wait(5)

    def wait_frames(self, timeout: int = 5000) -> None:
        """Until every working view shows the frame the clock says."""
        player = self.bench.player

        def shown() -> bool:
            return all(v.error or v.shown_frame == player.frame_for(v.view.id) for v in self.bench.grid.views)

        self.qtbot.waitUntil(shown, timeout=timeout)


@pytest.fixture(autouse=True)
def no_timer_or_thread_outlives_the_test(qapp) -> Iterator[None]:
    """Fail a test that leaves a QTimer running or a thread alive once its windows are closed.

    Why: a timer of a closed window fired during the next test's setup and touched a project whose folder
    was gone ("unable to open database file"): timers and threads must stop with their window. Checked
    after the test's own fixtures closed its windows and pytest-qt deleted the widgets it was given.
    """
    threads_before = set(threading.enumerate())
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    deadline = time.monotonic() + LEAK_GRACE_S
    while True:
        timers = [t for t in _live_objects(qapp, QTimer) if t.isActive()]
        threads = sorted(t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()
                         and not t.name.startswith(PROCESS_WIDE_THREADS))
        if not (timers or threads) or time.monotonic() > deadline:
            break
        QApplication.processEvents()
        time.sleep(0.02)
    if timers or threads:
        names = sorted({f"{type(t.parent()).__name__}.{t.objectName() or 'QTimer'} ({t.interval()} ms)"
                        for t in timers})
        for timer in timers:
            timer.stop()  # this test fails; the next one starts clean
        pytest.fail(f"left running after the test: timers {names}, threads {threads}", pytrace=False)


def _live_objects(qapp, kind: type) -> list:
    """Objects of ``kind`` owned by the application or by any widget that still exists."""
    found = list(qapp.findChildren(kind))
    for widget in QApplication.allWidgets():
        found += widget.findChildren(kind)
    return found


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, qapp) -> Iterator[None]:
    """Shortcuts and layouts go to a throwaway INI file, never the user's settings."""
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    qapp.setOrganizationName("DyadLabTests")
    qapp.setApplicationName("DyadLab")
    from dyadlab.app import theme
    from dyadlab.app.errors import reporter

    theme.apply("dark", qapp)
    reporter.history.clear()
    yield
    QSettings().clear()


@pytest.fixture
def open_window(qtbot):
    """A function opening a project in a fresh main window (closed at teardown)."""
    from dyadlab.app.main_window import MainWindow

    windows = []

    def make(root: Path, annotator: str = "alice", **kwargs):
        window = MainWindow()
        qtbot.addWidget(window)
        window.resize(1500, 950)
        window.show()
        qtbot.waitExposed(window)
        window.open_project(root, annotator=annotator, **kwargs)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


@pytest.fixture
def window(open_window, demo_project_copy: Path):
    return open_window(demo_project_copy)


@pytest.fixture
def drive(qtbot, window) -> Driver:
    return Driver(qtbot, window)


@pytest.fixture
def driver_for(qtbot):
    """``driver_for(window)``: a Driver on a window the test opened itself."""
    return lambda window: Driver(qtbot, window)


def read_db(root: Path, sql: str, *params) -> list[tuple]:
    """Read the project database straight from the file, as another program would."""
    con = sqlite3.connect(root / "dyadlab.sqlite")
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.fixture
def db(demo_project_copy: Path):
    """``db(sql, *params)``: rows of the window's project database, read with sqlite3 directly."""
    return lambda sql, *params: read_db(demo_project_copy, sql, *params)


@pytest.fixture(scope="session")
def model_project(analysed_demo, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """(project root, model id): the analysed demo corpus (1 session x 8 s, faces and audio) with a raw-audio
    CNN trained on its gold (6 epochs) registered, built once per run for the GUI tests of live inference and
    of prediction export. Read-only: a module that opens it overrides ``demo_source`` with its root, so each
    test works on a private copy."""
    from ..builders.model_project import train_audio_model

    root = tmp_path_factory.mktemp("model_project") / "project"
    shutil.copytree(analysed_demo[0], root)
    return root, train_audio_model(root, epochs=6)
