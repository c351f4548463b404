"""AudioReader: sample-exact windows by session time, channel selection, resampling, AAC in MP4, errors."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.media.audio import AudioReader, decode_audio, select_channels
from dyadlab.core.media.sync import sample_at
from dyadlab.core.media.synthetic import SineSpec, sine_samples


def expected(spec: SineSpec, rate: int, start: int, count: int) -> np.ndarray:
    """The analytic sine at ``rate`` for samples [start, start+count), zero outside the 6 s file."""
    resampled = SineSpec(spec.frequencies, rate, spec.amplitude)
    out = sine_samples(resampled, start, count)
    n = np.arange(start, start + count)
    out[(n < 0) | (n >= 6 * rate)] = 0
    return out


def test_windows_by_session_time_are_sample_exact(sine_wav):
    path, spec = sine_wav
    offset = 250_000
    with AudioReader(path, offset_us=offset, chunk_seconds=1.0) as reader:
        assert (reader.sample_rate, reader.source_channels, reader.channels) == (48_000, 2, 2)
        assert reader.num_samples == 6 * 48_000
        rng = np.random.default_rng(2)
        for _ in range(40):
            t0 = int(rng.integers(-500_000, 6_500_000))
            t1 = t0 + int(rng.integers(1, 1_500_000))
            window = reader.read(t0, t1)
            start = sample_at(t0, offset, 48_000)
            assert len(window) == sample_at(t1, offset, 48_000) - start
            np.testing.assert_allclose(window, expected(spec, 48_000, start, len(window)), atol=1e-4)
        # exactly at the track's start: the first sample of the file
        first = reader.read(offset, offset + 1_000)
        assert len(first) == 48 and abs(first[0, 0]) < 1e-4 and abs(first[1, 0] - expected(spec, 48_000, 1, 1)[0, 0]) < 1e-4


def test_adjacent_windows_tile_the_signal(sine_wav):
    path, _ = sine_wav
    with AudioReader(path, sample_rate=16_000, channels="mix", chunk_seconds=0.7) as reader:
        whole = reader.read(0, 6_000_000)
        pieces = [reader.read(t, t + 40_000) for t in range(0, 6_000_000, 40_000)]
        np.testing.assert_array_equal(np.concatenate(pieces), whole)
        assert len(whole) == 96_000


@pytest.mark.parametrize("channels, column", [(0, 0), (1, 1), ("mix", None), ([1, 0], [1, 0])])
def test_channel_selection_and_mix_at_16k(sine_wav, channels, column):
    path, spec = sine_wav
    with AudioReader(path, sample_rate=16_000, channels=channels, chunk_seconds=2.0) as reader:
        got = reader.read_samples(1234, 20_000)
        ref = expected(spec, 16_000, 1234, 20_000)
        ref = ref.mean(axis=1) if column is None else ref[:, column]
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, atol=2e-3)  # resampler ripple, far below audibility
        whole = reader.read_all()
        np.testing.assert_array_equal(got, whole[1234:21_234])  # random access equals one full pass


def test_channel_of_a_sine_has_its_frequency(sine_wav):
    path, _ = sine_wav
    right = decode_audio(path, sample_rate=16_000, channels=1, start_us=1_000_000, end_us=2_000_000)
    assert len(right) == 16_000
    spectrum = np.abs(np.fft.rfft(right))
    assert int(np.argmax(spectrum)) == 1000  # 1 Hz per bin over 1 s


def test_aac_track_of_a_video_decodes_with_the_right_frequencies(video_25):
    left = decode_audio(video_25.path, sample_rate=16_000, channels=0, start_us=1_000_000, end_us=2_000_000)
    right = decode_audio(video_25.path, sample_rate=16_000, channels=1, start_us=1_000_000, end_us=2_000_000)
    assert int(np.argmax(np.abs(np.fft.rfft(left)))) == 440
    assert int(np.argmax(np.abs(np.fft.rfft(right)))) == 1000
    # aligned in time: the best-matching shift against the analytic sine is within 2 samples (0.13 ms)
    errors = {lag: float(np.max(np.abs(left[20:-20] - expected(video_25.audio, 16_000, 16_020 + lag, 15_960)[:, 0])))
              for lag in range(-16, 17)}
    assert abs(min(errors, key=errors.get)) <= 2


def test_select_channels_shapes():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    assert select_channels(x, None).shape == (4, 3)
    assert select_channels(x, 2).tolist() == [2, 5, 8, 11]
    assert select_channels(x, "mix").tolist() == [1, 4, 7, 10]
    assert select_channels(x, [2, 0]).shape == (4, 2)
    with pytest.raises(ValueError):
        select_channels(x, "left")


def test_audio_errors(video_2997, broken_files, sine_wav):
    with pytest.raises(MediaError, match="no audio stream") as info:
        AudioReader(video_2997.path)
    assert str(video_2997.path) in str(info.value)
    with pytest.raises(MediaError, match="not found"):
        AudioReader(broken_files["missing"])
    with pytest.raises(MediaError, match="empty"):
        AudioReader(broken_files["empty"])
    with pytest.raises(MediaError, match="cannot open"):
        AudioReader(broken_files["garbage"])
    with pytest.raises(MediaError, match="channel 5 does not exist"):
        AudioReader(sine_wav[0], channels=5)


def test_a_header_that_declares_no_channels_is_a_media_error(tmp_path):
    """Found by the media fuzzer: a damaged header with 0 channels was read as NaN ("mean of empty slice")."""
    data = bytes(3200)
    fmt = struct.pack("<HHIIHH", 1, 0, 16000, 32000, 2, 16)  # PCM, 0 channels, 16 kHz
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path = tmp_path / "no_channels.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MediaError, match="declares no channels") as info:
            AudioReader(path, channels="mix")
    assert str(path) in str(info.value)
