"""Reading face crops from cache format 2 fast (issue 22): a window decodes each crop once, straight to RGB, into
one array; a reader at a model's size decodes at the JPEG DCT scale that fits and sees the crop that resizing
the full decode gives (within a level); a batch decodes each block once; the decoded budget holds crops at the
model's size; the row logic the trainer's tables use is core's."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.errors import DyadLabError
from dyadlab.core.features import FeatureStore, chunk_store, crop_codec
from dyadlab.core.features import cache as cache_module
from dyadlab.core.features.array_codecs import BLOCK_ROWS
from dyadlab.core.features.cache import FeatureCache
from dyadlab.core.features.chunk_store import CropsAtSize, crops_at_size
from dyadlab.core.features.crop_codec import JpegCodec, dct_scale, resize_crops
from dyadlab.core.features.row_ranges import LazyRows, runs_by_part, selected_rows

SIZE = 224
ROWS = BLOCK_ROWS + 50  # two blocks


def _faces(rng: np.random.Generator) -> np.ndarray:
    """ROWS smooth face-like 224-px crops with detail at several scales and different colour channels (JPEG and
    resizing both have work to do; a swapped channel order shows): a few patterns, shifted row by row."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    patterns = []
    for k in range(6):
        base = np.stack([np.sin((5 + 3 * c) * x + k) * np.cos((3 + 2 * c) * y - k) for c in range(3)], axis=-1)
        fine = np.sin(40 * x * y + k)[..., None]
        patterns.append(np.clip(128 + 80 * base + 20 * fine + rng.normal(0, 1, base.shape), 0, 255))
    return np.stack([np.roll(patterns[k % 6], k, axis=1) for k in range(ROWS)]).astype(np.uint8)


def _error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@pytest.fixture(scope="module")
def crops_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A faces result of ROWS 224-px crops (row 7: no face) written through the chunk writer."""
    rng = np.random.default_rng(3)
    crops = _faces(rng)
    crops[7] = 0
    root = tmp_path_factory.mktemp("crops")
    cache = FeatureCache(root)
    with cache.chunk_writer(1, 1, "faces", "k", index=0, first_row=0, rows=ROWS) as w:
        w.save("crops", crops)
        w.save("times_us", np.arange(ROWS, dtype=np.int64) * 40_000)
        w.save("valid", np.arange(ROWS) != 7)
        w.save("flags", (np.arange(ROWS) == 7).astype(np.uint8))
        w.commit()
    cache.finish_result(1, 1, "faces", "k", {"task": "faces", "session_id": 1, "participant_id": 1}, rows=ROWS)
    return root, crops


@pytest.fixture()
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "_OPEN_RESULTS", OrderedDict())  # nothing decoded by an earlier test


@pytest.fixture()
def opencv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crops read through OpenCV (the fallback decoder), whose calls ``_imdecode_flags`` records."""
    monkeypatch.setattr(crop_codec, "_DECODER", ["opencv"])


def _imdecode_flags(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import cv2

    seen: list[int] = []
    original = cv2.imdecode

    def recording(buf, flags):
        seen.append(flags)
        return original(buf, flags)

    monkeypatch.setattr(cv2, "imdecode", recording)
    return seen


def test_a_window_decodes_each_crop_once_straight_to_rgb(crops_project, fresh, opencv, monkeypatch) -> None:
    import cv2

    root, crops = crops_project
    store = FeatureStore(root)
    store.load(1, 1, "faces")
    flags = _imdecode_flags(monkeypatch)
    data, valid, _ = store.window(1, 1, "faces", 0, 10_000_000)  # rows 0..249
    assert data.shape == (250, SIZE, SIZE, 3) and data.flags.c_contiguous and data.flags.owndata
    assert len(flags) == 249 and set(flags) == {cv2.IMREAD_COLOR_RGB}  # row 7 has no face: nothing to decode
    assert np.all(data[7] == 0) and not valid[7]
    some = slice(0, 250, 10)  # JPEG q90 error in RGB order; the channels swapped are far off
    assert _error(data[some], crops[some]).mean() < 2.0 < 10 < _error(data[some, ..., ::-1], crops[some]).mean()


def test_a_window_at_the_models_size_is_the_resized_full_crop_within_a_level(crops_project, fresh, opencv,
                                                                               monkeypatch) -> None:
    import cv2

    root, _ = crops_project
    store = FeatureStore(root)
    full = store.window(1, 1, "faces", 8_000_000, 12_000_000).data  # rows 200..299, across both blocks
    flags = _imdecode_flags(monkeypatch)
    small = store.window(1, 1, "faces", 8_000_000, 12_000_000, size=64).data
    assert small.shape == (100, 64, 64, 3)
    assert set(flags) == {cv2.IMREAD_REDUCED_COLOR_2 - cv2.IMREAD_COLOR + cv2.IMREAD_COLOR_RGB}  # decoded at 112
    diff = _error(small, resize_crops(full, 64))  # what inference's resize of the full crop gives
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 6
    assert dct_scale(224, 64) == 2 and dct_scale(224, 48) == 4 and dct_scale(224, 224) == 1 and dct_scale(224, 20) == 8
    with pytest.raises(DyadLabError, match="face_flags are not images"):
        store.window(1, 1, "face_flags", 0, 10_000_000, size=64)


def test_simplejpeg_decodes_into_the_window_and_gives_opencvs_pixels(crops_project, monkeypatch) -> None:
    """The default decoder writes each crop into its row of the caller's array (no image in between) and reads
    exactly what the OpenCV decoder reads, at full size, at the DCT scales and in shuffled batches."""
    import simplejpeg

    root, _ = crops_project
    assert crop_codec.decoder() == "simplejpeg"  # a dependency: cache reads use it
    into: list[bool] = []
    original = simplejpeg.decode_jpeg

    def recording(data, colorspace, buffer=None, **kw):
        out = original(data, colorspace, buffer=buffer, **kw)
        into.append(buffer is not None and np.shares_memory(out, buffer))
        return out

    rows = np.array([260, 3, 259, 7, 3, 120, 299, 0])
    reads = {}
    for name in crop_codec.DECODERS:
        monkeypatch.setattr(crop_codec, "_DECODER", [name])
        monkeypatch.setattr(cache_module, "_OPEN_RESULTS", OrderedDict())
        monkeypatch.setattr(simplejpeg, "decode_jpeg", recording)
        monkeypatch.setenv("DYADLAB_DECODED_CACHE_MB", "0")
        store = FeatureStore(root)
        data = store.load(1, 1, "faces").data
        reads[name] = [store.window(1, 1, "faces", 0, 12_000_000, size=size).data for size in (None, 64, 48, 112)]
        reads[name] += [data[rows], data.at_size(64)[rows]]
        if name == "simplejpeg":
            # into the result: the 224- and the 112-px window (DCT scale 1/2, no resize; 299 crops each, row 7 has
            # no face) and the batch (7 crops); the 64- and 48-px reads decode smaller, then resize into it
            assert into.count(True) == 299 + 299 + 7 and into.count(False) == 299 + 299 + 7
    for a, b in zip(reads["simplejpeg"], reads["opencv"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert reads["opencv"][1].shape == (300, 64, 64, 3) and reads["opencv"][3].shape == (300, 112, 112, 3)
    damaged = JpegCodec().encode(np.full((1, 32, 32, 3), 90, np.uint8))
    offsets_end = 8
    broken = damaged[:offsets_end] + damaged[offsets_end:][:40]  # a JPEG cut short
    for name in crop_codec.DECODERS:
        monkeypatch.setattr(crop_codec, "_DECODER", [name])
        with pytest.raises(ValueError, match=r"does not decode to \(32, 32, 3\)"):
            crop_codec.crop_decoder((32, 32, 3))(broken[offsets_end:], np.empty((32, 32, 3), np.uint8))


def test_a_batch_decodes_each_block_once_in_any_row_order(crops_project, fresh, monkeypatch) -> None:
    root, crops = crops_project
    monkeypatch.setenv("DYADLAB_DECODED_CACHE_MB", "0")  # per batch, as for a corpus beyond the budget
    data = FeatureStore(root).load(1, 1, "faces").data
    whole = np.asarray(data)
    calls: list[int] = []
    original = JpegCodec.row_bytes

    def counting(payload, rows, local):
        calls.append(rows)
        return original(payload, rows, local)

    monkeypatch.setattr(JpegCodec, "row_bytes", staticmethod(counting))
    rows = np.array([[260, 3], [259, 7], [3, 120]])  # both blocks, interleaved, a repeat, an empty crop
    got = data[rows]
    assert len(calls) == 2  # one pass over each block's rows
    np.testing.assert_array_equal(got, whole[rows])
    calls.clear()
    at64 = data.at_size(64)
    np.testing.assert_array_equal(at64[rows], at64.read(0, ROWS)[rows])  # a batch at size = the window at size
    assert at64[5].shape == (64, 64, 3) and np.all(at64[7] == 0)


def test_the_decoded_budget_holds_crops_at_the_models_size(crops_project, fresh, monkeypatch) -> None:
    root, _ = crops_project
    full_mb = ROWS * SIZE * SIZE * 3 / 2**20  # 44 MB at 224 px; 3.7 MB at 64 px
    monkeypatch.setenv("DYADLAB_DECODED_CACHE_MB", str(full_mb / 4))
    monkeypatch.setattr(chunk_store, "_DECODED_BYTES", [0])  # no bytes held by arrays of earlier tests
    data = FeatureStore(root).load(1, 1, "faces").data
    at64 = crops_at_size(data, 64)
    assert isinstance(at64, CropsAtSize) and crops_at_size(data, 224) is data
    rows = np.array([5, 280, 17])
    first = data[rows], at64[rows]
    assert data._decoded is None and at64._decoded is not None  # 224 px does not fit, 64 px does
    np.testing.assert_array_equal(at64[rows], first[1])  # from memory: the crops decoded per batch before
    memmap_like = np.asarray(data)
    np.testing.assert_array_equal(CropsAtSize(memmap_like, 64)[rows], resize_crops(memmap_like[rows], 64))


def test_row_selection_matches_numpy_and_groups_rows_per_part() -> None:
    n = 10
    for index in (slice(2, 9, 3), np.array([[-1, 2], [0, 9]]), np.arange(n) % 3 == 0, np.array([], np.int64)):
        flat, shape = selected_rows(index, n)
        np.testing.assert_array_equal(flat.reshape(shape), np.arange(n)[index])
    with pytest.raises(IndexError):
        selected_rows(np.array([10]), n)
    with pytest.raises(IndexError):
        selected_rows(np.array([0.5]), n)
    starts = np.array([0, 4, 4, 7, n])  # part 1 is empty
    flat = np.array([8, 1, 5, 8, 0])
    runs = [(k, pos.tolist(), local.tolist()) for k, pos, local in runs_by_part(flat, starts)]
    assert runs == [(0, [1, 4], [1, 0]), (2, [2], [1]), (3, [0, 3], [1, 1])]

    class Squares(LazyRows):
        shape, dtype = (n, 2), np.dtype(np.int64)

        def _rows(self, index):
            rows = np.arange(n)[index]
            return np.stack([rows, rows * rows], axis=-1)

    sq = Squares()
    assert sq[-1].tolist() == [9, 81] and np.asarray(sq).shape == (n, 2) and sq.ndim == 2 and len(sq) == n


@pytest.mark.parametrize("budget", ["0", "1024"])
def test_the_trainers_table_over_cache_arrays_reads_batches_like_numpy(crops_project, fresh, monkeypatch,
                                                                       budget: str) -> None:
    from dyadlab.trainer.project_source import StackedRows

    root, _ = crops_project
    monkeypatch.setenv("DYADLAB_DECODED_CACHE_MB", budget)
    data = FeatureStore(root).load(1, 1, "faces").data
    whole = np.asarray(data)
    take = np.array([4, -1, 290, 0, 7])  # a stream whose row 1 this modality lacks (zeros)
    table = StackedRows([data, data], [None, take])
    rows = np.array([ROWS + 2, 299, ROWS + 1, 5, ROWS + 4])
    want = np.concatenate([whole, np.where((take >= 0)[:, None, None, None], whole[take], 0)])[rows]
    np.testing.assert_array_equal(table[rows], want)
    small = StackedRows([data.at_size(32)], [take])
    np.testing.assert_array_equal(small[np.array([2, 1, 0])][[0, 2]], data.at_size(32)[np.array([290, 4])])
    assert not small[1].any()


def test_a_batch_over_many_streams_decodes_all_their_crops_in_one_pass(crops_project, fresh, monkeypatch) -> None:
    """A training batch over a corpus of many streams holds a crop or two per stream: they are decoded together
    (one call, on the pool), not stream by stream on the calling thread."""
    from dyadlab.trainer.project_source import StackedRows

    root, _ = crops_project
    monkeypatch.setenv("DYADLAB_DECODED_CACHE_MB", "0")
    data = FeatureStore(root).load(1, 1, "faces").data
    whole = np.asarray(data)
    calls: list[int] = []
    original = crop_codec.decode_crops

    def counting(datas, shape, out, size=None, rows=None):
        calls.append(len(datas))
        return original(datas, shape, out, size, rows)

    monkeypatch.setattr(crop_codec, "decode_crops", counting)
    streams = 40  # the same result seen as 40 streams of 7 rows (a take per stream), one or two rows of each read
    takes = [np.arange(k, ROWS, streams)[:7] for k in range(streams)]
    table = StackedRows([data] * streams, takes)
    rows = np.arange(0, 7 * streams, 7)[::-1]  # one row of each stream, the last first
    source = np.concatenate(takes)[rows]
    assert 7 in source  # a row without a face (zeros) among them
    np.testing.assert_array_equal(table[rows], whole[source])
    assert calls == [len(rows)]  # one pass over every stream's crops
    calls.clear()
    small = StackedRows([data.at_size(32)] * streams, takes)[rows]
    np.testing.assert_array_equal(small, data.at_size(32)[source])
    assert calls == [len(rows)]
