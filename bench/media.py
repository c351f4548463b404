"""Media engine benchmark: decode throughput, 4-view playback sync and exact seeks, on 720p H.264.

Goals (issue "Media engine"): decoding a 1280×720 H.264 file through the decoder path runs at ≥ 0.9×
the ``ffmpeg -i f -f null -`` rate measured in the same run; 4 views × 720p25 played at 1× through
``SessionClock`` + decoders keep late/dropped frames and cross-view skew small, with video following
the audio clock; 200 random exact-frame seeks on a GOP-250 file take p95 ≤ 100 ms, and ≤ 20 ms on its
all-intra proxy. Every frame shown or sought is checked against the code its pixels carry.

Long-GOP seeks are bounded below by decoding the reference frames from the keyframe to the target, so
they are also printed as a ratio to same-run references on the same targets: PyAV's minimal
keyframe→target loop with the same non-reference skipping (the decode floor), the plain loop, the
ffmpeg CLI's own exact seek (``ffmpeg -ss T -i f -frames:v 1``, net of its process start),
VideoDecoder as it was before far seeks got their own slice-threaded codec (frame threads for everything),
and VideoDecoder with one seek codec (before codecs were kept parked: a seek went on from the last one's
position or started at the keyframe). The VideoDecoder variants take turns target by target (load drift
hits them alike); each row also counts the pictures decoded per seek.
The product answer to long GOPs is proxies (``dyadlab proxy``; the GUI offers them for views whose GOP
exceeds ``SLOW_SEEK_GOP``).

The generated file has two slices per picture (PyAV's encoder runs x264 with sliced threads), which is
what lets slice threads split each picture; files from the ffmpeg CLI and most cameras have one. So the
seeks run again on the same frames re-encoded by the ffmpeg CLI (x264 frame threads: one slice per
picture), where slice threads decode on one core, against frame threads on the same targets.

Playback runs twice when it can: with ``PacedAudioSink`` (a thread pulling the audio in real time), and
with the real ``QtAudioSink`` on a private null PulseAudio server (``core.media.sound_server``; needs
the Debian package pulseaudio), pumping Qt's event loop between frames as the GUI does. Both go through
``AudioPlayback``, so the clock follows the sink's played position; the real-sink rows are left out,
with the reason, when the server cannot start.

Last, the same 4-view playback runs four more times, half as long, with a GUI timeline of two audio
tracks following the clock (offscreen Qt, zoomed to 5 s so each page needs new tiles): showing the
waveform only, or with the spectrograms toggled on 1 s into the run (order off, on, on, off); the rows
print both late-frame rates and their ratio (goal: spectrograms cost no late frames, ratio about 1), and
the event loop's longest tick gaps.

All media is generated here (PyAV, into a temp dir). Run: ``python bench/media.py [--quick]``
(``--quick``: a 10 s file, 10 s of playback, 50 seeks; ``--seeks-only``: throughput and seek rows, no playback).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.audio_sink import AudioPlayback, AudioSink
from dyadlab.core.media.clock import SessionClock
from dyadlab.core.media.decoder import VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.proxy import make_proxy
from dyadlab.core.media.sound_server import NullSoundServer, SoundServerError
from dyadlab.core.media.sync import frame_session_time, view_frame_at
from dyadlab.core.media.synthetic import SineSpec, read_code, regular_pts, write_test_audio, write_test_video

SIZE = (1280, 720)
CODE = 256  # the frame-number code square, top-left
DISPLAY_HZ = 60
AUDIO_RATE = 48_000


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# --- media ---------------------------------------------------------------------------------------
def make_media(workdir: Path, frames: int) -> tuple[Path, Path]:
    video = write_test_video(workdir / "cam720.mp4", regular_pts(frames, 512), Fraction(1, 12800), size=SIZE,
                             textured=True, code_size=CODE, gop=250, bframes=3, crf=23, preset="veryfast")
    audio = write_test_audio(workdir / "mics.wav", SineSpec((440.0, 660.0), AUDIO_RATE), frames / 25)
    return video, audio


# --- throughput ----------------------------------------------------------------------------------
def ffmpeg_fps(path: Path, frames: int, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), *extra, "-f", "null", "-"], check=True)
    return frames / (time.perf_counter() - start)


def pyav_decode_only_fps(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start = time.perf_counter()
        n = sum(1 for _ in container.decode(stream))
    return n / (time.perf_counter() - start)


def decoder_fps(path: Path, index: FrameIndex, max_size: tuple[int, int] | None) -> tuple[float, int]:
    """Every frame in order through VideoDecoder.get_frame (decode + RGB conversion in its thread, which
    reads ahead while the caller holds the previous frame, as in an analysis loop)."""
    with VideoDecoder(path, index, cache_bytes=64 << 20) as decoder:
        start = time.perf_counter()
        wrong = 0
        for n in range(len(index)):
            image = decoder.get_frame(n, timeout=30, max_size=max_size)
            if n % 50 == 0:
                wrong += read_code(image, 0, 0, CODE * image.shape[1] // SIZE[0],
                                   CODE * image.shape[0] // SIZE[1]) != n
        return len(index) / (time.perf_counter() - start), wrong


# --- seeks ---------------------------------------------------------------------------------------
def seek_targets(index: FrameIndex, count: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(n) for n in rng.choice(len(index), size=min(count, len(index)), replace=False)]


@dataclass
class SeekRun:
    """One decoder's exact seeks: wall and CPU ms, pictures decoded, and wrong frames."""

    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    decoded: list[int] = field(default_factory=list)
    wrong: int = 0

    def row(self, name: str, goal: str = "") -> tuple[str, str, str]:
        return (name, f"p50 {pct(self.times, 50):.0f} ms",
                f"p95 {pct(self.times, 95):.0f} ms{goal}, max {max(self.times):.0f}; CPU p50 {pct(self.cpu, 50):.0f} / "
                f"p95 {pct(self.cpu, 95):.0f} ms; decoded p50 {pct(self.decoded, 50):.0f} / "
                f"p95 {pct(self.decoded, 95):.0f} pictures; wrong {self.wrong}")

    def versus(self, other: SeekRun, name: str) -> tuple[str, str, str]:
        return (name, f"p95 {pct(self.times, 95) / pct(other.times, 95):.2f}x",
                f"p50 {pct(self.times, 50) / pct(other.times, 50):.2f}x; CPU p95 "
                f"{pct(self.cpu, 95) / pct(other.cpu, 95):.2f}x (same targets, taking turns)")


def decoder_seeks(path: Path, index: FrameIndex, targets: list[int], variants: dict[str, dict],
                  decode_path: Path | None = None) -> dict[str, SeekRun]:
    """Exact seeks through VideoDecoder.get_frame (RGB of the target), one decoder per option set in
    ``variants``, taking turns target by target so that load drift hits them alike.

    CPU is this process's CPU time per seek (all threads; only one decoder works at a time): on a loaded
    machine it says what a seek costs better than wall time, where a decoder with more threads simply
    gets a bigger share of the busy cores. Decoded counts pictures that came out of the codec (non-reference
    ones skipped inside it are not counted)."""
    runs = {name: SeekRun() for name in variants}
    decoders = {name: VideoDecoder(path, index, decode_path=decode_path, **options)
                for name, options in variants.items()}
    try:
        for decoder in decoders.values():
            decoder.get_frame(0, timeout=30)  # open the file and warm the codec outside the timing
        for i, n in enumerate(targets):
            names = list(decoders) if i % 2 == 0 else list(reversed(decoders))
            for name in names:
                decoder, run = decoders[name], runs[name]
                before = decoder.stats["decoded"]
                start, cpu = time.perf_counter(), time.process_time()
                image = decoder.get_frame(int(n), timeout=60)
                run.times.append((time.perf_counter() - start) * 1000)
                run.cpu.append((time.process_time() - cpu) * 1000)
                run.decoded.append(decoder.stats["decoded"] - before)
                run.wrong += read_code(image, 0, 0, CODE, CODE) != n
    finally:
        for decoder in decoders.values():
            decoder.close()
    return runs


def pyav_seek_latencies(path: Path, index: FrameIndex, targets: list[int], *,
                        skip_nonref: bool, thread_type: str = "SLICE") -> tuple[list[float], int]:
    """The decode floor of an exact seek, PyAV's minimal loop: seek to the keyframe before the target,
    decode forward until the target's pts comes out, convert that one frame to RGB.

    ``skip_nonref`` lets the codec skip non-reference frames before the target, as VideoDecoder does
    (exact: nothing shown depends on them); without it this is the textbook loop (and what the ffmpeg
    CLI does). Same threads as VideoDecoder's far seeks (SLICE), no cache, no thread hop, no index
    bookkeeping.
    """
    import av

    times, wrong = [], 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        ctx = stream.codec_context
        for n in targets:
            start = time.perf_counter()
            want = int(index.raw_pts[n])
            container.seek(int(index.raw_pts[index.keyframe_before(n)]), stream=stream, backward=True)
            image = None
            for packet in container.demux(stream):
                if skip_nonref:
                    ctx.skip_frame = "NONREF" if packet.pts is not None and packet.pts < want else "DEFAULT"
                frame = next((f for f in packet.decode() if f.pts == want), None)
                if frame is not None:
                    image = frame.to_ndarray(format="rgb24")
                    break
            times.append((time.perf_counter() - start) * 1000)
            wrong += image is None or read_code(image, 0, 0, CODE, CODE) != n
    return times, wrong


def ffmpeg_seek_latencies(path: Path, index: FrameIndex, targets: list[int]) -> tuple[list[float], float, int]:
    """The ffmpeg CLI's exact seek, one process per target: ``ffmpeg -ss T -i f -frames:v 1`` (input
    seeking: it decodes from the keyframe before T and drops frames until T), the frame piped out as RGB
    and checked. Also returns the median cost of the same command reading frame 0 with no seek (process
    start, probing, one decode): subtract it for the CLI's own seek cost.
    """
    w, h = index.width, index.height

    def grab(extra: list[str]) -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", *extra, "-i", str(path), "-frames:v", "1",
                              "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], check=True, capture_output=True).stdout
        ms = (time.perf_counter() - start) * 1000
        return ms, np.frombuffer(out, np.uint8)[: w * h * 3].reshape(h, w, 3)

    startup = float(np.median([grab([])[0] for _ in range(5)]))
    times, wrong = [], 0
    for n in targets:
        # frame n's exact time lies in (pts_us - 1, pts_us]: 1 µs earlier selects it and not frame n - 1
        ms, image = grab(["-ss", f"{max(index.time_of(n) - 1, 0) / 1e6:.6f}"])
        times.append(ms)
        wrong += read_code(image, 0, 0, CODE, CODE) != n
    return times, startup, wrong


def seek_floor_rows(video: Path, index: FrameIndex, targets: list[int], ours_ms: list[float],
                    floor_count: int = 100, cli_count: int = 40) -> list[tuple[str, str, str]]:
    """Same-run references for the GOP-250 seeks (on the first targets, to bound the run time): how far
    VideoDecoder is from the decode floor of PyAV's minimal loop and from the ffmpeg CLI."""
    sub = targets[:floor_count]
    ours = ours_ms[:floor_count]

    def versus(ref: list[float], mine: list[float] = ours) -> str:
        return (f"ours/this: p50 {pct(mine, 50) / pct(ref, 50):.2f}x, p95 {pct(mine, 95) / pct(ref, 95):.2f}x")

    nonref, wrong_nonref = pyav_seek_latencies(video, index, sub, skip_nonref=True)
    plain, wrong_plain = pyav_seek_latencies(video, index, sub, skip_nonref=False)
    cli, startup, wrong_cli = ffmpeg_seek_latencies(video, index, targets[:cli_count])
    cli_net = [max(ms - startup, 0.0) for ms in cli]
    return [
        (f"  floor: PyAV keyframe->target, skip NONREF ({len(sub)})", f"p50 {pct(nonref, 50):.0f} ms",
         f"p95 {pct(nonref, 95):.0f} ms; {versus(nonref)}; wrong {wrong_nonref}"),
        (f"  PyAV keyframe->target, plain loop ({len(sub)})", f"p50 {pct(plain, 50):.0f} ms",
         f"p95 {pct(plain, 95):.0f} ms; {versus(plain)}; wrong {wrong_plain}"),
        (f"  ffmpeg -ss T -i f -frames:v 1 ({len(cli)})", f"p50 {pct(cli_net, 50):.0f} ms",
         f"p95 {pct(cli_net, 95):.0f} ms net of {startup:.0f} ms process start "
         f"(gross p50 {pct(cli, 50):.0f}); {versus(cli_net, ours_ms[:cli_count])}; wrong {wrong_cli}"),
    ]


def slices_per_picture(path: Path) -> int:
    """Coded slices in the first picture of an H.264 file in MP4 (length-prefixed NAL units)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        data = bytes(next(container.demux(stream)))
        size = (stream.codec_context.extradata[4] & 3) + 1
    count = i = 0
    while i + size < len(data):
        count += (data[i + size] & 0x1F) in (1, 5)  # coded slice of a non-IDR / IDR picture
        i += size + int.from_bytes(data[i:i + size], "big")
    return count


def one_slice_rows(video: Path, workdir: Path, targets: list[int]) -> list[tuple[str, str, str]]:
    """The seeks again on the same pictures as the ffmpeg CLI encodes them (x264 frame threads: one slice
    per picture, as most camera files): the slice-threaded seek codec can only decode these on one core,
    so frame threads are the same-run alternative."""
    one = workdir / "cam720.oneslice.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(video), "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "23", "-g", "250", "-keyint_min", "250", "-sc_threshold", "0", "-bf", "3",
                    "-pix_fmt", "yuv420p", str(one)], check=True)
    index = FrameIndex.build(one)
    runs = decoder_seeks(one, index, targets, {"slice": {}, "frame": {"seek_thread_type": None}})
    return [
        runs["slice"].row(f"{len(targets)} exact seeks, GOP 250, {slices_per_picture(one)} slice per picture "
                          "(ffmpeg CLI x264)"),
        runs["frame"].row(f"  far seeks on the frame-threaded codec ({len(targets)})"),
        runs["slice"].versus(runs["frame"], "  ours / frame-threaded, one slice per picture"),
    ]


# --- playback ------------------------------------------------------------------------------------
class PacedAudioSink:
    """Stands in for a sound card (none here): pulls the session audio in 10 ms periods, in real time.

    It does the real work of a sink (decoding and mixing the tracks through ``SessionAudioFeed``) and
    reports its played position like QtAudioSink, so the clock runs on the audio-driven code path.
    """

    period = 0.010

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate, self.channels = sample_rate, channels
        self._played = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pull) -> None:
        self._stop.clear()
        self._played = 0
        self._thread = threading.Thread(target=self._run, args=(pull,), daemon=True)
        self._thread.start()

    def _run(self, pull) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - start) * self.sample_rate)
            if due > self._played:
                pull(due - self._played)
                self._played = due
            time.sleep(self.period)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._played = 0

    def played_us(self) -> int:
        return self._played * 1_000_000 // self.sample_rate


@dataclass
class ViewStats:
    offset_us: int
    shown: tuple[int, int] | None = None  # (loop pass, frame) on screen now
    last_delivered: int | None = None
    due_ticks: dict[tuple[int, int], int] = field(default_factory=dict)  # (pass, frame) -> ticks it was due
    on_time_ticks: dict[tuple[int, int], int] = field(default_factory=dict)  # ... ticks it was on screen
    wrong: int = 0


def playback(path: Path, index: FrameIndex, audio_path: Path, seconds: float, offsets: list[int],
             view_size: tuple[int, int] | None, sink: AudioSink, wait=time.sleep, on_tick=None) -> dict:
    """Play ``len(offsets)`` views of ``path`` for ``seconds`` at 1× the way the GUI does it.

    ``wait(s)`` paces the frames (a Qt sink needs its event loop run meanwhile); ``on_tick(t_us)``, if
    given, is told the clock's time each tick (a timeline following the playhead). Times are compared on the
    unwrapped timeline (loop pass × loop length + session time), so a frame still on screen from before a
    loop wrap counts as late, not as a jump of a whole loop.
    """
    decoders = [VideoDecoder(path, index, max_size=view_size) for _ in offsets]
    views = [ViewStats(o) for o in offsets]
    for decoder, view in zip(decoders, views, strict=True):
        def on_frame(n: int, image: np.ndarray, view: ViewStats = view) -> None:
            side = CODE * image.shape[1] // SIZE[0]
            view.wrong += read_code(image, 0, 0, side, side) != n
            view.last_delivered = n
        decoder.subscribe(on_frame)
    for decoder in decoders:  # warm: open files, first GOP
        decoder.get_frame(0, timeout=30)
    reader = AudioReader(audio_path, channels="mix")
    duration = min(index.duration_us, int(reader.duration_us or 0)) - max(offsets)
    clock = SessionClock(duration)
    clock.set_loop(0, duration)
    audio = AudioPlayback(clock, sink, [reader])  # restarts the sink at the loop start on each wrap
    skew, av_offsets, lags = [], [], []
    wraps, last_t = 0, 0

    def unwrapped(loop_pass: int, view: ViewStats, frame: int) -> int:
        return loop_pass * duration + frame_session_time(index, view.offset_us, frame)

    clock.play()
    begin = time.monotonic()
    next_tick = begin
    while time.monotonic() - begin < seconds:
        next_tick += 1 / DISPLAY_HZ
        wait(max(0.0, next_tick - time.monotonic()))
        t = audio.tick()
        if on_tick is not None:
            on_tick(t)
        if t < last_t:
            wraps += 1
        last_t = t
        heard = wraps * duration + (audio.heard_us or 0)  # the sink's played position in session time
        errors = []
        for decoder, view in zip(decoders, views, strict=True):
            n = view_frame_at(t, view.offset_us, index)
            if n is None:
                continue
            decoder.request(n)
            key = (wraps, n)
            view.due_ticks[key] = view.due_ticks.get(key, 0) + 1
            if view.last_delivered == n or decoder.peek(n) is not None:
                view.shown = key
                view.on_time_ticks[key] = view.on_time_ticks.get(key, 0) + 1
            if view.shown is not None:
                shown_start = unwrapped(view.shown[0], view, view.shown[1])
                lag = unwrapped(wraps, view, n) - shown_start
                lags.append(lag / 1000)
                errors.append(lag)
                av_offsets.append((heard - shown_start) / 1000)
        if len(errors) == len(views):
            skew.append((max(errors) - min(errors)) / 1000)
    audio.pause()
    audio.close()
    for decoder in decoders:
        decoder.close()
    reader.close()
    frames_due = sum(len(v.due_ticks) for v in views)
    late = sum(1 for v in views for k, ticks in v.due_ticks.items() if v.on_time_ticks.get(k, 0) < ticks)
    dropped = sum(1 for v in views for k in v.due_ticks if v.on_time_ticks.get(k, 0) == 0)
    return {"frames": frames_due, "late": late, "dropped": dropped, "wrong": sum(v.wrong for v in views),
            "skew": skew, "av": av_offsets, "lag": lags, "wraps": wraps, "restarts": audio.restarts,
            "errors": [d.error for d in decoders if d.error]}


def playback_rows(title: str, result: dict) -> list[tuple[str, str, str]]:
    n = max(result["frames"], 1)
    return [
        (title, f"{result['frames']} frames due",
         f"late {100 * result['late'] / n:.2f}%, dropped {100 * result['dropped'] / n:.2f}%, "
         f"wrong {result['wrong']}, loop wraps {result['wraps']}, sink starts {result['restarts']}, "
         f"errors {len(result['errors'])}"),
        ("  display lag behind clock (per view)", f"p50 {pct(result['lag'], 50):.1f} ms",
         f"p95 {pct(result['lag'], 95):.1f} ms, max {max(result['lag'], default=0):.1f} ms"),
        ("  cross-view skew", f"p50 {pct(result['skew'], 50):.1f} ms",
         f"p95 {pct(result['skew'], 95):.1f} ms, max {max(result['skew'], default=0):.1f} ms"),
        ("  audio position - shown frame start", f"p50 {pct(result['av'], 50):.1f} ms",
         f"p5 {pct(result['av'], 5):.1f}, p95 {pct(result['av'], 95):.1f} ms (in sync: 0..40 ms)"),
    ]


def real_sink_playback(*args) -> tuple[dict | None, str]:
    """``playback`` with QtAudioSink on a null sound server, or (None, why not).

    The server's address goes into this process's environment before Qt first touches audio (Qt
    connects once per process); nothing earlier in this script imports Qt.
    """
    try:
        server = NullSoundServer(AUDIO_RATE).start()
    except SoundServerError as exc:
        return None, str(exc)
    try:
        os.environ.update(server.env)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication

        from dyadlab.app.audio_output import open_audio_sink

        app = QApplication.instance() or QApplication([])  # widgets: the timeline rows after this draw
        sink = open_audio_sink(AUDIO_RATE, 2)
        if sink is None:
            return None, "Qt found no audio output on the null sound server"

        def wait(seconds: float) -> None:
            loop = QEventLoop()
            QTimer.singleShot(int(seconds * 1000), loop.quit)
            loop.exec()

        result = playback(*args, sink, wait)
        app.processEvents()
        return result, f"{type(sink).__name__} on PulseAudio null sink"
    finally:
        server.stop()


# --- timeline spectrograms while playing ---------------------------------------------------------
TIMELINE_SPAN_S = 5.0  # zoomed in: every page needs new level-0 tiles (an STFT each), the costly case
SPECTROGRAM_ON_AFTER_S = 1.0


def timeline_playback(views: tuple, workdir: Path, spectrogram: bool) -> tuple[dict, list[float]]:
    """``playback`` while a GUI timeline of two audio tracks follows the clock (paging as the app's does).

    With ``spectrogram`` both tracks switch to waveform + spectrogram ``SPECTROGRAM_ON_AFTER_S`` into the
    run (toggled while playing: the first build and every page's tiles are computed meanwhile); without, they
    show the waveform only. Returns the playback result and the event-loop tick gaps (ms).
    """
    from types import SimpleNamespace

    from PySide6.QtCore import QEvent, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from dyadlab.app import pyside_fixes
    from dyadlab.app.spectrograms import SpectrogramLoader
    from dyadlab.app.timeline.spectrogram_layer import ParticipantTiles
    from dyadlab.app.timeline.waveform_track import BOTH, WaveformTrack
    from dyadlab.core.media.waveform import WaveformPyramid

    app = QApplication.instance() or QApplication([])
    pyside_fixes.apply()  # as the main window does: PySide6 6.12 leaks references to True on every emit
    cache = workdir / "spectrogram-cache"  # a fresh folder per run: the first build is part of the cost
    media = SimpleNamespace(project=SimpleNamespace(cache_dir=cache),
                            participant_audio=lambda pid: AudioReader(views[2], sample_rate=16_000, channels=pid))
    loader = SpectrogramLoader()
    loader.open(media)
    window = QWidget()
    layout = QVBoxLayout(window)
    tracks = []
    for pid in (0, 1):
        track = WaveformTrack(f"P{pid} · audio", "", "#5fb3b3", WaveformPyramid.build(media.participant_audio(pid)))
        track.set_spectrogram_source(ParticipantTiles(loader, pid))
        track.set_extent(30.0)
        layout.addWidget(track)
        tracks.append(track)
    window.resize(1280, 320)
    window.show()
    for track in tracks[1:]:
        track.vb.setXLink(tracks[0].vb)
    tracks[0].vb.setXRange(0.0, TIMELINE_SPAN_S, padding=0.0)
    loader.tiles_arrived.connect(lambda pid: tracks[pid].redraw())
    gaps: list[float] = []
    state = {"last": None, "start": time.monotonic(), "on": False}

    def follow(t_us: int) -> None:
        now = time.monotonic()
        if state["last"] is not None:
            gaps.append((now - state["last"]) * 1000)
        state["last"] = now
        if spectrogram and not state["on"] and now - state["start"] >= SPECTROGRAM_ON_AFTER_S:
            state["on"] = True
            for track in tracks:
                track.set_display(BOTH)
        t = t_us / 1e6
        for track in tracks:
            track.set_time(t)
        (x0, x1), _ = tracks[0].vb.viewRange()
        if not x0 <= t <= x1:
            tracks[0].vb.setXRange(t - 0.1 * TIMELINE_SPAN_S, t + 0.9 * TIMELINE_SPAN_S, padding=0.0)

    def wait(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    try:
        result = playback(*views, PacedAudioSink(AUDIO_RATE, 2), wait, follow)
    finally:
        loader.close()
        loader.wait(10)
        window.close()
        for obj in (window, loader):  # deleted now, not by the garbage collector at interpreter exit
            obj.deleteLater()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
    return result, gaps


def spectrogram_rows(title: str, views: tuple, workdir: Path) -> list[tuple[str, str, str]]:
    """Late frames with the timeline's spectrograms shown vs the waveform only, same run, and their ratio.

    Four half-length runs in the order off, on, on, off: a machine whose load drifts during the run
    weighs on both sides alike (the CPUs here are shared).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    half = (*views[:3], views[3] / 2, *views[4:])
    totals = {shown: {"frames": 0, "late": 0, "dropped": 0, "wrong": 0, "gaps": []} for shown in (False, True)}
    for run, shown in enumerate((False, True, True, False)):
        result, gaps = timeline_playback(half, workdir / f"run{run}", shown)
        for key in ("frames", "late", "dropped", "wrong"):
            totals[shown][key] += result[key]
        totals[shown]["gaps"] += gaps
    rows: list[tuple[str, str, str]] = []
    late = {}
    for shown, t in totals.items():
        name = "waveform + spectrogram" if shown else "waveform only"
        n = max(t["frames"], 1)
        late[shown] = t["late"] / n
        rows.append((f"{title}, timeline {TIMELINE_SPAN_S:.0f} s span, {name}", f"late {100 * late[shown]:.2f}%",
                     f"dropped {100 * t['dropped'] / n:.2f}%, wrong {t['wrong']}, {n} frames due; loop tick gap "
                     f"p95 {pct(t['gaps'], 95):.1f} / p99 {pct(t['gaps'], 99):.1f} / max {max(t['gaps'], default=0):.0f} ms"))
    ratio = (late[True] + 1e-4) / (late[False] + 1e-4)  # +0.01 % each: a ratio of two zeros is 1
    rows.append(("  late frames, spectrogram shown / not", f"{ratio:.2f}x",
                 "same run, runs off/on/on/off; spectrogram toggled on while playing (build + tiles off the GUI "
                 "thread)"))
    return rows


def playback_section(args: argparse.Namespace, video: Path, index: FrameIndex, audio: Path, seconds: float,
                     workdir: Path) -> list[tuple[str, str, str]]:
    """The 4-view playback rows: paced sink, real Qt sink, spectrograms on/off."""
    rows: list[tuple[str, str, str]] = []
    view_size = tuple(args.view_size) if args.view_size else None
    views = (video, index, audio, seconds, [0, 13_000, 27_000, 35_000], view_size)
    shown = "x".join(map(str, view_size)) if view_size else "full size"
    title = f"4 views 720p25 ({shown}), {seconds:.0f} s at 1x"
    rows += playback_rows(f"{title}, paced sink", playback(*views, PacedAudioSink(AUDIO_RATE, 2)))
    real, how = real_sink_playback(*views)
    if real is None:
        rows.append((f"{title}, real QtAudioSink", "not run", how))
    else:
        rows += playback_rows(f"{title}, real QtAudioSink", real)
        rows.append(("  (real sink)", "", how))
    rows += spectrogram_rows(title, views, workdir)
    return rows


# --- main ----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s file, 10 s playback, 50 seeks")
    parser.add_argument("--seconds", type=float, help="playback seconds (default 60, quick 10)")
    parser.add_argument("--seeks", type=int, help="random seeks per file (default 200, quick 50)")
    parser.add_argument("--keep", type=Path, help="generate the media here and keep it")
    parser.add_argument("--seeks-only", action="store_true", help="throughput and seek rows only (no playback)")
    parser.add_argument("--view-size", type=int, nargs=2, metavar=("W", "H"),
                        help="decode views for display at most W×H during playback (default: full 1280×720)")
    args = parser.parse_args()
    frames = 250 if args.quick else 750
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    seeks = args.seeks or (50 if args.quick else 200)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="dyadlab-bench-media-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []
    t_all = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        t0 = time.perf_counter()
        video, audio = make_media(workdir, frames)
        index = FrameIndex.build(video)
        print(f"generated {frames} frames 1280x720 H.264 (GOP 250, B-frames) + WAV in "
              f"{time.perf_counter() - t0:.1f} s; {video.stat().st_size / 1e6:.1f} MB")

        # throughput: references first and last to bracket machine-load drift
        ff1 = ffmpeg_fps(video, frames)
        ff_rgb = ffmpeg_fps(video, frames, "-pix_fmt", "rgb24")
        decode_only = pyav_decode_only_fps(video)
        full, wrong_full = decoder_fps(video, index, None)
        small, wrong_small = decoder_fps(video, index, (640, 360))
        ff2 = ffmpeg_fps(video, frames)
        ff = (ff1 + ff2) / 2
        rows += [
            ("ffmpeg -i f -f null - (reference)", f"{ff:.0f} fps", f"runs {ff1:.0f} / {ff2:.0f}"),
            ("ffmpeg -pix_fmt rgb24 -f null -", f"{ff_rgb:.0f} fps", f"{ff_rgb / ff:.2f}x ffmpeg null"),
            ("PyAV decode only (thread AUTO)", f"{decode_only:.0f} fps", f"{decode_only / ff:.2f}x ffmpeg null"),
            ("VideoDecoder, RGB 1280x720", f"{full:.0f} fps",
             f"{full / ff:.2f}x ffmpeg null (goal >= 0.9); {full / ff_rgb:.2f}x ffmpeg rgb24; wrong {wrong_full}"),
            ("VideoDecoder, RGB 640x360 (max_size)", f"{small:.0f} fps", f"{small / ff:.2f}x ffmpeg null; wrong {wrong_small}"),
        ]

        # seeks on the long-GOP file and on its proxy
        t0 = time.perf_counter()
        proxy = make_proxy(video, workdir / "cam720.proxy.mp4", gop=1, source_index=index)
        proxy_s = time.perf_counter() - t0
        proxy_index = FrameIndex.build(proxy)
        targets = seek_targets(index, seeks, 1)
        gop = decoder_seeks(video, index, targets, {
            "ours": {}, "one codec": {"seek_codecs": 1}, "frame": {"seek_thread_type": None, "seek_codecs": 1}})
        proxy_run = decoder_seeks(video, proxy_index, seek_targets(index, seeks, 2), {"proxy": {}}, decode_path=proxy)
        proxy_ms, proxy_wrong = proxy_run["proxy"].times, proxy_run["proxy"].wrong
        ours = gop["ours"]
        rows += [
            ours.row(f"{len(targets)} exact seeks, GOP 250, {slices_per_picture(video)} slices per picture",
                     " (goal <= 100)"),
            gop["one codec"].row(f"  VideoDecoder, one seek codec, none parked (before) ({len(targets)})"),
            ours.versus(gop["one codec"], "  ours / one seek codec"),
            gop["frame"].row(f"  VideoDecoder, one frame-threaded codec for every seek (before that) ({len(targets)})"),
        ]
        rows += seek_floor_rows(video, index, targets, ours.times)
        rows += one_slice_rows(video, workdir, targets[:100])
        rows += [
            (f"{len(proxy_ms)} exact seeks, all-intra proxy", f"p50 {pct(proxy_ms, 50):.1f} ms",
             f"p95 {pct(proxy_ms, 95):.1f} ms (goal <= 20), max {max(proxy_ms):.1f}; wrong {proxy_wrong}; "
             f"proxy made in {proxy_s:.1f} s ({proxy.stat().st_size / 1e6:.0f} MB)"),
        ]

        if not args.seeks_only:
            rows += playback_section(args, video, index, audio, seconds, workdir)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'value':>16}  detail")
    print("-" * (width + 80))
    for name, value, detail in rows:
        print(f"{name:<{width}}  {value:>16}  {detail}")
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s on {os.cpu_count()} CPUs; load average (1 min) "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other processes share these CPUs)")


if __name__ == "__main__":
    main()
