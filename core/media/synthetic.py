"""Synthetic media whose pixels spell their frame number, for tests, benchmarks and demos.

Frame-exact seeking can only be proven when every decoded picture says which frame it is. Each frame
here carries a 16-bit code drawn as a 4×4 grid of black/white blocks (bit 0 top-left, row-major):
large flat blocks survive lossy H.264/MJPEG compression, so ``read_code`` recovers the number from any
decoded RGB image. ``split=True`` draws two codes side by side (left: ``n``, right: ``n ^ 0xFFFF``) so a
split-screen file can prove that each crop shows its own half. Audio is a sine per channel with a known
frequency, so sample-accurate windows and channel selection can be checked against a formula.

Writers use PyAV only (no ffmpeg CLI), set every pts explicitly and take the time base as given, so a
test controls 25 fps, 29.97 fps (1/30000, steps of 1001) and variable frame rate exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

CODE_BITS = 16
_GRID = 4  # 4×4 blocks
WHITE, BLACK = 235, 16  # video-range levels: no clipping surprises after YUV round trips


def draw_code(image: np.ndarray, value: int, x: int, y: int, width: int, height: int) -> None:
    """Draw ``value`` (16 bits) as a 4×4 block grid into ``image[y:y+height, x:x+width]`` (in place)."""
    bw, bh = width // _GRID, height // _GRID
    for bit in range(CODE_BITS):
        r, c = divmod(bit, _GRID)
        level = WHITE if (value >> bit) & 1 else BLACK
        image[y + r * bh: y + (r + 1) * bh, x + c * bw: x + (c + 1) * bw] = level


def read_code(image: np.ndarray, x: int = 0, y: int = 0, width: int | None = None,
              height: int | None = None) -> int:
    """Read the code drawn by ``draw_code`` from an RGB (or grey) image region (default: the whole image)."""
    width = image.shape[1] - x if width is None else width
    height = image.shape[0] - y if height is None else height
    bw, bh = width / _GRID, height / _GRID
    value = 0
    for bit in range(CODE_BITS):
        r, c = divmod(bit, _GRID)
        # sample the middle half of the block: edges blur under compression and scaling
        y0, y1 = int(y + (r + 0.25) * bh), max(int(y + (r + 0.75) * bh), int(y + (r + 0.25) * bh) + 1)
        x0, x1 = int(x + (c + 0.25) * bw), max(int(x + (c + 0.75) * bw), int(x + (c + 0.25) * bw) + 1)
        if float(np.mean(image[y0:y1, x0:x1])) > (WHITE + BLACK) / 2:
            value |= 1 << bit
    return value


def split_codes(frame_no: int) -> tuple[int, int]:
    """The (left, right) codes a split-screen synthetic frame carries."""
    return frame_no & 0xFFFF, (frame_no & 0xFFFF) ^ 0xFFFF


@dataclass(frozen=True)
class SineSpec:
    """Audio to mux or write: one sine per channel (Hz), at ``sample_rate``, ``amplitude`` of full scale."""

    frequencies: tuple[float, ...] = (440.0,)
    sample_rate: int = 48_000
    amplitude: float = 0.5
    codec: str | None = None  # None: pcm_s16le for .wav/.mkv/.mov, aac for .mp4


def sine_samples(spec: SineSpec, start: int, count: int) -> np.ndarray:
    """Samples ``[start, start+count)`` of ``spec`` as float32, shape (count, channels)."""
    n = np.arange(start, start + count, dtype=np.float64)[:, None]
    freqs = np.asarray(spec.frequencies, dtype=np.float64)[None, :]
    return (spec.amplitude * np.sin(2 * np.pi * freqs * n / spec.sample_rate)).astype(np.float32)


def regular_pts(count: int, step: int, start: int = 0) -> list[int]:
    """``count`` evenly spaced pts (constant frame rate)."""
    return [start + i * step for i in range(count)]


def _texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth, detailed texture twice the frame size that frames pan across (realistic encoder load)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:2 * height, 0:2 * width].astype(np.float32)
    tex = 128 + 50 * np.sin(xx / 23.0) * np.cos(yy / 17.0) + 30 * np.sin((xx + yy) / 41.0)
    tex = tex[..., None] + rng.normal(0, 6, size=(2 * height, 2 * width, 3)).astype(np.float32)
    tex[..., 1] *= 0.9
    return np.clip(tex, 0, 255).astype(np.uint8)


def _audio_codec(path: Path, spec: SineSpec) -> str:
    if spec.codec:
        return spec.codec
    return "aac" if path.suffix.lower() in {".mp4", ".m4a"} else "pcm_s16le"


def _mux_audio(container, stream, spec: SineSpec, total_samples: int, block: int = 1024) -> None:
    import av

    layout = {1: "mono", 2: "stereo"}.get(len(spec.frequencies), f"{len(spec.frequencies)}c")
    for start in range(0, total_samples, block):
        count = min(block, total_samples - start)
        data = sine_samples(spec, start, count)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data.T), format="fltp", layout=layout)
        frame.sample_rate = spec.sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, spec.sample_rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def _add_audio_stream(container, path: Path, spec: SineSpec):
    layout = {1: "mono", 2: "stereo"}.get(len(spec.frequencies), f"{len(spec.frequencies)}c")
    stream = container.add_stream(_audio_codec(path, spec), rate=spec.sample_rate)
    stream.layout = layout
    return stream


def write_test_video(path: str | Path, pts: Sequence[int], time_base: Fraction, *,
                     size: tuple[int, int] = (160, 120), codec: str = "libx264", gop: int = 12,
                     bframes: int = 2, crf: int = 20, preset: str = "veryfast", split: bool = False,
                     textured: bool = False, code_size: int | None = None, audio: SineSpec | None = None,
                     faststart: bool = True, seed: int = 0) -> Path:
    """Encode one frame per ``pts`` (in ``time_base``); frame ``i`` carries code ``i``.

    ``textured`` pans a noisy texture behind a ``code_size``-pixel code square (benchmarks: realistic
    bitrate); otherwise the code fills the frame. ``audio`` adds a sine track as long as the video.
    """
    import av

    path = Path(path)
    width, height = size
    tb = Fraction(time_base)
    options = {"movflags": "+faststart"} if faststart and path.suffix.lower() in {".mp4", ".mov"} else {}
    tex = _texture(width, height, seed) if textured else None
    frame_step = (pts[1] - pts[0]) if len(pts) > 1 else 1
    rate = Fraction(1, 1) / (tb * frame_step)
    with av.open(str(path), "w", options=options) as out:
        vs = out.add_stream(codec, rate=rate.limit_denominator(1_000_000))
        vs.width, vs.height = width, height
        vs.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        vs.time_base = tb
        vs.codec_context.time_base = tb
        if codec == "libx264":
            vs.options = {"g": str(gop), "keyint_min": str(gop), "bf": str(bframes), "crf": str(crf),
                          "preset": preset, "sc_threshold": "0"}
        elif codec == "mpeg4":  # DivX-style AVI (IEMOCAP)
            vs.options = {"g": str(gop), "bf": str(bframes), "qscale": "3"}
        elif codec == "mjpeg":
            vs.options = {"q:v": "3"}
        aus = _add_audio_stream(out, path, audio) if audio is not None else None
        image = np.empty((height, width, 3), dtype=np.uint8)
        for i, p in enumerate(pts):
            if tex is not None:
                ox, oy = (i * 7) % width, (i * 3) % height
                image[:] = tex[oy:oy + height, ox:ox + width]
                side = code_size or min(width, height) // 3
                draw_code(image, i, 0, 0, side, side)
            elif split:
                left, right = split_codes(i)
                draw_code(image, left, 0, 0, width // 2, height)
                draw_code(image, right, width // 2, 0, width - width // 2, height)
            else:
                draw_code(image, i, 0, 0, width, height)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = int(p)
            frame.time_base = tb
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        if aus is not None and len(pts):
            last = pts[-1] + frame_step
            seconds = Fraction(last - pts[0]) * tb
            _mux_audio(out, aus, audio, int(seconds * audio.sample_rate))
    return path


def write_test_audio(path: str | Path, spec: SineSpec, seconds: float) -> Path:
    """Write ``seconds`` of ``spec`` (one sine per channel) to an audio-only file."""
    import av

    path = Path(path)
    with av.open(str(path), "w") as out:
        stream = _add_audio_stream(out, path, spec)
        _mux_audio(out, stream, spec, int(round(seconds * spec.sample_rate)))
    return path
