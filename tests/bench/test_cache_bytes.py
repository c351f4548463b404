"""bench/cache_bytes.py: the photographed talking head it measures face crops on, and the previous storage it
compares the shipped one with. Its byte figures are measurements and stay out of the tests; checked here is
that the face moves like a talking head (no two frames alike, none blank) and is a photograph (it costs more
JPEG bytes than a drawn face), that lower quality costs fewer bytes, and that the "previous" codecs are the
ones the cache used before (plain 8-bit ComParE, JPEG q90, fixed point deflated at level 1).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "cache_bytes.py"


@pytest.fixture
def cache_bytes(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(SCRIPT.parent))  # as ``python bench/cache_bytes.py`` finds it
    return importlib.import_module("cache_bytes")


def test_the_talking_head_is_a_moving_photograph_and_lower_quality_costs_fewer_bytes(cache_bytes) -> None:
    crops = cache_bytes.talking_head(frames=12)
    assert crops.shape == (12, 224, 224, 3) and crops.dtype == np.uint8
    moved = np.abs(np.diff(crops.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    assert np.all(moved > 1.0) and crops.reshape(12, -1).std(axis=1).min() > 20
    rows = cache_bytes.face_rows(crops)
    qualities = [q for q, *_ in rows]
    per_crop = [b for _, b, _, _ in rows]
    errors = [e for *_, e in rows]
    assert qualities == sorted(qualities, reverse=True) and per_crop == sorted(per_crop, reverse=True)
    assert errors == sorted(errors)  # fewer bytes, a little more error
    drawn = np.zeros_like(crops[:1])
    drawn[:, 40:180, 60:160] = (200, 150, 120)  # a flat drawn face
    from dyadlab.core.features.crop_codec import JpegCodec

    assert per_crop[0] > 3 * len(JpegCodec(90).encode(drawn))


def test_previous_codecs_are_the_storage_before_the_change(cache_bytes) -> None:
    from dyadlab.core.features.array_codecs import Fixed16Codec, Quant8Codec, codec_for
    from dyadlab.core.features.crop_codec import JpegCodec

    compare = cache_bytes.previous_codec("audio", "compare", codec_for("audio", "compare"))
    crops = cache_bytes.previous_codec("faces", "crops", codec_for("faces", "crops"))
    landmarks = cache_bytes.previous_codec("faces", "landmarks", codec_for("faces", "landmarks"))
    assert type(compare) is Quant8Codec and not compare.compress
    assert isinstance(crops, JpegCodec) and crops.quality == 90
    assert isinstance(landmarks, Fixed16Codec) and landmarks.LEVEL == 1 and Fixed16Codec.LEVEL == 6
    assert cache_bytes.previous_codec("audio", "egemaps", codec_for("audio", "egemaps")).spec() == {
        "name": "f16", "compress": False}
