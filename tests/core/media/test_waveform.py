"""WaveformPyramid: every bin's min/max equals a brute-force scan of the samples it covers."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.sync import sample_at
from dyadlab.core.media.waveform import WaveformPyramid

RATE = 8_000


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    rng = np.random.default_rng(4)
    n = 1_234_567  # ~154 s at 8 kHz: five pyramid levels, a ragged end
    x = rng.normal(0, 0.2, n).astype(np.float32)
    x[500_000:500_003] = [3.0, -2.5, 0.5]  # single-sample peaks must survive summarising
    return x


def brute_force(x: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mins = np.array([x[a:b].min() if b > a else np.nan for a, b in zip(edges[:-1], edges[1:], strict=True)])
    maxs = np.array([x[a:b].max() if b > a else np.nan for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return mins.astype(np.float32), maxs.astype(np.float32)


def test_minmax_equals_brute_force_at_every_zoom(signal):
    offset = 2_000_000
    pyramid = WaveformPyramid.from_samples(signal, RATE, offset_us=offset)
    assert len(pyramid.level_mins) >= 5
    rng = np.random.default_rng(0)
    cases = [(offset, offset + len(signal) * 125, 1000), (offset, offset + 1_000, 800)]  # all / very zoomed in
    for _ in range(60):
        t0 = offset + int(rng.integers(-1_000_000, len(signal) * 125))
        t1 = t0 + int(rng.integers(1_000, 160_000_000))
        cases.append((t0, t1, int(rng.integers(1, 3000))))
    for t0, t1, n in cases:
        bins = pyramid.minmax(t0, t1, n)
        assert len(bins.mins) == len(bins.maxs) == n and len(bins.edges) == n + 1
        assert np.all(np.diff(bins.edges) >= 0)
        s0, s1 = (min(max(sample_at(t, offset, RATE), 0), len(signal)) for t in (t0, t1))
        assert abs(int(bins.edges[0]) - s0) < 16 ** 5 and abs(int(bins.edges[-1]) - s1) < 16 ** 5
        mins, maxs = brute_force(signal, bins.edges)
        np.testing.assert_array_equal(bins.mins, mins)
        np.testing.assert_array_equal(bins.maxs, maxs)


def test_peaks_show_up_in_an_overview(signal):
    bins = WaveformPyramid.from_samples(signal, RATE).minmax(0, len(signal) * 125, 300)
    assert float(np.nanmax(bins.maxs)) == 3.0 and float(np.nanmin(bins.mins)) == -2.5


def test_built_from_a_reader_equals_from_samples_and_is_cached(sine_wav, tmp_path):
    path, _ = sine_wav
    with AudioReader(path, channels=1, offset_us=-50_000) as reader:
        direct = WaveformPyramid.from_samples(reader.read_all(), reader.sample_rate, offset_us=-50_000)
        built = WaveformPyramid.build(reader, cache_dir=tmp_path)
        cached = WaveformPyramid.build(reader, cache_dir=tmp_path)
        assert len(list(tmp_path.glob("*.wave.npz"))) == 1
        for pyramid in (built, cached):
            assert pyramid.num_samples == direct.num_samples
            for t0, t1, n in [(0, 6_000_000, 640), (1_000_000, 1_000_500, 200), (-50_000, 100_000, 7)]:
                a, b = pyramid.minmax(t0, t1, n), direct.minmax(t0, t1, n)
                np.testing.assert_array_equal(a.edges, b.edges)
                np.testing.assert_array_equal(a.mins, b.mins)
                np.testing.assert_array_equal(a.maxs, b.maxs)
        assert built.minmax(-50_000, 100_000, 3).edges_us[0] == -50_000
    with AudioReader(path) as stereo, pytest.raises(ValueError, match="mono"):
        WaveformPyramid.build(stereo)


def test_an_hour_queries_fast():
    import time

    minute = np.zeros(8_000 * 60, dtype=np.float32)
    minute[::1000] = 1.0
    pyramid = WaveformPyramid.from_blocks((minute for _ in range(60)), 8_000)  # one hour, never in memory
    assert pyramid.num_samples == 8_000 * 3600
    start = time.perf_counter()
    for k in range(20):
        bins = pyramid.minmax(k * 60_000_000, 3_600_000_000, 1920)
    per_query = (time.perf_counter() - start) / 20
    assert per_query < 0.01 and np.nanmax(bins.maxs) == 1.0
