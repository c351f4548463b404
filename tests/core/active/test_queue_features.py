"""What the queue describes each stretch by for the novelty term: the participant's eGeMAPS functionals averaged
over the stretch's valid frames; a participant without audio gives none (the ranking then leaves novelty out)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dyadlab.core.active.queue import DESCRIBE, _features, _Span
from dyadlab.core.inference.errors import InferenceError
from dyadlab.core.inference.inputs import ParticipantTimeline


class Provider:
    """Participant 1 has 100 frames at 25 fps with feature row f = f (frame 5 invalid); participant 2 no audio."""

    def timeline(self, session_id: int, participant_id: int) -> ParticipantTimeline:
        return ParticipantTimeline(session_id, participant_id, "A", None, np.arange(100, dtype=np.int64) * 40_000,
                                   4_000_000)

    def participant(self, session_id: int, participant_id: int):
        def inputs(spec, frames):
            assert spec == DESCRIBE
            if participant_id == 2:
                raise InferenceError("participant B has no audio")
            data = np.repeat(frames[:, None].astype(np.float32), spec.shape[0], axis=1)
            return data, frames != 5

        return SimpleNamespace(inputs=inputs)


def test_a_stretch_is_described_by_the_mean_features_of_its_valid_frames():
    cache = SimpleNamespace(provider=Provider())
    first, second, silent = _Span(1, 0, 400_000, "u1"), _Span(1, 2_000_000, 2_200_000, ""), _Span(2, 0, 400_000, "u9")
    got = _features(cache, 3, [first, second, silent])
    assert set(got) == {first, second}  # participant 2 has no audio: no features, no novelty
    assert got[first].shape == (88,) and got[first][0] == pytest.approx(np.mean([0, 1, 2, 3, 4, 6, 7, 8, 9]))  # frame 5 invalid
    assert got[second][0] == pytest.approx(52.0)
