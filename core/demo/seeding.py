"""Independent, reproducible random streams for each session and each purpose.

Every random choice in the demo corpus comes from a generator built from (corpus seed, session number,
purpose), so a session is identical whatever the number of sessions, and changing how, say, faces are
drawn does not reshuffle the emotion timeline. Purposes are fixed integers, not ``hash(str)``, which
Python randomises per process.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    TIMELINE = 1
    APPEARANCE = 2
    MOTION = 3
    VOICE = 4
    NOISE = 5


def stream_rng(seed: int, session_number: int, stream: Stream, participant: int = 0) -> np.random.Generator:
    """The generator for one purpose of one session (and participant, where that matters)."""
    return np.random.default_rng(np.random.SeedSequence([seed, session_number, int(stream), participant]))
