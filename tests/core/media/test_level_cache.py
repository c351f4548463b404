"""The summary-level disk cache (waveform, spectrogram): read back only while it describes the same file
with the same parameters; a damaged entry is rebuilt, never an error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.level_cache import cached_build, reader_cache_file


def _build(reader: AudioReader, cache_dir: Path, params: dict, calls: list[str]) -> dict:
    def build() -> dict:
        calls.append("build")
        return {"n": 3, "level0": np.arange(3, dtype=np.float32)}

    return cached_build(cache_dir, reader, "test", params,
                        lambda meta, arrays: {"n": meta["n"], "level0": arrays["level0"]}, build,
                        lambda summary: ({"n": summary["n"]}, {"level0": summary["level0"]}))


def test_an_entry_is_read_only_for_the_same_file_and_parameters(sine_wav, tmp_path: Path) -> None:
    audio = tmp_path / "a.wav"
    shutil.copy(sine_wav[0], audio)
    cache, calls = tmp_path / "cache", []
    with AudioReader(audio, channels=1) as reader:
        first = _build(reader, cache, {"format": 1, "n_fft": 512}, calls)
        again = _build(reader, cache, {"format": 1, "n_fft": 512}, calls)
        assert calls == ["build"] and again["n"] == 3
        np.testing.assert_array_equal(again["level0"], first["level0"])
        _build(reader, cache, {"format": 1, "n_fft": 1024}, calls)  # other parameters: not the old entry
        assert calls == ["build", "build"]
        entry = reader_cache_file(cache, reader, "test")
        entry.write_bytes(entry.read_bytes()[:40])  # a torn entry is a miss, rebuilt
        assert _build(reader, cache, {"format": 1, "n_fft": 1024}, calls)["n"] == 3
        assert calls == ["build"] * 3
    stat = audio.stat()
    os.utime(audio, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # the file changed
    with AudioReader(audio, channels=1) as reader:
        _build(reader, cache, {"format": 1, "n_fft": 1024}, calls)
    assert calls == ["build"] * 4
