"""Live inference in a child process (``ProcessLiveWorker``) answers as the in-thread worker does, for both
participants, at a lower priority than the window, disables only a model that breaks, and stops cleanly;
the in-thread worker can run niced too (``nice=``)."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pytest

from dyadlab.core.inference.live import LiveInferenceWorker, LiveResult
from dyadlab.core.inference.live_process import PROCESS_NICE, ProcessLiveWorker
from dyadlab.core.inference.predictions import ensure_predictions
from dyadlab.core.inference.runner import FramePrediction

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice per thread is Linux's")


def test_the_process_worker_predicts_both_participants_as_the_cache_says_and_stops(project, ids, audio_model):
    results: list[LiveResult] = []
    errors: list[tuple[int | None, str]] = []
    sid = ids["demo02"]
    times = [1_000_000, 3_500_000, 7_900_000, 9_000_000]  # the last one is after the views end
    worker = ProcessLiveWorker(project, sid, [audio_model], on_result=results.append,
                               on_error=lambda m, e: errors.append((m, e)))
    with worker:
        assert worker.starting or worker.started_s is not None
        worker.submit(500_000)  # asked while the child starts: answered once it has loaded the model
        assert worker.wait_idle(120)
        assert [r.t_us for r in results] == [500_000]
        results.clear()
        child = worker._process.pid
        if sys.platform.startswith("linux"):  # the child runs below the window's priority
            assert os.getpriority(os.PRIO_PROCESS, child) == min(os.getpriority(os.PRIO_PROCESS, 0) + PROCESS_NICE, 19)
        for t in times:
            worker.submit(t)
            assert worker.wait_idle(60)
        assert worker.stats["completed"] == len(times) + 1
        assert worker.runtimes[audio_model]  # reported by the child ("torch (exporting to ONNX)", then ONNX)
    # the worker's reaper thread waits for the child too: two threads in waitpid on one child race (the loser sees
    # ECHILD, i.e. "still running", until the winner records the exit code), so poll the exit code, not join()
    deadline = time.monotonic() + 20
    while worker._process.exitcode is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker._process.exitcode == 0 and not worker.alive  # it ended when asked, not terminated
    assert errors == [] and [r.t_us for r in results] == times
    from dyadlab.core.inference.inputs import InputProvider

    with InputProvider(project) as provider:
        for r in results[:3]:
            assert {p.participant_id for p in r.predictions} == {ids["demo02/A"], ids["demo02/B"]}
            for p in r.predictions:
                frame = provider.timeline(sid, p.participant_id).frame_at(r.t_us)
                rows = ensure_predictions(project, audio_model, sid, p.participant_id, [frame])
                assert rows.computed == 0  # the child committed what it predicted
                assert p.frame == frame and np.allclose(p.probs, rows.probs[0])
    assert all(p.probs is None and p.reason for p in results[3].predictions)


@pytest.mark.slow  # ~15-40 s on a loaded 2-core machine (torch imported in the child); the real window's
# test_a_broken_model_is_disabled_alone checks the same through the bridge
def test_a_nan_model_in_the_process_is_disabled_before_its_error_arrives(project, ids, audio_model, nan_checkpoint,
                                                                          register_model):
    nan_model = register_model(nan_checkpoint)
    results: list[LiveResult] = []
    seen: list[tuple[int | None, str, bool]] = []
    worker: ProcessLiveWorker

    def on_error(model_id: int | None, message: str) -> None:  # the bridge asks ``worker.disabled`` here
        seen.append((model_id, message, model_id in worker.disabled))

    worker = ProcessLiveWorker(project, ids["demo01"], [nan_model, audio_model], on_result=results.append,
                               on_error=on_error, use_cache=False, runtime="torch")
    with worker:
        for t in (200_000, 400_000):
            worker.submit(t)
            assert worker.wait_idle(120)
    assert len(seen) == 1 and seen[0][0] == nan_model and "non-finite" in seen[0][1] and seen[0][2]
    assert all(p.valid for r in results for p in r.predictions if p.model_id == audio_model)


def test_a_process_worker_on_a_project_it_cannot_open_reports_why(tmp_path):
    class Nowhere:
        root = tmp_path / "gone"

    errors: list[tuple[int | None, str]] = []
    done = threading.Event()
    worker = ProcessLiveWorker(Nowhere(), 1, [1], on_result=lambda r: None,
                               on_error=lambda m, e: (errors.append((m, e)), done.set()))
    with worker:
        assert done.wait(60)
    assert errors and errors[0][0] is None and "live inference stopped" in errors[0][1]


class PriorityProbe:
    """A model double that notes the nice value of the thread that runs it."""

    model_id, classes, label = 2000, ("a", "b"), "priority probe"

    def __init__(self) -> None:
        self.nice: list[int] = []

    def predict(self, session_id: int, participant_id: int, frames: np.ndarray) -> FramePrediction:
        self.nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return FramePrediction(np.full((len(frames), 2), 0.5, np.float32), np.ones(len(frames), bool))


@linux_only
def test_a_niced_worker_thread_runs_below_the_submitters_priority_and_still_answers(project, ids):
    probe = PriorityProbe()
    results: list[LiveResult] = []
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with LiveInferenceWorker(project, ids["demo01"], [probe], on_result=results.append, use_cache=False,
                             nice=5) as worker:
        worker.submit(200_000)
        assert worker.wait_idle(60)
    assert len(results) == 1 and all(p.valid for p in results[0].predictions)
    assert probe.nice and all(n == min(own + 5, 19) for n in probe.nice)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own  # the caller's thread is untouched
