"""The live bridge runs the worker in its own process by default, on a thread when told to
(``DYADLAB_LIVE_PROCESS=0``) or when no process can start, and either way its messages reach the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from dyadlab.app.live.live_bridge import PROCESS_ENV, LiveBridge
from dyadlab.core.inference.live import LiveInferenceWorker
from dyadlab.core.inference.live_process import ProcessLiveWorker


def _failed_on_gui_thread(qtbot, bridge: LiveBridge, start) -> str:
    """Start the bridge on a project that cannot be opened; the failure it reports, checked to arrive on the
    GUI thread."""
    got: list[tuple[str, bool]] = []
    bridge.connect_failed(lambda _mid, message: got.append((message, threading.current_thread()
                                                             is threading.main_thread())))
    start()
    qtbot.waitUntil(lambda: bool(got), timeout=60_000)
    bridge.stop()
    message, on_gui_thread = got[0]
    assert on_gui_thread
    return message


def test_the_worker_runs_in_its_own_process_and_its_failure_reaches_the_gui_thread(qtbot, tmp_path: Path,
                                                                                   monkeypatch) -> None:
    monkeypatch.delenv(PROCESS_ENV, raising=False)
    bridge = LiveBridge()
    project = SimpleNamespace(root=tmp_path / "not a project")

    def start() -> None:
        bridge.start(project, 1, [1])
        assert isinstance(bridge.worker, ProcessLiveWorker) and bridge.worker.pid is not None

    assert "live inference stopped" in _failed_on_gui_thread(qtbot, bridge, start)
    assert bridge.worker is None


@pytest.mark.parametrize("why", ["switched off", "no process"])
def test_the_worker_runs_on_a_thread_when_switched_off_or_no_process_starts(qtbot, tmp_path: Path, monkeypatch,
                                                                            why: str) -> None:
    if why == "switched off":
        monkeypatch.setenv(PROCESS_ENV, "0")
    else:
        monkeypatch.delenv(PROCESS_ENV, raising=False)

        def refuse(self) -> None:
            raise OSError("Resource temporarily unavailable")

        monkeypatch.setattr(ProcessLiveWorker, "start", refuse)
    bridge = LiveBridge()
    project = SimpleNamespace(root=tmp_path, store=None)  # no store: the worker thread fails and says so

    def start() -> None:
        bridge.start(project, 1, [1])
        assert type(bridge.worker) is LiveInferenceWorker

    assert "live inference stopped" in _failed_on_gui_thread(qtbot, bridge, start)
