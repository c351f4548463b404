"""SpectrogramPyramid: tones land in the right mel band at the right time, at every level, and a view picks
the coarsest level with a column per pixel."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dyadlab.core.media import spectrogram as sp
from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.spectrogram import TILE_COLUMNS, SpectrogramPyramid, TileKey, mel_band_of

RATE = 16_000
S = 1_000_000


def tone(hz: float, seconds: float, rate: int = RATE) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def loudest_band(db: np.ndarray) -> np.ndarray:
    return np.argmax(db, axis=1)


@pytest.mark.parametrize("hz", [250.0, 1000.0, 3000.0])
def test_a_sine_shows_in_its_mel_band_at_every_level(hz: float) -> None:
    pyramid = SpectrogramPyramid.from_samples(tone(hz, 12.0), RATE)
    band = mel_band_of(hz, RATE)
    assert 0 < band < sp.N_MELS - 1
    assert len(pyramid.levels) >= 3  # base 10 ms, 40 ms, 160 ms …
    for level in range(pyramid.level_count):
        tile = pyramid.tile(TileKey(level, 0))
        inner = tile.db[2:-2] if len(tile.db) > 4 else tile.db
        assert np.all(np.abs(loudest_band(inner) - band) <= 1), level
        assert inner.max() - np.median(inner) > 30  # one bright row on a dark picture


def test_a_chirp_rises_through_the_bands_in_time() -> None:
    f0, f1, seconds = 200.0, 6000.0, 8.0
    t = np.arange(int(seconds * RATE)) / RATE
    chirp = (0.5 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * seconds) * t ** 2))).astype(np.float32)
    pyramid = SpectrogramPyramid.from_samples(chirp, RATE, offset_us=3 * S)
    for at in (1.0, 4.0, 7.0):  # session time 3 s later (the offset)
        key = pyramid.tiles_for(round((3 + at) * S), round((3 + at + 0.1) * S), 100)[0]
        tile = pyramid.tile(key)
        column = int((at + 3 - tile.t0_us / S) / ((tile.t1_us - tile.t0_us) / S / len(tile.db)))
        expected = mel_band_of(f0 + (f1 - f0) * at / seconds, RATE)
        assert abs(int(loudest_band(tile.db[column:column + 1])[0]) - expected) <= 1, at


def test_a_burst_is_found_at_its_time_in_base_columns() -> None:
    x = np.zeros(6 * RATE, np.float32)
    x[2 * RATE:int(2.5 * RATE)] = tone(1000.0, 0.5)
    pyramid = SpectrogramPyramid.from_samples(x, RATE)
    base = pyramid.levels[0].astype(np.float32)
    loud = np.flatnonzero(base.max(axis=1) > pyramid.peak_db - 20)
    hop_s = pyramid.hop(1) / RATE
    assert loud[0] * hop_s == pytest.approx(2.0, abs=0.02)  # within the 32 ms window's reach
    assert (loud[-1] + 1) * hop_s == pytest.approx(2.5, abs=0.02)
    assert np.all(np.diff(loud) == 1)


def test_streaming_any_block_sizes_equals_the_whole_signal() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.1, 5 * RATE + 77).astype(np.float32)
    cuts = np.sort(rng.integers(0, len(x), 9))
    streamed = SpectrogramPyramid.from_blocks(np.split(x, cuts), RATE, raw=lambda start, count: sp._slice_padded(
        x, start, count))
    whole = sp.log_mel(x, RATE, streamed.base_hop)
    assert streamed.num_samples == len(x) and len(whole) == streamed.columns(1) == -(-len(x) // 160)
    np.testing.assert_allclose(streamed.levels[0].astype(np.float32), whole, atol=0.05)  # float16 storage
    pooled = sp.pool_db(whole)
    np.testing.assert_allclose(streamed.levels[1].astype(np.float32), pooled, atol=0.05)
    fine = streamed.tile(TileKey(0, 2))  # computed now, from the raw samples
    np.testing.assert_allclose(fine.db, sp.log_mel(x, RATE, streamed.hop(0), first_column=2 * TILE_COLUMNS,
                                                   columns=TILE_COLUMNS), atol=1e-3)


def test_the_view_picks_the_coarsest_level_with_a_column_per_pixel() -> None:
    session = 600 * S
    base = np.zeros((600 * 100, sp.N_MELS), np.float16)  # ten minutes of 10 ms columns (levels as a build makes)
    pyramid = SpectrogramPyramid(sp._with_coarser_levels(base), 600 * RATE, RATE,
                                 raw=lambda start, count: np.zeros(count, np.float32))
    hops_s = [pyramid.hop(level) / RATE for level in range(pyramid.level_count)]
    assert hops_s[:3] == [0.0025, 0.01, 0.04]
    for span_s, n_px in [(600, 1200), (600, 100), (20, 1100), (5, 1100), (0.5, 1100), (0.01, 800)]:
        level = pyramid.level_for(0, round(span_s * S), n_px)
        per_px = span_s / n_px
        assert hops_s[level] <= per_px or level == 0
        assert level + 1 == pyramid.level_count or hops_s[level + 1] > per_px
    whole = pyramid.tiles_for(0, session, 1200)
    assert 0 < len(whole) <= sp.FACTOR * 1200 // TILE_COLUMNS + 1  # the session in a handful of tiles
    assert [k.index for k in whole] == list(range(len(whole))) and {k.level for k in whole} == {3}  # 0.16 s
    assert pyramid.level_for(0, 5 * S, 1100) == 0  # zoomed in: finer than the kept base
    keys = pyramid.tiles_for(round(100.3 * S), round(105.3 * S), 1100)  # level 0: 0.64 s per tile
    spans = [pyramid.tile(k) for k in keys]
    assert spans[0].t0_us <= 100.3 * S < spans[0].t1_us and spans[-1].t0_us < 105.3 * S <= spans[-1].t1_us
    assert all(a.t1_us == b.t0_us for a, b in zip(spans, spans[1:], strict=False))
    assert pyramid.tiles_for(session + S, session + 2 * S, 100) == []  # past the end


def test_without_raw_samples_the_base_is_the_finest_level() -> None:
    pyramid = SpectrogramPyramid.from_blocks([tone(500.0, 3.0)], RATE)
    assert pyramid.level_for(0, S // 10, 1000) == 1
    with pytest.raises(ValueError, match="level 0"):
        pyramid.tile(TileKey(0, 0))
    with pytest.raises(ValueError, match="no spectrogram tile"):
        pyramid.tile(TileKey(1, 99))


def test_built_from_a_reader_matches_and_is_cached_on_disk(sine_wav, tmp_path, monkeypatch) -> None:
    path, _ = sine_wav  # 440 Hz left, 1000 Hz right, 48 kHz
    with AudioReader(path, sample_rate=RATE, channels=1, offset_us=-50_000) as reader:
        direct = SpectrogramPyramid.from_samples(reader.read_all(), RATE, offset_us=-50_000)
        built = SpectrogramPyramid.build(reader, cache_dir=tmp_path)
        assert len(list(tmp_path.glob("*.mel.npz"))) == 1
        monkeypatch.setattr(SpectrogramPyramid, "from_blocks", lambda *a, **k: pytest.fail("not from the cache"))
        cached = SpectrogramPyramid.build(reader, cache_dir=tmp_path)
        for pyramid in (built, cached):
            assert pyramid.num_samples == direct.num_samples and pyramid.offset_us == -50_000
            for a, b in zip(pyramid.levels, direct.levels, strict=True):
                np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=0.05)
            assert abs(int(np.median(loudest_band(pyramid.tile(TileKey(0, 3)).db))) - mel_band_of(1000.0, RATE)) <= 1
        assert cached.tile(TileKey(1, 0)).t0_us == -50_000
    with AudioReader(path) as stereo, pytest.raises(ValueError, match="mono"):
        SpectrogramPyramid.build(stereo)


def test_a_cancelled_build_stops_between_blocks() -> None:
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(sp.BuildCancelled):
        SpectrogramPyramid.from_blocks((tone(300.0, 1.0) for _ in range(10)), RATE, cancelled=cancelled)
    assert len(asked) == 3


def test_computing_needs_no_torch() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"  # any import of torch now fails
            "import numpy as np\n"
            "from dyadlab.core.media import spectrogram as sp\n"
            "p = sp.SpectrogramPyramid.from_samples(np.ones(20000, np.float32), 16000)\n"
            "print(p.tile(sp.TileKey(0, 0)).db.shape)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"({TILE_COLUMNS}, {sp.N_MELS})"
