"""A file FFmpeg cannot read is named once with FFmpeg's own sentence, not ``[Errno 1094995529] … '<path>'``
(the new-user walkthrough saw the raw code in a view's error)."""

from __future__ import annotations

import pytest

from dyadlab.core.errors import MediaError
from dyadlab.core.media.audio import AudioReader
from dyadlab.core.media.decoder import VideoDecoder
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.probe import probe


@pytest.mark.parametrize("open_it", [probe, FrameIndex.build, VideoDecoder.for_file, AudioReader],
                         ids=["probe", "frame index", "decoder", "audio"])
def test_a_garbage_file_is_refused_in_ffmpegs_words(broken_files, open_it) -> None:
    with pytest.raises(MediaError) as caught:
        open_it(broken_files["garbage"])
    text = str(caught.value)
    assert "invalid data found when processing input" in text.lower() and "Errno" not in text
    assert text.count(str(broken_files["garbage"])) <= 1
