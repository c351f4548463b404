"""Damaged videos through probing, frame indexing, the decoder thread and audio decoding.

Why: recordings arrive truncated (a camera's card filled up, a copy was interrupted) or with flipped
bits, and FFmpeg reports such damage through many exception types and states. The player must show
what still decodes and say why the rest does not — never hang, never let an exception escape a worker
thread. Each case cuts or corrupts a small generated file, then asserts that every step either works or
raises ``MediaError``, that every ``get_frame`` returns within its timeout, and that the decoder thread
neither logged an unexpected exception nor outlived ``close()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from .fuzzing import PROFILES, event, fuzz, outcome

FRAME_TIMEOUT_S = 10.0  # a 64×48 frame decodes in microseconds: hitting this is a hang


@st.composite
def damaged_video(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` cut short, or with bytes flipped or zeroed (several times, sometimes)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "zero"]))
        event(f"damage: {kind}")
        if kind == "truncate":
            del out[draw(st.integers(1, max(len(out) - 1, 1))):]
        elif kind == "flip":
            for _ in range(draw(st.integers(1, 16))):
                out[draw(st.integers(0, len(out) - 1))] ^= draw(st.integers(1, 255))
        else:
            start = draw(st.integers(0, len(out) - 1))
            end = min(len(out), start + draw(st.integers(1, 512)))
            out[start:end] = bytes(end - start)
    return bytes(out)


class _ThreadProblems(logging.Handler):
    """Collects decoder-thread exception logs and uncaught thread exceptions."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.found.append(f"{record.name}: {record.getMessage()} {record.exc_text or ''}")

    def excepthook(self, args: threading.ExceptHookArgs) -> None:
        self.found.append(f"uncaught in {args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: "
                          f"{args.exc_value}")


@pytest.fixture
def thread_problems() -> Iterator[_ThreadProblems]:
    problems = _ThreadProblems()
    logger = logging.getLogger("dyadlab.core.media")
    logger.addHandler(problems)
    previous, threading.excepthook = threading.excepthook, problems.excepthook
    try:
        yield problems
    finally:
        threading.excepthook = previous
        logger.removeHandler(problems)


def _check_frame_times(index) -> None:
    """The index's documented promise: at least one frame, times strictly increasing."""
    assert len(index) > 0 and np.all(np.diff(index.pts_us) > 0), (
        f"frame times must strictly increase: time base {index.time_base}, first µs {index.pts_us[:4].tolist()}")


def _decode_what_is_left(path: Path) -> None:
    from dyadlab.core.errors import MediaError
    from dyadlab.core.media.decoder import VideoDecoder
    from dyadlab.core.media.frame_index import FrameIndex

    index = FrameIndex.build(path)
    _check_frame_times(index)
    decoder = VideoDecoder(path, index, readahead=2)
    try:
        last = len(index) - 1
        for frame_no in sorted({0, last // 2, last, 1 % len(index), max(last - 1, 0)}):
            try:
                image = decoder.get_frame(frame_no, timeout=FRAME_TIMEOUT_S)
            except MediaError:
                event("frame refused")
                continue
            assert image.shape == (index.height, index.width, 3), image.shape
            event("frame decoded")
        decoder.request(last // 2, client="view")  # the asynchronous path too
        assert decoder.error is None or isinstance(decoder.error, MediaError)
    finally:
        decoder.close(timeout=FRAME_TIMEOUT_S)
    assert not decoder._thread.is_alive(), "the decoder thread outlived close()"


def _decode_audio(path: Path) -> None:
    from dyadlab.core.media.audio import decode_audio

    samples = decode_audio(path, sample_rate=16000, channels="mix")
    assert samples.dtype == np.float32 and np.all(np.isfinite(samples))


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", ["mp4", "avi", "mkv"])
def test_damaged_video_plays_what_is_left_or_says_why(kind: str, profile: str, hardening_media: dict[str, Path],
                                                      tmp_path: Path, thread_problems: _ThreadProblems) -> None:
    from dyadlab.core.media.probe import probe

    seed = hardening_media[kind].read_bytes()
    path = tmp_path / hardening_media[kind].name

    def check(data: bytes) -> None:
        path.write_bytes(data)
        outcome(lambda: probe(path), names=path)
        outcome(lambda: _decode_what_is_left(path), names=path)
        if kind == "mp4":
            outcome(lambda: _decode_audio(path), names=path)
        assert not thread_problems.found, thread_problems.found

    check(seed)
    fuzz(profile, damaged_video(seed), check, ci_examples=50)
