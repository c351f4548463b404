"""Test media for the media engine, generated once per run: every frame's pixels spell its number.

Small (160×120) so the whole media suite stays fast; the frame rates and time bases are the ones real
corpora use: 25 fps (MP4 1/12800), 29.97 fps (1/30000, steps of 1001), variable frame rate (irregular
pts), a long GOP, a split-screen file, WAV and AAC audio, and broken files made from good ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.media.synthetic import SineSpec, regular_pts, write_test_audio, write_test_video

US = 1_000_000


@dataclass(frozen=True)
class GeneratedVideo:
    """A generated file and the truth about it: raw pts, time base, expected µs times (rounded up)."""

    path: Path
    pts: tuple[int, ...]
    time_base: Fraction
    audio: SineSpec | None = None

    @property
    def times_us(self) -> np.ndarray:
        first = self.pts[0]
        return np.array([-((-(p - first) * self.time_base.numerator * US) // self.time_base.denominator)
                         for p in self.pts], dtype=np.int64)

    def expected_frame(self, t_us: int) -> int:
        """Brute force: the last frame whose exact (rational) pts is <= t, clamped."""
        first = self.pts[0]
        exact = [Fraction(p - first) * self.time_base * US for p in self.pts]
        shown = [i for i, e in enumerate(exact) if e <= t_us]
        return shown[-1] if shown else 0


def _vfr_pts(count: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    steps = rng.integers(15, 90, count - 1)  # 11–67 fps, in ms
    return [0, *np.cumsum(steps).tolist()]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def video_25(media_dir: Path) -> GeneratedVideo:
    """25 fps, 120 frames, GOP 12 with B-frames, stereo AAC (440 Hz left, 1000 Hz right)."""
    pts, tb = regular_pts(120, 512), Fraction(1, 12800)
    audio = SineSpec((440.0, 1000.0), 48_000)
    path = write_test_video(media_dir / "v25.mp4", pts, tb, audio=audio)
    return GeneratedVideo(path, tuple(pts), tb, audio)


@pytest.fixture(scope="session")
def video_2997(media_dir: Path) -> GeneratedVideo:
    """29.97 fps (time base 1/30000, pts steps of 1001), 100 frames, no audio."""
    pts, tb = regular_pts(100, 1001), Fraction(1, 30000)
    return GeneratedVideo(write_test_video(media_dir / "v2997.mp4", pts, tb), tuple(pts), tb)


@pytest.fixture(scope="session")
def video_vfr(media_dir: Path) -> GeneratedVideo:
    """Variable frame rate in Matroska (ms time base), 90 frames."""
    pts, tb = _vfr_pts(90, 3), Fraction(1, 1000)
    return GeneratedVideo(write_test_video(media_dir / "vfr.mkv", pts, tb), tuple(pts), tb)


@pytest.fixture(scope="session")
def video_vfr_mp4(media_dir: Path) -> GeneratedVideo:
    """Variable frame rate in MP4 with a 1/90000 time base, 80 frames."""
    pts, tb = [p * 90 for p in _vfr_pts(80, 11)], Fraction(1, 90000)
    return GeneratedVideo(write_test_video(media_dir / "vfr.mp4", pts, tb), tuple(pts), tb)


@pytest.fixture(scope="session")
def video_avi(media_dir: Path) -> GeneratedVideo:
    """DivX-style MPEG-4 Part 2 in AVI at 29.97 fps with B-frames (IEMOCAP's format), 80 frames."""
    pts, tb = regular_pts(80, 1), Fraction(1001, 30000)
    return GeneratedVideo(write_test_video(media_dir / "divx.avi", pts, tb, codec="mpeg4", gop=12, bframes=2),
                          tuple(pts), tb)


@pytest.fixture(scope="session")
def video_long_gop(media_dir: Path) -> GeneratedVideo:
    """25 fps with one keyframe every 75 frames (seeks must decode forward), 200 frames."""
    pts, tb = regular_pts(200, 1), Fraction(1, 25)
    return GeneratedVideo(write_test_video(media_dir / "gop75.mp4", pts, tb, gop=75, bframes=3), tuple(pts), tb)


@pytest.fixture(scope="session")
def video_split(media_dir: Path) -> GeneratedVideo:
    """320×120 split screen: left half shows code n, right half n ^ 0xFFFF; 60 frames at 25 fps."""
    pts, tb = regular_pts(60, 512), Fraction(1, 12800)
    return GeneratedVideo(write_test_video(media_dir / "split.mp4", pts, tb, size=(320, 120), split=True), tuple(pts), tb)


@pytest.fixture(scope="session")
def sine_wav(media_dir: Path) -> tuple[Path, SineSpec]:
    """6 s of stereo 48 kHz PCM: 440 Hz left, 1000 Hz right."""
    spec = SineSpec((440.0, 1000.0), 48_000)
    return write_test_audio(media_dir / "sine.wav", spec, 6.0), spec


@pytest.fixture(scope="session")
def broken_files(media_dir: Path, video_25: GeneratedVideo) -> dict[str, Path]:
    """Bad inputs made from a good MP4 (and MKV): zero bytes, truncated, corrupt middle, audio-only."""
    out: dict[str, Path] = {}
    pts, tb = regular_pts(100, 512), Fraction(1, 12800)
    mkv = write_test_video(media_dir / "good.mkv", pts, tb)
    for name, source in (("mp4", video_25.path), ("mkv", mkv)):
        data = source.read_bytes()
        out[f"truncated_{name}"] = media_dir / f"truncated.{name}"
        out[f"truncated_{name}"].write_bytes(data[: len(data) // 2])
        damaged = bytearray(data)
        mid = len(damaged) // 2
        damaged[mid:mid + 3000] = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
        out[f"corrupt_{name}"] = media_dir / f"corrupt.{name}"
        out[f"corrupt_{name}"].write_bytes(bytes(damaged))
    out["empty"] = media_dir / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["garbage"] = media_dir / "garbage.mp4"
    out["garbage"].write_bytes(np.random.default_rng(1).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    out["audio_only"] = write_test_audio(media_dir / "voice.wav", SineSpec((300.0,), 16_000), 1.0)
    out["missing"] = media_dir / "does_not_exist.mp4"
    return out
