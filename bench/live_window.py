"""Live overlay in the real window: the DyadLab main window plays a two-participant session's views while one
model predicts live, and what reaches the screen is measured.

Why this exists next to ``bench/live.py --watch``: that row asks the decoders for frames without any widget.
Here the real ``MainWindow`` (offscreen Qt unless ``QT_QPA_PLATFORM`` says otherwise) opens the demo session
of ``bench/live.py`` (the same models: ``make_models``), the model is ticked in the Live panel and live turned
on with its check box, and the window's own transport plays the session at 1x: clock timer, decoder threads,
video views, timeline, live controller and worker all share the cores as they do for an annotator. The
window is 1600x960 (on a 1920x1080 offscreen screen); every row starts with cold frame caches, and the first
row (``views only``) plays with live off: the reference of the same run for the views' own lateness.

Measured from outside the app (no hook in it):
* every paint of a video view is seen by an event filter, which notes the time, the frame the view shows
  (``VideoView.shown_frame``) and the frame of the live prediction its overlay draws (the controller's last
  ``LiveResult``, the prediction for the view's participant: ``ParticipantPrediction.frame``);
* the clock's times (``Playback.time_changed``) give the session time at each instant (wall clock + offset,
  the median over the run), so the frame due on each view at any instant follows from its frame index;
* a QTimer samples every 10 ms which prediction frame each view's overlay shows against the frame due;
* the worker's results are also counted as it delivers them (a direct connection to ``LiveBridge.result``),
  painted or not: *no result* separates a model that did not keep up from a window that did not paint.

Per view: a frame is *late* when it is not on screen within one display tick (1/60 s) after the clock tick at
which the player asked for it (bench/media.py's rule: not ready at the tick that wants it),
*dropped* when it is never on screen while due (dropped frames are late too); *lag* is due -> on screen and
*tick* the clock tick at which the player asked for the frame -> on screen (the player asks on the clock's
``TICK_MS`` = 15 ms timer, so a frame waits up to one tick before it is even requested). Per participant:
*without prediction* is the share of due frames whose prediction never got painted (a prediction that says
"no face" or "not speaking" counts as shown: the model answered for that frame); *delay* is the due frame
minus the frame of the prediction on screen, sampled at 100 Hz (p50/p95, frames). CPU is this process's CPU
time during playback / wall time (200% = both cores); *worker* the live worker's child process's (the window
runs the worker in a child process unless ``DYADLAB_LIVE_PROCESS=0``: then it is on a thread, inside CPU). Goals (issue 23): late <= 1%, without prediction <= 1%,
overlay delay p95 <= 2 frames. The exit status is 1 when a row misses a goal.

Run: ``python bench/live_window.py [--seconds 10] [--kinds "face CNN 64,fusion"] [--sound] [--thread-too]``
(``--thread-too``: each model once more with its worker on a thread, the same run's reference; defaults: every
model of bench/live.py, about 100 s on 2 cores; ``xvfb-run -a`` with ``QT_QPA_PLATFORM=xcb`` for a real X
window). ``--sound`` plays the audio too, on a private null PulseAudio server (``core.media.sound_server``;
the clock then follows the played position, as on an annotator's machine); without it ``DYADLAB_SOUND=0``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
DISPLAY_TICK_S = 1 / 60  # a frame on screen later than this after the tick that asked for it is late
SAMPLE_MS = 10  # the overlay sampler's period
GRACE_S = 1.0  # after the pause: predictions still in flight may be painted for frames due before it
MARGIN_S = 2.0  # the demo session is this much longer than the playback (no end of media while measuring)
SCREEN = (1920, 1080)  # the offscreen platform's screen (Qt's default, 800x800, would clamp the window)
REFERENCE = "views only"  # the row played with live off: the same run's reference for late frames
GOAL_LATE, GOAL_NO_PREDICTION, GOAL_DELAY = 1.0, 1.0, 2.0  # %, %, frames (p95)


def live_bench() -> ModuleType:
    """bench/live.py as a module: its demo models (``make_models``) are the ones measured here."""
    spec = importlib.util.spec_from_file_location("live_bench", BENCH / "live.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass
class ViewTrace:
    """One video view of the window during one run: what was painted, and when (monotonic seconds)."""

    view_id: int
    participant_id: int | None
    offset_us: int
    index: Any  # FrameIndex
    paints: list[tuple[float, int | None, int | None]] = field(default_factory=list)  # time, frame, predicted
    overlay: int | None = None  # the prediction frame painted last
    delays: list[int] = field(default_factory=list)  # due frame - prediction frame on screen, per sample


def install_recorder(window: Any, traces: dict[int, ViewTrace]) -> Any:
    """An event filter on every video view that notes each paint (kept alive by the returned object)."""
    from PySide6.QtCore import QEvent, QObject

    controller = window.bench.live

    class PaintRecorder(QObject):
        def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 (Qt override)
            if event.type() == QEvent.Type.Paint:
                trace = traces.get(getattr(getattr(obj, "view", None), "id", -1))
                if trace is not None:
                    result = controller.last_result if controller.live else None
                    item = result.prediction(trace.participant_id) if result is not None else None
                    trace.overlay = item.frame if item is not None else None
                    trace.paints.append((time.monotonic(), obj.shown_frame, trace.overlay))
            return False

    recorder = PaintRecorder()
    for view in window.bench.grid.views:
        view.installEventFilter(recorder)
    return recorder


def frame_stats(trace: ViewTrace, w0: float, w1: float, anchor_us: float, answered: set[int | None],
                ticks: np.ndarray) -> dict[str, Any]:
    """Late and dropped frames of one view between ``w0`` and ``w1`` (monotonic s); frames without a painted
    prediction, and without a result of the worker (``answered``: the frames it delivered for the view's
    participant); ``anchor_us``: session time - monotonic time while playing; ``ticks``: when the clock
    ticked (monotonic s, sorted): the player asks for a frame at the first tick after it became due, so
    ``tick_lags_s`` (that tick -> on screen) is the window's own part of the lag."""
    from dyadlab.core.media.sync import frame_session_time, view_frame_at

    def session_us(w: float) -> int:
        return int(w * 1e6 + anchor_us)

    first, last = (view_frame_at(session_us(w), trace.offset_us, trace.index) for w in (w0, w1))
    if first is None or last is None:
        raise SystemExit(f"view {trace.view_id}: the playback left the view's recording (session too short)")
    due = [max(w0, (frame_session_time(trace.index, trace.offset_us, n) - anchor_us) / 1e6)
           for n in range(first, last + 1)] + [w1]
    times = np.array([p[0] for p in trace.paints])
    frames = [p[1] for p in trace.paints]
    late = dropped = 0
    lags, tick_lags = [], []
    for k, n in enumerate(range(first, last + 1)):
        start, end = due[k], due[k + 1]
        before = int(np.searchsorted(times, start, side="right")) - 1  # the paint on screen when due
        on = start if before >= 0 and frames[before] == n else next(
            (times[j] for j in range(before + 1, len(times)) if times[j] < end and frames[j] == n), None)
        asked = None  # the clock tick at which the player asked for frame n (the first one after it became due)
        if on is None:
            dropped += 1
        else:
            lags.append(on - start)
            k_tick = int(np.searchsorted(ticks, start))
            if on > start and k_tick < len(ticks) and ticks[k_tick] <= on:
                asked = ticks[k_tick]
                tick_lags.append(on - asked)
        # late: not on screen one display tick after the player asked for it (bench/media.py's rule: the frame
        # is not ready at the tick that wants it); the clock's own tick phase is in ``lags``, not here
        late += on is None or (asked is not None and on - asked > DISPLAY_TICK_S)
    predicted = {p[2] for p in trace.paints if p[0] >= w0 and p[2] is not None}
    missing = sum(1 for n in range(first, last + 1) if n not in predicted)
    unanswered = sum(1 for n in range(first, last + 1) if n not in answered)
    return {"due": last - first + 1, "late": late, "dropped": dropped, "missing": missing,
            "unanswered": unanswered, "lags_s": lags, "tick_lags_s": tick_lags}


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores, from /proc/stat); NaN where there is none."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    ticks = [int(v) for v in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest time is already in user time


def process_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) of process ``pid`` so far (from /proc); 0 for None or where there is none."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the event loop until ``condition()`` holds; SystemExit naming ``what`` after ``timeout_s``."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"live_window: timed out after {timeout_s:g} s waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.005)


def run_events(seconds: float) -> None:
    """Let the window's event loop run for ``seconds`` (timers, queued frames and results, paints)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def play_one(window: Any, model_id: int | None, seconds: float) -> dict[str, Any]:
    """Tick ``model_id`` alone in the Live panel, turn live on, play ``seconds`` from the start; the figures.
    ``model_id`` None: live stays off (the views alone, the reference of the same run)."""
    from PySide6.QtCore import Qt, QTimer

    from dyadlab.app.errors import reporter
    from dyadlab.core.media.sync import view_frame_at

    bench = window.bench
    controller = bench.live
    window.docks["Live"].raise_()
    panel = window.docks["Live"].widget()
    for record in controller.models:
        panel.check_model(record.id, record.id == model_id)
    assert controller.selected == ([] if model_id is None else [model_id]), controller.selected
    for view in bench.grid.views:  # every row starts cold, as the first play of a session does
        decoder = bench.media.decoder(view.view.id) if view.error is None else None
        if decoder is not None:
            getattr(decoder, "decoder", decoder).cache.clear()  # a CropDecoder wraps its file's decoder
    bench.playback.seek(0)
    if model_id is not None:
        panel.live.setChecked(True)  # as the user's click on "Live inference while playing"
        if not controller.live:
            raise SystemExit("live_window: live inference did not start: " + "; ".join(reporter.history))
        controller.last_result = None

        def ready() -> bool:  # the model loaded (ONNX when it can be) and a first prediction on screen
            worker = controller.bridge.worker
            if controller.last_result is None:
                controller.on_time(bench.playback.now_us)  # as a clock tick does; paused, no tick comes
            return (worker is not None and "exporting" not in worker.runtimes.get(model_id, "exporting")
                    and controller.last_result is not None)

        wait_until(ready, 180, "the live model's first prediction")
    run_events(0.5)  # settle: frames and first results painted, loading threads done
    traces = {v.view.id: ViewTrace(v.view.id, v.view.participant_id, v.view.offset_us,
                                   bench.media.frame_index(v.view.id))
              for v in bench.grid.views if v.error is None and bench.media.frame_index(v.view.id) is not None}
    recorder = install_recorder(window, traces)
    clock: list[tuple[int, float]] = []  # (session µs, monotonic s) at each clock tick

    def tick(t: int) -> None:
        clock.append((t, time.monotonic()))

    def sample() -> None:  # which prediction each overlay shows against the frame due now
        if not clock:
            return
        t, at = clock[-1]
        now_us = int(t + (time.monotonic() - at) * 1e6)  # the clock's time extrapolated from its last tick
        for trace in traces.values():
            due = view_frame_at(now_us, trace.offset_us, trace.index)
            if due is not None and trace.overlay is not None:
                trace.delays.append(due - trace.overlay)

    bench.playback.time_changed.connect(tick)
    delivered: list[tuple[float, int | None, int | None]] = []  # (time, participant, frame) as delivered

    def result(r: Any) -> None:  # on the worker thread: what the model answered, painted or not
        delivered.extend((time.monotonic(), item.participant_id, item.frame) for item in r.predictions)

    controller.bridge.result.connect(result, Qt.ConnectionType.DirectConnection)
    sampler = QTimer()
    sampler.setInterval(SAMPLE_MS)
    sampler.timeout.connect(sample)
    sampler.start()
    child = getattr(controller.bridge.worker, "pid", None)  # the live worker's process, when it has its own
    cpu0, busy0, child0 = time.process_time(), machine_busy_s(), process_cpu_s(child)
    bench.playback.toggle()  # play, as the space bar does
    w0 = time.monotonic()
    run_events(seconds)
    w1 = time.monotonic()
    heard = bench.playback.sound is not None  # the clock followed the sound output's played position
    bench.playback.pause()
    cpu, busy, child_cpu = time.process_time() - cpu0, machine_busy_s() - busy0, process_cpu_s(child) - child0
    worker = controller.bridge.worker
    runtime = worker.runtimes.get(model_id, "?") if worker is not None else "-"
    if worker is not None:
        runtime += ", thread" if child is None else ", process"
    sampler.stop()
    run_events(GRACE_S)  # predictions still in flight for frames due before the pause
    if model_id is not None:
        panel.live.setChecked(False)
    for view in bench.grid.views:
        view.removeEventFilter(recorder)
    bench.playback.time_changed.disconnect(tick)
    controller.bridge.result.disconnect(result)
    if len(clock) < 2:
        raise SystemExit("live_window: the clock did not tick while playing")
    anchor_us = statistics.median(t - m * 1e6 for t, m in clock if m <= w1)
    wall = w1 - w0
    w0 = max(w0, clock[0][1])  # from the first tick: the clock runs from there
    answered: dict[int | None, set[int | None]] = {}
    for at, participant, frame in delivered:
        if at >= w0:
            answered.setdefault(participant, set()).add(frame)
    ticks = np.array([m for _, m in clock])
    per_view = [frame_stats(trace, w0, w1, anchor_us, answered.get(trace.participant_id, set()), ticks)
                for trace in traces.values()]
    delays = [d for trace in traces.values() for d in trace.delays]
    due = sum(v["due"] for v in per_view)
    lags = [lag for v in per_view for lag in v["lags_s"]]
    tick_lags = [lag for v in per_view for lag in v["tick_lags_s"]]
    return {"views": len(per_view), "due": due, "late": 100 * sum(v["late"] for v in per_view) / due,
            "dropped": 100 * sum(v["dropped"] for v in per_view) / due,
            "no_prediction": 100 * sum(v["missing"] for v in per_view) / due if model_id else float("nan"),
            "no_result": 100 * sum(v["unanswered"] for v in per_view) / due if model_id else float("nan"),
            "delay_p50": float(np.percentile(delays, 50)) if delays else float("nan"),
            "delay_p95": float(np.percentile(delays, 95)) if delays else float("nan"),
            "lag_p50_ms": 1000 * float(np.percentile(lags, 50)) if lags else float("nan"),
            "lag_p95_ms": 1000 * float(np.percentile(lags, 95)) if lags else float("nan"),
            "tick_lag_p95_ms": 1000 * float(np.percentile(tick_lags, 95)) if tick_lags else float("nan"),
            "cpu": 100 * cpu / wall, "worker_cpu": 100 * child_cpu / wall,
            "others": 100 * (busy - cpu - child_cpu) / wall, "runtime": runtime, "sound": heard}


def on_a_thread(play: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``play()`` with the live worker on a thread of the window's process (``DYADLAB_LIVE_PROCESS=0``)."""
    from dyadlab.app.live.live_bridge import PROCESS_ENV

    before = os.environ.get(PROCESS_ENV)
    os.environ[PROCESS_ENV] = "0"
    try:
        return play()
    finally:
        if before is None:
            del os.environ[PROCESS_ENV]
        else:
            os.environ[PROCESS_ENV] = before


def prepare(root: Path, models: Path, seconds: float, kinds: list[str]) -> dict[str, int]:
    """The demo project of bench/live.py with its models registered, those of ``kinds`` (default: all)
    exported to ONNX (not timed: the worker runs torch until its export is done); name -> id of ``kinds``."""
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.inference.loader import load_model
    from dyadlab.core.inference.onnx_runtime import OnnxExport

    with generate_demo(root, sessions=1, seconds=max(5.0, seconds), seed=5) as project:
        ids = live_bench().make_models(project, models)
        unknown = [k for k in kinds if k not in ids]
        if unknown:
            raise SystemExit(f"live_window: unknown --kinds {', '.join(unknown)}; "
                             f"this run has {', '.join(ids)}")
        ids = {kind: ids[kind] for kind in kinds or ids}
        for model_id in ids.values():
            OnnxExport(load_model(project, model_id, device="cpu").path).wait()
    return ids


def offscreen_screen(path: Path) -> None:
    """Qt's offscreen platform (the default here) with a ``SCREEN``-sized screen described in ``path``."""
    platform = os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if platform == "offscreen":
        width, height = SCREEN
        screen = {"name": "bench", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96,
                  "logicalBaseDpi": 96, "dpr": 1}
        path.write_text(json.dumps({"screens": [screen]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={path}"


def open_window(root: Path) -> Any:
    """The real main window on the project's session (settings in a throwaway folder, no modal dialogs)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from dyadlab.app import theme
    from dyadlab.app.errors import reporter
    from dyadlab.app.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(root.parent / "settings"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("DyadLabBench")
    app.setApplicationName("DyadLab")
    theme.apply("dark", app)
    reporter.show_dialogs = False
    window = MainWindow()
    window.resize(1600, 960)
    window.show()
    window.open_project(root, annotator="alice")
    views = window.bench.grid.views
    wait_until(lambda: all(v.error or v.shown_frame is not None for v in views), 60, "the first frames")
    if len({v.view.participant_id for v in views if v.error is None}) < 2:
        raise SystemExit(f"live_window: the demo session shows {len(views)} view(s), not both participants")
    return window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="seconds of playback per model (default 10)")
    parser.add_argument("--kinds", default="",
                        help="comma-separated model names of bench/live.py (default: all)")
    parser.add_argument("--sound", action="store_true", help="play the audio on a private null sound server")
    parser.add_argument("--thread-too", action="store_true",
                        help="after each model's row, a row with its worker on a thread of the window's process "
                             "(DYADLAB_LIVE_PROCESS=0: the same run's reference for the worker process)")
    args = parser.parse_args()
    os.environ["DYADLAB_EXPORT_ON_REGISTER"] = "0"  # only the models measured are exported (``prepare``)
    os.environ.setdefault("DYADLAB_BUILTIN_MODELS", "0")  # the project's models are bench/live.py's
    server = None
    sound = "off (DYADLAB_SOUND=0)"
    if args.sound:
        from dyadlab.core.media.sound_server import NullSoundServer

        server = NullSoundServer().start()  # SoundServerError says why not (pulseaudio missing)
        os.environ.update(server.env)
        sound = "on (null PulseAudio sink)"
    else:
        os.environ["DYADLAB_SOUND"] = "0"
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="dyadlab-bench-live-window-") as tmp:
            root = Path(tmp) / "project"
            offscreen_screen(Path(tmp) / "screen.json")
            kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
            ids = prepare(root, Path(tmp) / "models", args.seconds + MARGIN_S, kinds)
            window = open_window(root)
            try:
                fps = float(window.bench.grid.views[0].view.fps or 25.0)
                size = f"{window.width()}x{window.height()}"
                load = os.getloadavg()[0]
                rows.append((REFERENCE, play_one(window, None, args.seconds)))
                for kind, model_id in ids.items():
                    rows.append((kind, play_one(window, model_id, args.seconds)))
                    if args.thread_too:
                        rows.append((f"{kind} (thread)", on_a_thread(lambda m=model_id: play_one(window, m,
                                                                                                 args.seconds))))
            finally:
                from PySide6.QtWidgets import QApplication

                from dyadlab.app.errors import reporter

                errors = list(reporter.history)
                window.close()
                QApplication.processEvents()
    finally:
        if server is not None:
            server.stop()
    print(f"# live overlay in the real window: demo session, {rows[0][1]['views']} views (2 participants), "
          f"{fps:g} fps, {args.seconds:g} s at 1x per model, window {size}, sound {sound}, "
          f"Qt {os.environ['QT_QPA_PLATFORM'].split(':')[0]}, {os.cpu_count()} CPUs; load average (1 min) "
          f"{load:.1f} at start, {os.getloadavg()[0]:.1f} at the end "
          f"(uptime: {' '.join(f'{v:.2f}' for v in os.getloadavg())})")
    if args.sound and not all(r["sound"] for _, r in rows):
        print("# --sound: the window played without sound in "
              + ", ".join(name for name, r in rows if not r["sound"]) + " (no output on the null sink)")
    text, missed = report(rows)
    print(text)
    for error in errors:
        print(f"reported by the window: {error}")
    return 1 if missed else 0


def report(rows: list[tuple[str, dict[str, Any]]]) -> tuple[str, list[str]]:
    """The table (a row per model, the reference first) and its legend; the models that miss a goal."""
    from dyadlab.app.playback import TICK_MS

    width = max(12, *(len(name) for name, _ in rows))
    lines = [f"{'model':<{width}} {'frames':>6} {'late %':>7} {'dropped %':>9} {'lag p50/p95 ms':>14} "
             f"{'tick p95':>8} {'no pred %':>9} {'no result %':>11} {'delay p50':>9} {'delay p95':>9} "
             f"{'CPU %':>6} {'worker %':>8} {'others %':>8}  runtime"]
    missed = []
    for name, r in rows:
        lines.append(f"{name:<{width}} {r['due']:>6} {r['late']:>7.2f} {r['dropped']:>9.2f} "
                     f"{r['lag_p50_ms']:>7.1f} /{r['lag_p95_ms']:>5.1f} {r['tick_lag_p95_ms']:>5.1f} ms "
                     f"{r['no_prediction']:>9.2f} {r['no_result']:>11.2f} {r['delay_p50']:>6.1f} fr "
                     f"{r['delay_p95']:>6.1f} fr {r['cpu']:>6.0f} {r['worker_cpu']:>8.0f} {r['others']:>8.0f}  "
                     f"{r['runtime']}")
        met = (r["late"] <= GOAL_LATE and r["no_prediction"] <= GOAL_NO_PREDICTION
               and r["delay_p95"] <= GOAL_DELAY)
        if name != REFERENCE and not name.endswith("(thread)") and not met:  # references: no goal
            missed.append(name)
    lines += [
        f"goals: late <= {GOAL_LATE:g}%, no pred <= {GOAL_NO_PREDICTION:g}%, delay p95 <= {GOAL_DELAY:g} "
        "frames -> " + ("all met" if not missed else "missed by " + ", ".join(missed)),
        f"{REFERENCE}: live off, the reference of this run. frames: due on the views (both views together);",
        "  late: not on screen within 1/60 s of the clock tick at which the player asked for it (as in",
        "  bench/media.py; dropped: never on screen while due, late too); lag: due -> on screen; tick p95:",
        f"  that tick -> on screen (the clock ticks every {TICK_MS} ms, so the lag is up to that much more); no pred: due",
        "  frames whose prediction was never painted; no result: due frames the worker delivered no result",
        "  for (painted or not); delay: due frame - frame of the prediction on screen, sampled every 10 ms;",
        "  CPU %: this process while playing (200 = both cores); worker %: the live worker's own process",
        "  (0 when it runs on a thread of this one: DYADLAB_LIVE_PROCESS=0); others %: the rest of the machine meanwhile",
        "  (/proc/stat; what the window could not have)."]
    return "\n".join(lines), missed


if __name__ == "__main__":
    raise SystemExit(main())
