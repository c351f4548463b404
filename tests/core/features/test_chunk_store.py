"""Cache format 2 (issue 22): every kind round-trips within its codec's tolerance, a 10 s window reads only its
blocks, chunks are written atomically and identically, time chunks assemble into one result, format-1 results
are read and rebuilt with a message, and ``dyadlab cache`` reports bytes per feature and drops one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.features import CacheMiss, FeatureStore
from dyadlab.core.features.array_codecs import (
    BLOCK_ROWS,
    STORAGE,
    Fixed16Codec,
    Float16Codec,
    Quant8Codec,
    Quant8RowsCodec,
    RawCodec,
    WindowTapeCodec,
    codec_from_spec,
)
from dyadlab.core.features.cache import ARRAY_KINDS, MANIFEST, FeatureCache, old_format_message
from dyadlab.core.features.chunk_store import ChunkError, ChunkFile, chunk_path
from dyadlab.core.features.crop_codec import JpegCodec

N = 2 * BLOCK_ROWS + 100  # three blocks, the last one short
F16_REL = 2.0 ** -11


def _round_trip(codec, block: np.ndarray) -> np.ndarray:
    payload = memoryview(codec.encode(block))
    whole = codec.decode(payload, len(block), block.shape[1:], block.dtype)
    picked = codec.decode_rows(payload, len(block), block.shape[1:], block.dtype, np.array([len(block) - 1, 0]))
    np.testing.assert_array_equal(picked, whole[[len(block) - 1, 0]])  # rows read alone = the same rows
    assert whole.dtype == block.dtype and whole.shape == block.shape
    return whole


def _smooth_face(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.stack([np.sin(6 * x + k) * np.cos(4 * y - k) for k in range(3)], axis=-1)
    return np.clip(128 + 90 * base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)


def test_exact_codec_keeps_every_bit() -> None:
    rng = np.random.default_rng(0)
    block = rng.normal(size=(40, 3, 2)).astype(np.float32)
    block[3, 1, 0] = np.nan
    for codec in (RawCodec(compress=True), RawCodec(compress=False)):
        np.testing.assert_array_equal(_round_trip(codec, block), block)


def test_float16_keeps_relative_precision_in_columns_beyond_its_range() -> None:
    rng = np.random.default_rng(1)
    scales = np.array([1e-4, 1.0, 3e4, 6e12])  # ComParE has columns up to ~1e13: plain float16 overflows at 65504
    block = (rng.normal(size=(50, 4)) * scales).astype(np.float32)
    block[7, 2] = np.nan
    out = _round_trip(Float16Codec(), block)
    assert np.isnan(out[7, 2]) and np.isfinite(np.delete(out.ravel(), 7 * 4 + 2)).all()
    ok = ~np.isnan(block)
    tolerance = F16_REL * np.abs(block) + np.nanmax(np.abs(block), axis=0) * 2.0 ** -28
    assert np.all(np.abs(out - block)[ok] <= tolerance[ok])
    np.testing.assert_array_equal(_round_trip(Float16Codec(compress=True), block), out)


def test_eight_bit_error_is_at_most_half_a_step_and_zero_rows_stay_zero() -> None:
    rng = np.random.default_rng(2)
    block = (rng.normal(size=(60, 5)) * [1, 10, 1e6, 1e-3, 5] + [0, 100, 1e6, 0, -5]).astype(np.float32)
    block[10] = 0.0  # a frame without valid audio: all zeros, must not widen the ranges
    block[11, 2] = np.nan
    out = _round_trip(Quant8Codec(), block)
    rest = np.delete(np.arange(60), 10)
    span = np.nanmax(block[rest], 0) - np.nanmin(block[rest], 0)
    ok = ~np.isnan(block[rest])
    err = np.abs(out[rest] - block[rest])
    tolerance = span[None, :] / 508 * (1 + 1e-5) + 1e-7 * np.abs(block[rest])
    assert np.all(err[ok] <= tolerance[ok])
    assert np.all(out[10] == 0) and np.isnan(out[11, 2])
    np.testing.assert_array_equal(_round_trip(Quant8Codec(compress=True), block), out)  # log-mel's variant


def _functionals(rng: np.random.Generator, rows: int = 120, cols: int = 1000) -> np.ndarray:
    """ComParE-like frames: skewed columns (energies, ranges: most values low, a few far out) on very different
    scales, so most 8-bit codes sit near the column's median as in real ComParE."""
    return (np.exp(rng.normal(0, 1.5, (rows, cols))) * 10.0 ** rng.uniform(-3, 6, cols)).astype(np.float32)


def test_row_compressed_eight_bit_reads_the_very_values_of_plain_eight_bit_in_fewer_bytes() -> None:
    rng = np.random.default_rng(12)
    block = _functionals(rng)
    block[10] = 0.0  # no valid audio
    block[11, 2] = np.nan
    plain = _round_trip(Quant8Codec(), block)
    rows = _round_trip(Quant8RowsCodec(), block)
    np.testing.assert_array_equal(rows.view(np.uint32), plain.view(np.uint32))  # bit for bit, NaN included
    scattered = np.array([119, 10, 3, 3, 64])  # a training batch's rows, in any order, repeats allowed
    payload = memoryview(Quant8RowsCodec().encode(block))
    picked = Quant8RowsCodec().decode_rows(payload, len(block), block.shape[1:], block.dtype, scattered)
    np.testing.assert_array_equal(picked.view(np.uint32), plain[scattered].view(np.uint32))
    assert len(payload) < 0.85 * len(Quant8Codec().encode(block))


def test_chunks_written_with_the_previous_storage_read_exactly_as_before(tmp_path: Path, monkeypatch) -> None:
    """Each chunk names its codecs, so a cache written before ComParE's and the crops' storage changed (plain
    8-bit, JPEG q90, fixed point deflated at level 1) reads the very values it stored, beside new chunks."""
    from dyadlab.core.features.chunk_store import EncodedArray, write_chunk_file

    rng = np.random.default_rng(13)
    compare = _functionals(rng, 30, 200)
    crops = np.stack([_smooth_face(rng, 32) for _ in range(30)])
    points = np.cumsum(rng.normal(0, 2, (30, 10, 3)), axis=0).astype(np.float32)
    old_fixed = Fixed16Codec(bits=1)
    monkeypatch.setattr(old_fixed, "LEVEL", 1)
    old = {"compare": (Quant8Codec(), compare), "crops": (JpegCodec(90), crops), "landmarks": (old_fixed, points)}
    path = write_chunk_file(tmp_path / "c000000.dlc", {n: EncodedArray.of(c, a) for n, (c, a) in old.items()},
                            first_row=0, rows=30)
    new = {"compare": Quant8RowsCodec(), "crops": JpegCodec(int(STORAGE[("faces", "crops")]["quality"])),
           "landmarks": Fixed16Codec(bits=1)}
    assert STORAGE[("audio", "compare")] == new["compare"].spec() != old["compare"][0].spec()
    assert STORAGE[("faces", "crops")] == new["crops"].spec() != old["crops"][0].spec()
    chunk = ChunkFile(path)
    for name, (codec, array) in old.items():
        assert chunk.arrays[name]["codec"] == codec.spec()  # the header names the codec that wrote it
        before = codec.decode(memoryview(codec.encode(array)), len(array), array.shape[1:], array.dtype)
        np.testing.assert_array_equal(chunk.decode_block(name, 0), before)
        newer = new[name].decode(memoryview(new[name].encode(array)), len(array), array.shape[1:], array.dtype)
        if name != "crops":  # the new storage reads the same values (lossless changes)
            np.testing.assert_array_equal(newer, before)
    assert len(old_fixed.encode(points)) > len(Fixed16Codec(bits=1).encode(points))  # level 6: fewer bytes


def test_a_chunk_naming_an_unknown_codec_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown cache codec 'q9'.*newer DyadLab"):
        codec_from_spec({"name": "q9"})


def test_fixed_point_coordinates_keep_nan_and_fractions_of_a_pixel() -> None:
    rng = np.random.default_rng(3)
    block = np.cumsum(rng.normal(0, 2, size=(80, 478, 3)), axis=0).astype(np.float32) + 640
    block[5:9] = np.nan  # frames without a face
    out = _round_trip(Fixed16Codec(bits=2), block)
    assert np.array_equal(np.isnan(out), np.isnan(block))
    assert np.nanmax(np.abs(out - block)) <= 0.125 + 1e-4


def test_window_tape_is_lossless_for_pcm_and_float16_otherwise() -> None:
    rng = np.random.default_rng(4)
    pcm = (rng.integers(-20000, 20000, 16000) / 32768).astype(np.float32)
    starts = np.r_[np.arange(0, 8000, 640), np.arange(9000, 14000, 640)]  # a gap: windows that do not overlap
    windows = np.stack([pcm[s:s + 1600] for s in starts])
    windows[3] = 0.0  # an invalid frame
    codec = WindowTapeCodec()
    np.testing.assert_array_equal(_round_trip(codec, windows), windows)
    assert len(codec.encode(windows)) < 0.5 * windows.size * 2  # the overlap is stored once
    resampled = windows * np.float32(0.7123)  # not 16-bit samples any more
    out = _round_trip(codec, resampled)
    assert np.max(np.abs(out - resampled)) <= F16_REL * np.abs(resampled).max()


def test_jpeg_crops_are_close_and_empty_crops_cost_nothing() -> None:
    rng = np.random.default_rng(5)
    crops = np.stack([_smooth_face(rng) for _ in range(12)])
    crops[4] = 0  # no face
    codec = JpegCodec(90)
    out = _round_trip(codec, crops)
    assert np.all(out[4] == 0)
    assert np.abs(out.astype(int) - crops).mean() < 3.0
    one_less = codec.encode(np.delete(crops, 4, axis=0))
    assert len(codec.encode(crops)) - len(one_less) == 4  # the empty crop's 4-byte offset only


# -- results through the store ---------------------------------------------------------------------------------

def _arrays(rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """Arrays of the three tasks with their real layouts (crops 32 px), N frames."""
    from dyadlab.core.features.audio_features import log_mel_and_mfcc

    times = np.arange(N, dtype=np.int64) * 40_000
    valid = rng.random(N) > 0.1
    crops = np.stack([_smooth_face(rng, 32) for _ in range(N)])
    crops[~valid] = 0
    signal = (rng.integers(-8000, 8000, N * 640 + 1600) / 32768).astype(np.float32)
    windows = np.stack([signal[i * 640:i * 640 + 1600] for i in range(N)])
    logmel, mfcc = log_mel_and_mfcc(windows)
    u = 7
    return {
        "faces": {"crops": crops, "landmarks": (rng.normal(300, 50, (N, 478, 3))).astype(np.float32),
                  "boxes": rng.normal(200, 20, (N, 4)).astype(np.float32),
                  "eye_angle": rng.normal(0, 5, N).astype(np.float32),
                  "affine": rng.normal(size=(N, 2, 3)).astype(np.float32),
                  "score": rng.random(N).astype(np.float32), "flags": rng.integers(0, 64, N).astype(np.uint8),
                  "valid": valid, "times_us": times},
        "audio": {"windows": windows, "logmel": logmel, "mfcc": mfcc,
                  "compare": (rng.normal(size=(N, 6373)) * 10.0 ** rng.uniform(-3, 9, 6373)).astype(np.float32),
                  "egemaps": rng.normal(0, 50, (N, 88)).astype(np.float32),
                  "vad": (rng.random(N) > 0.5).astype(np.float32), "rms_db": rng.normal(-30, 5, N).astype(np.float32),
                  "valid": np.ones(N, bool), "times_us": times,
                  "compare_utterances": rng.normal(size=(u, 6373)).astype(np.float32),
                  "compare_utterances.valid": np.ones(u, bool),
                  "compare_utterances.times_us": np.arange(u, dtype=np.int64) * 1_000_000,
                  "egemaps_utterances": rng.normal(size=(u, 88)).astype(np.float32),
                  "egemaps_utterances.valid": np.ones(u, bool),
                  "egemaps_utterances.times_us": np.arange(u, dtype=np.int64) * 1_000_000},
        "pose": {"pose": np.where(rng.random((N, 1, 1)) > 0.2, rng.normal(300, 40, (N, 33, 4)), np.nan).astype(np.float32),
                 "hands": np.full((N, 2, 21, 3), np.nan, np.float32), "hands.valid": np.zeros((N, 2), bool),
                 "valid": np.ones(N, bool), "times_us": times},
    }


def _write(root: Path, arrays: dict[str, dict[str, np.ndarray]]) -> None:
    cache = FeatureCache(root)
    for task, named in arrays.items():
        with cache.writer(1, 2, task, f"k-{task}") as writer:
            for name, array in named.items():
                if name in ("crops", "landmarks"):  # written frame by frame, as faces.py does
                    sink = writer.open_memmap(name, array.shape, array.dtype)
                    sink[:] = 0 if name == "crops" else np.nan
                    for i in np.flatnonzero(named["valid"]):
                        sink[i] = array[i]
                else:
                    writer.save(name, array)
            writer.commit({"task": task, "session_id": 1, "participant_id": 2, "session": "s", "participant": "A",
                           "media_s": N / 25, "params": {"n_mfcc": 40}})


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, np.ndarray]]]:
    root = tmp_path_factory.mktemp("format2")
    arrays = _arrays(np.random.default_rng(6))
    arrays["faces"]["landmarks"][~arrays["faces"]["valid"]] = np.nan
    _write(root, arrays)
    return root, arrays


def _eight_bit(want: np.ndarray) -> np.ndarray:
    """Half a quantisation step: (column range) / 508, the range taken over all rows (≥ a block's)."""
    return (want.max(0) - want.min(0)) / 508 * 1.0001 + 1e-6 * np.abs(want)


def _tolerance(kind: str, want: np.ndarray, arrays: dict[str, dict[str, np.ndarray]]) -> np.ndarray | float:
    if kind in ("compare", "logmel"):
        return _eight_bit(want)
    if kind == "egemaps":
        return F16_REL * np.abs(want) + np.abs(want).max(axis=0) * 2.0 ** -28
    if kind == "mfcc":  # the orthonormal DCT of 8-bit log-mel in dB: |error| <= 10/ln 10 * sqrt(n_mels) * max error
        logmel = arrays["audio"]["logmel"]
        return 10 / np.log(10) * np.sqrt(logmel.shape[1]) * float(_eight_bit(logmel).max()) + 1e-4
    if kind == "face_landmarks":
        return 0.25 + 1e-4
    if kind == "pose":
        return 2.0 ** -7 + 1e-4
    return 0.0


@pytest.mark.parametrize("kind", [k for k in ARRAY_KINDS])
def test_every_kind_round_trips_through_the_store(written, kind: str) -> None:
    root, arrays = written
    task, stem = ARRAY_KINDS[kind]
    data, valid, times = FeatureStore(root).load(1, 2, kind)
    want = arrays[task][stem]
    got = np.asarray(data)
    assert got.shape == want.shape and got.dtype == want.dtype and len(data) == len(want)
    own_valid = arrays[task].get(f"{stem}.valid", arrays[task]["valid"])
    np.testing.assert_array_equal(valid, own_valid)
    np.testing.assert_array_equal(times, arrays[task].get(f"{stem}.times_us", arrays[task]["times_us"]))
    if kind == "faces":
        assert np.all(got[~own_valid] == 0) and np.abs(got.astype(int) - want).mean() < 3.0
        return
    ok = np.ones(want.shape, bool)
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        ok = ~np.isnan(want)
    diff = np.abs(got.astype(np.float64) - want)
    assert np.all(diff[ok] <= np.broadcast_to(_tolerance(kind, want, arrays), want.shape)[ok])
    rows = np.array([len(want) - 1, 3, BLOCK_ROWS % len(want), 3])  # fancy, repeated, across blocks (a batch)
    np.testing.assert_array_equal(data[rows], got[rows])


def test_cached_arrays_index_like_numpy(written) -> None:
    root, arrays = written
    windows = FeatureStore(root).load(1, 2, "audio_windows").data
    want = arrays["audio"]["windows"]
    np.testing.assert_array_equal(windows[-1], want[-1])
    np.testing.assert_array_equal(windows[10:300], want[10:300])
    np.testing.assert_array_equal(windows[np.array([[1, 2], [400, 5]]), 100:110], want[np.array([[1, 2], [400, 5]]), 100:110])
    mask = want[:, 800] > 0
    np.testing.assert_array_equal(windows[mask], want[mask])
    flags = FeatureStore(root).load(1, 2, "face_flags").data
    np.testing.assert_array_equal(flags & 4, arrays["faces"]["flags"] & 4)
    assert flags.any() and float(flags.mean()) == pytest.approx(arrays["faces"]["flags"].mean())


def test_random_reads_are_the_same_decoded_once_or_per_batch(written, monkeypatch) -> None:
    from collections import OrderedDict

    from dyadlab.core.features import cache as cache_module

    root, _ = written
    rows = np.random.default_rng(7).integers(0, N, 64)
    got = {}
    for budget in ("0", "1024"):
        monkeypatch.setattr(cache_module, "_OPEN_RESULTS", OrderedDict())
        monkeypatch.setenv("DYADLAB_DECODED_CACHE_MB", budget)
        data = FeatureStore(root).load(1, 2, "compare").data
        got[budget] = (data[rows], data[rows], data[::7], data.read(100, 400))
        assert (data._decoded is not None) == (budget != "0")
    for a, b in zip(got["0"], got["1024"], strict=True):
        np.testing.assert_array_equal(a, b)
    import gc

    from dyadlab.core.features import chunk_store

    held = chunk_store._DECODED_BYTES[0]
    del data
    cache_module._OPEN_RESULTS.clear()  # (this test's own dict: monkeypatch restores the process's)
    gc.collect()
    assert chunk_store._DECODED_BYTES[0] == held - N * 6373 * 4  # the budget comes back with the array


def test_a_ten_second_window_decodes_only_its_blocks(written, monkeypatch) -> None:
    root, arrays = written
    decoded: list[tuple[str, int]] = []
    original = ChunkFile.decode_block

    def counting(self, name, block, local=None):
        decoded.append((name, block))
        return original(self, name, block, local)

    from collections import OrderedDict

    from dyadlab.core.features import cache as cache_module

    monkeypatch.setattr(cache_module, "_OPEN_RESULTS", OrderedDict())  # no array decoded by earlier tests
    monkeypatch.setenv("DYADLAB_DECODED_CACHE_MB", "0")
    store = FeatureStore(root)
    store.load(1, 2, "compare")  # opens the result (reads valid / times)
    monkeypatch.setattr(ChunkFile, "decode_block", counting)
    data, valid, times = store.window(1, 2, "compare", 12_000_000, 22_000_000)
    assert len(data) == 250 and times[0] == 12_000_000 and times[-1] == 21_960_000
    assert {b for name, b in decoded if name == "compare"} == {1, 2}  # rows 300..549 lie in blocks 1 and 2
    np.testing.assert_allclose(data, arrays["audio"]["compare"][300:550],
                               atol=float(np.max(_tolerance("compare", arrays["audio"]["compare"], arrays))))


# -- writing chunks ------------------------------------------------------------------------------------------------

def _chunk(cache: FeatureCache, index: int, first: int, rows: int, arrays: dict[str, np.ndarray]) -> Path:
    with cache.chunk_writer(1, 2, "audio", "k", index=index, first_row=first, rows=rows) as w:
        for name, array in arrays.items():
            w.save(name, array[first:first + rows])
        return w.commit(meta={"frames": rows})


def test_rewriting_a_chunk_gives_identical_bytes(tmp_path: Path, written) -> None:
    _, arrays = written
    audio = {k: arrays["audio"][k] for k in ("compare", "windows", "logmel", "times_us", "valid")}
    cache = FeatureCache(tmp_path)
    path = _chunk(cache, 0, 0, 300, audio)
    first = path.read_bytes()
    _chunk(cache, 0, 0, 300, audio)  # a retried task
    assert path.read_bytes() == first
    faces = FeatureCache(tmp_path / "f")
    written_bytes = []
    for _ in range(2):
        with faces.chunk_writer(1, 2, "faces", "k", index=0, first_row=0, rows=50) as w:
            w.save("crops", arrays["faces"]["crops"][:50])
            w.save("landmarks", arrays["faces"]["landmarks"][:50])
            written_bytes.append(w.commit().read_bytes())
    assert written_bytes[0] == written_bytes[1]


def test_a_killed_writer_leaves_no_finished_looking_chunk(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal
        import numpy as np
        from dyadlab.core.features.cache import FeatureCache
        def die(fd):
            os.kill(os.getpid(), signal.SIGKILL)  # killed after the data is written, before the rename
        os.fsync = die
        cache = FeatureCache({str(tmp_path)!r})
        with cache.chunk_writer(1, 2, "audio", "k", index=3, first_row=0, rows=10) as w:
            w.save("rms_db", np.zeros(10, np.float32))
            w.commit()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -9
    cache = FeatureCache(tmp_path)
    final = chunk_path(cache.result_dir(1, 2, "audio", "k"), 3)
    assert not final.exists() and not cache.chunk_done(1, 2, "audio", "k", index=3)
    leftovers = list(final.parent.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".tmp-")
    assert cache.remove_stale_temp_dirs() == 1 and not list(final.parent.iterdir())


def test_a_torn_chunk_counts_as_absent(tmp_path: Path, written) -> None:
    _, arrays = written
    cache = FeatureCache(tmp_path)
    path = _chunk(cache, 0, 0, 100, {"compare": arrays["audio"]["compare"]})
    assert cache.chunk_done(1, 2, "audio", "k", index=0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # e.g. a copy cut short
    assert not cache.chunk_done(1, 2, "audio", "k", index=0)
    with pytest.raises(ChunkError, match="incomplete or damaged"):
        ChunkFile(path)


def test_time_chunks_assemble_into_one_result(tmp_path: Path, written) -> None:
    _, arrays = written
    audio = {k: arrays["audio"][k] for k in ("compare", "windows", "rms_db", "times_us", "valid")}
    cache = FeatureCache(tmp_path)
    _chunk(cache, 0, 0, 200, audio)
    _chunk(cache, 2, 450, N - 450, audio)
    manifest = {"task": "audio", "session_id": 1, "participant_id": 2, "media_s": N / 25}
    with pytest.raises(ChunkError, match="rows 200..450 are missing"):
        cache.finish_result(1, 2, "audio", "k", manifest, rows=N)
    assert not cache.is_done(1, 2, "audio", "k")
    _chunk(cache, 1, 200, 250, audio)  # the retried chunk arrives
    rms = cache.partial(1, 2, "audio", "k").array("rms_db")[:]  # e.g. voice activity over the whole stream
    vad = (rms > np.median(rms)).astype(np.float32)
    utterances = arrays["audio"]["compare_utterances"]
    cache.finish_result(1, 2, "audio", "k", manifest, rows=N, whole={"vad": vad, "compare_utterances": utterances,
                                                                      "compare_utterances.valid": np.ones(7, bool),
                                                                      "compare_utterances.times_us": np.arange(7)})
    assert cache.is_done(1, 2, "audio", "k")
    store = FeatureStore(tmp_path)
    np.testing.assert_array_equal(store.load(1, 2, "audio_windows").data, arrays["audio"]["windows"])
    np.testing.assert_array_equal(store.load(1, 2, "vad").data, vad)
    np.testing.assert_array_equal(store.load(1, 2, "compare_utterances").data, utterances)
    assert [c["first_row"] for c in store.manifest(1, 2, "audio")["chunks"][:3]] == [0, 200, 450]
    before = (cache.result_dir(1, 2, "audio", "k") / MANIFEST).read_bytes()
    cache.finish_result(1, 2, "audio", "k", manifest, rows=N)  # finishing twice changes nothing
    assert (cache.result_dir(1, 2, "audio", "k") / MANIFEST).read_bytes() == before


# -- older caches and the CLI --------------------------------------------------------------------------------------

def _as_format_one(entry_dir: Path, arrays: dict[str, np.ndarray], manifest: dict) -> None:
    """What DyadLab wrote before issue 22: one .npy per array, a manifest without "format"."""
    entry_dir.mkdir(parents=True)
    for name, array in arrays.items():
        np.save(entry_dir / f"{name}.npy", array)
    (entry_dir / MANIFEST).write_text(json.dumps(manifest))


def test_a_format_one_result_is_read_as_it_was_then_rebuilt_with_a_message(analysed_demo_copy: Path) -> None:
    from dyadlab.core.features import analyze_project
    from dyadlab.core.project import open_project

    cache = FeatureCache(analysed_demo_copy)
    new = cache.latest(1, 1, "audio")
    arrays = {name: np.asarray(new.array(name)) for name in new.names()}
    arrays["compare"] = arrays["compare"] + np.float32(0.5)  # tell the old result's values from a rebuilt one's
    manifest = {k: v for k, v in new.manifest.items() if k not in ("format", "chunks", "arrays", "rows")}
    old_dir = new.path.parent / "0123456789abcdef0123"
    cache.clear(task="audio", session_id=1)
    _as_format_one(old_dir, arrays, dict(manifest, key=old_dir.name))
    (old_dir / "last_used").write_text("2099-01-01T00:00:00+00:00")

    data, valid, times = FeatureStore(analysed_demo_copy).load(1, 1, "compare")
    assert isinstance(data, np.memmap)  # the old layout, read through the old path (bit for bit)
    np.testing.assert_array_equal(data, arrays["compare"])
    assert [e.format for e in cache.old_format_entries(1, 1, "audio")] == [1]
    assert old_format_message(cache.old_format_entries(1, 1, "audio")[0]) == (
        "cache format 1 found for demo01/A audio; rebuilding in format 2")
    with open_project(analysed_demo_copy) as project:
        summary = analyze_project(project, what=("audio",))
    rebuilt = [w for w in summary.warnings if w.code == "old_cache"]
    assert [w.message for w in rebuilt] == ["cache format 1 found for demo01/A audio; rebuilding in format 2"]
    assert not old_dir.exists() and cache.latest(1, 1, "audio").format == 2
    again = FeatureStore(analysed_demo_copy).load(1, 1, "compare").data
    assert np.abs(np.asarray(again) - (arrays["compare"] - 0.5)).max() <= 0.01 * np.ptp(arrays["compare"])


def test_cache_cli_reports_bytes_per_feature_and_drops_one(analysed_demo_copy: Path, capsys) -> None:
    root = str(analysed_demo_copy)
    assert main(["cache", root]) == 0
    table = capsys.readouterr().out
    rows = {line[:22].strip(): line for line in table.splitlines()[1:]}
    assert {"faces", "face_landmarks", "compare", "egemaps", "audio_windows", "logmel", "all features"} <= set(rows)
    per_hour = sum(r["bytes_per_hour"] for r in FeatureCache(root).feature_bytes())
    assert 1e8 < per_hour < 2.5e9  # format 1 stored ~16 GB per participant-hour
    assert rows["all features"].rstrip().endswith(("MB", "GB"))
    assert main(["cache", root, "--drop", "compare"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dropped compare from 2 result(s)") and "\ncompare " not in out
    store = FeatureStore(root)
    with pytest.raises(CacheMiss, match="dropped from the cache"):
        store.load(1, 1, "compare")
    assert store.load(1, 1, "egemaps").data.shape[1] == 88  # the rest of the result is untouched
    assert np.asarray(store.load(1, 1, "audio_windows").data).any()
    assert main(["cache", "ls", root, "--drop", "x"]) == 1


def test_training_on_a_dropped_feature_says_to_clear_before_analysing_again(analysed_demo_copy: Path) -> None:
    """Analysing again finds the result cached and computes nothing, so "run analyze" alone sent the user in a
    circle (found by the new-user walkthrough): the trainer's error says the feature was dropped and to clear."""
    from dyadlab.trainer.errors import DataError
    from dyadlab.trainer.project_source import ProjectFrameSource

    assert main(["cache", str(analysed_demo_copy), "--drop", "compare"]) == 0
    with pytest.raises(DataError) as caught:
        ProjectFrameSource(analysed_demo_copy).load(["compare"])
    assert "(compare, dropped)" in caught.value.problem and "dropped from the cache" in caught.value.problem
    assert f"dyadlab cache clear {analysed_demo_copy} --what audio --sessions" in caught.value.hint
    assert main(["cache", "clear", str(analysed_demo_copy), "--what", "audio"]) == 0
    assert main(["analyze", str(analysed_demo_copy), "--what", "audio", "--quiet"]) == 0
    assert FeatureStore(analysed_demo_copy).load(1, 1, "compare").data.shape[0] > 0
