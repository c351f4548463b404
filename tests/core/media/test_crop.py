"""The player and batch analysis cut a view's crop out of its file by one rule (``core.media.crop``)."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.features.frames import ViewDecoder
from dyadlab.core.media.crop import clamp_crop
from dyadlab.core.media.decoder import CropDecoder, VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.model import CropRect


def test_a_crop_is_cut_at_the_picture_edges() -> None:
    assert clamp_crop(None, 320, 120) == (0, 0, 320, 120)
    assert clamp_crop(CropRect(160, 0, 160, 120), 320, 120) == (160, 0, 160, 120)
    assert clamp_crop(CropRect(-10, -5, 200, 300), 320, 120) == (0, 0, 190, 120)
    assert clamp_crop(CropRect(300, 100, 100, 100), 320, 120) == (300, 100, 20, 20)


def test_a_crop_with_nothing_inside_names_the_file_and_the_rectangle(tmp_path) -> None:
    with pytest.raises(MediaError) as err:
        clamp_crop(CropRect(400, 0, 100, 100), 320, 120, tmp_path / "split.mp4")
    assert "split.mp4" in str(err.value) and "100x100+400+0" in str(err.value) and "320x120" in str(err.value)


def test_player_and_analysis_cut_the_same_pixels_from_an_overhanging_crop(video_split) -> None:
    crop = CropRect(250, -20, 200, 200)  # past the right and top edges of the 320×120 picture
    index = FrameIndex.load_or_build(video_split.path, None)
    analysis = ViewDecoder(index, crop)
    analysed = dict(analysis.frames())
    assert analysis.crop_clamped and len(analysed) == 60
    with VideoDecoder(video_split.path, index, readahead=0) as shared:
        player = CropDecoder(shared, crop)
        for n in (0, 31, 59):
            shown = player.get_frame(n)
            assert shown.shape == (120, 70, 3)
            np.testing.assert_array_equal(shown, analysed[n])


def test_analysis_of_a_crop_outside_the_picture_names_the_file(video_split) -> None:
    index = FrameIndex.load_or_build(video_split.path, None)
    with pytest.raises(MediaError, match="split.mp4.*crop 10x10\\+500\\+0"):
        list(ViewDecoder(index, CropRect(500, 0, 10, 10)).frames())
