"""The Live panel's status line after its worker (re)starts: no numbers of a worker that is gone.

After a session switch or a change of the ticked models, the panel kept the old worker's "51 fps · latency 1 ms"
for seconds while the new one loaded (U9-6); while a child process loads its models it now says so, then that it
waits for the first result, then the new worker's numbers. The worker here is a stand-in for
``ProcessLiveWorker``'s interface (``starting``, ``submit``, ``stop``, ``disabled``), so the test controls when it
has "loaded"; its results are delivered through the bridge's queued signal, as the worker's reader thread does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from dyadlab.app.docks.live_dock import STARTING, WAITING
from dyadlab.app.live.live_bridge import LiveBridge

pytestmark = pytest.mark.gui


class LoadingWorker:
    """Starts "loading its models" until the test says it has; answers nothing by itself."""

    def __init__(self) -> None:
        self.starting = True
        self.disabled: dict[int, str] = {}
        self.asked: list[int] = []

    def submit(self, t_us: int) -> None:
        self.asked.append(t_us)

    def stop(self, timeout: float | None = None) -> None:
        self.starting = False


@pytest.fixture
def workers(monkeypatch) -> list[LoadingWorker]:
    started: list[LoadingWorker] = []

    def start(bridge: LiveBridge, project, session_id: int, model_ids: list[int]) -> None:
        bridge.stop()
        bridge.worker = LoadingWorker()
        started.append(bridge.worker)

    monkeypatch.setattr(LiveBridge, "start", start)
    return started


def _register(root: Path, *names: str) -> list[int]:
    from dyadlab.core.project import open_project

    with open_project(root) as project, project.store.transaction() as tx:
        return [tx.models.add(name, "1", "raw_audio_cnn").id for name in names]


def _result(fps: float, latency_ms: float):
    from dyadlab.core.inference.live import LiveResult

    return LiveResult(t_us=0, predictions=(), latency_ms=latency_ms, skipped_count=0, skipped_total=0, fps=fps,
                      requested_fps=fps, lagging=False)


def _click_box(qtbot, box) -> None:
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _double_click_session(drive, name: str) -> None:
    tree = drive.window.docks["Project"].widget()
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == name)
    drive.widget_click(tree.viewport(), tree.visualItemRect(item).center(), double=True)


def _live_on(drive, model_id: int):
    qtbot, bench = drive.qtbot, drive.bench
    bench.live.refresh_models()
    drive.window.docks["Live"].raise_()  # the user clicks its tab
    panel = drive.window.docks["Live"].widget()
    qtbot.waitUntil(panel.isVisible, timeout=2000)
    panel.check_model(model_id)
    _click_box(qtbot, panel.live)
    assert bench.live.live
    return panel


def test_while_the_model_process_loads_the_panel_says_so(drive, demo_project_copy: Path,
                                                         workers: list[LoadingWorker]) -> None:
    (model_id,) = _register(demo_project_copy, "cnn-a")
    panel = _live_on(drive, model_id)
    assert len(workers) == 1
    assert panel.status.text() == STARTING  # the child process imports and loads its models
    drive.qtbot.wait(300)
    assert panel.status.text() == STARTING
    workers[-1].starting = False  # it has loaded them
    drive.qtbot.waitUntil(lambda: panel.status.text() == WAITING, timeout=3000)
    drive.bench.live.bridge.result.emit(_result(25, 40))
    drive.qtbot.waitUntil(lambda: panel.status.text() == "25 fps · latency 40 ms", timeout=3000)
    _click_box(drive.qtbot, panel.live)
    assert "Tick" in panel.status.text()


def test_after_a_restart_the_panel_shows_no_numbers_of_the_old_worker(drive, demo_project_copy: Path,
                                                                      workers: list[LoadingWorker]) -> None:
    qtbot, bench = drive.qtbot, drive.bench
    first, second = _register(demo_project_copy, "cnn-a", "cnn-b")
    panel = _live_on(drive, first)
    workers[-1].starting = False
    bench.live.bridge.result.emit(_result(51, 1))
    qtbot.waitUntil(lambda: panel.status.text() == "51 fps · latency 1 ms", timeout=3000)

    # another session: a new worker, and nothing of the old one's numbers until the new one answers
    with drive.ws.project.store.transaction() as tx:
        other = next(s for s in tx.sessions.list() if s.id != drive.ws.session.id)
    _double_click_session(drive, other.name)
    qtbot.waitUntil(lambda: drive.ws.session.id == other.id, timeout=5000)
    assert len(workers) == 2
    assert "fps" not in panel.status.text() and bench.live.last_result is None
    bench.live.bridge.result.emit(_result(51, 1))  # still in flight from the stopped worker: not shown
    qtbot.wait(50)
    assert "fps" not in panel.status.text() and bench.live.last_result is None
    workers[-1].starting = False
    qtbot.waitUntil(lambda: panel.status.text() == WAITING, timeout=3000)
    bench.live.bridge.result.emit(_result(12, 80))
    qtbot.waitUntil(lambda: panel.status.text() == "12 fps · latency 80 ms", timeout=3000)

    # another set of models: the same
    panel.check_model(second)
    assert len(workers) == 3
    assert "fps" not in panel.status.text() and bench.live.last_result is None
    workers[-1].starting = False
    qtbot.waitUntil(lambda: panel.status.text() == WAITING, timeout=3000)
    _click_box(qtbot, panel.live)
    assert not bench.live.live and "Tick" in panel.status.text()
