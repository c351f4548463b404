"""Plays a session through the real QtAudioSink on a null sound server and records what happened.

Run by ``test_qt_audio_sink.py`` in a subprocess whose environment points PulseAudio clients at the
server (Qt connects to sound once per process, on first use, so the variables must be set before the
QCoreApplication exists, and the GUI tests' process must not be pointed at a server that then stops).
Usage: ``python qt_sink_scenario.py WAV OUT_DIR MONITOR_SOURCE``. Writes ``result.json``,
``blocks.npz`` (every block the sink pulled) and ``monitor.f32`` (what the null sink played).

Nothing is asserted here: the test judges the record.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from PySide6.QtMultimedia import QMediaDevices

from dyadlab.app.audio_output import open_audio_sink
from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.audio_sink import AudioPlayback, AudioSink, SessionAudioFeed
from dyadlab.core.media.clock import SessionClock

RATE, CHANNELS = 48_000, 2
FRAME_MS = 16  # the GUI's frame timer (60 Hz)


class RecordingSink:
    """An AudioSink around a real one that keeps every block its pull callback served.

    Each block is stored with its run (one per ``start``), the feed's session time when the run started
    and the feed's speed, so a test can recompute what the session audio was at those times.
    """

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self.sample_rate, self.channels = sink.sample_rate, sink.channels
        self.runs: list[tuple[int, float]] = []  # (session µs at the run's first sample, speed)
        self.blocks: list[tuple[int, np.ndarray]] = []  # (run, block)

    def start(self, pull: SessionAudioFeed) -> None:
        run = len(self.runs)
        self.runs.append((pull.position_us, pull.speed))

        def recording(n: int) -> np.ndarray:
            block = pull(n)
            self.blocks.append((run, np.array(block, dtype=np.float32)))
            return block

        self.sink.start(recording)

    def stop(self) -> None:
        self.sink.stop()

    def played_us(self) -> int:
        return self.sink.played_us()


def wait(ms: int) -> None:
    """Run Qt's event loop for ``ms`` (the sink pulls from a timer in this thread)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def sink_rate(reader: AudioReader, seconds: float) -> dict:
    """The sink alone: its position against the wall clock while playing the session from 0."""
    sink = open_audio_sink(RATE, CHANNELS)
    feed = SessionAudioFeed([reader], 0, sample_rate=RATE, channels=CHANNELS)
    samples = []
    start = time.monotonic()
    sink.start(feed)
    while time.monotonic() - start < seconds:
        wait(5)
        samples.append((time.monotonic() - start, sink.played_us()))
    sink.stop()
    return {"class": type(sink).__name__, "samples": samples, "pulled_us": feed.position_us}


def clock_session(reader: AudioReader, out: Path) -> dict:
    """Play / pause / play / seek / speed 2 / pause through AudioPlayback, one tick per frame."""
    sink = RecordingSink(open_audio_sink(RATE, CHANNELS))
    clock = SessionClock(int(reader.duration_us))
    playback = AudioPlayback(clock, sink, [reader])
    rows: list[tuple[str, float, int, int | None]] = []  # (phase, wall s, clock µs, heard µs)
    events: list[dict] = []
    begin = time.monotonic()

    def run(phase: str, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            wait(FRAME_MS)
            t = playback.tick()
            rows.append((phase, time.monotonic() - begin, t, playback.heard_us))

    def event(name: str, action) -> None:
        before = clock.time_us
        action()
        events.append({"name": name, "wall": time.monotonic() - begin, "before": before, "after": clock.time_us,
                       "running": playback.running, "blocks": len(sink.blocks), "runs": len(sink.runs)})

    event("play", clock.play)
    run("play", 1.0)
    event("pause", playback.pause)
    run("paused", 0.4)
    events.append({"name": "paused_end", "wall": time.monotonic() - begin, "blocks": len(sink.blocks),
                   "runs": len(sink.runs), "played_us": sink.played_us()})
    event("resume", clock.play)
    run("resumed", 0.6)
    event("seek", lambda: clock.seek(3_000_000))  # on the clock directly: a jump AudioPlayback must catch
    run("seeked", 0.6)
    event("speed2", lambda: clock.set_speed(2.0))
    run("speed2", 0.8)
    event("stop", playback.pause)
    playback.close()
    np.savez(out / "blocks.npz", runs=np.array([b[0] for b in sink.blocks]),
             sizes=np.array([len(b[1]) for b in sink.blocks]),
             data=np.concatenate([b[1] for b in sink.blocks]) if sink.blocks else np.zeros((0, CHANNELS)))
    return {"rows": rows, "events": events, "runs": sink.runs}


def main() -> None:
    wav, out, monitor = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    app = QCoreApplication([])
    result: dict = {"default_output": QMediaDevices.defaultAudioOutput().description(),
                    "outputs": [d.description() for d in QMediaDevices.audioOutputs()]}
    reader = AudioReader(wav, sample_rate=RATE)
    with open(out / "monitor.f32", "wb") as recording:
        recorder = subprocess.Popen(["parec", "-d", monitor, "--raw", "--format=float32le", f"--rate={RATE}",
                                     f"--channels={CHANNELS}", "--latency-msec=10"], stdout=recording)
        wait(300)  # the recorder is connected and records silence before the sink starts
        result["rate"] = sink_rate(reader, 2.5)
        wait(300)
        recorder.terminate()
        recorder.wait(5)
    result["clock"] = clock_session(reader, out)
    reader.close()
    (out / "result.json").write_text(json.dumps(result))
    del app


if __name__ == "__main__":
    main()
