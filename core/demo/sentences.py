"""What the demo participants say: a fixed sentence list and a seeded choice that fits an utterance.

The text is part of the ground truth (it is stored as the utterance transcript), so it is chosen when the
timeline is planned, from a fixed list and the session's seeded generator, never from the voice backend.
A sentence is picked so that, spoken at the emotion's speaking rate, it roughly fills the utterance: fast
emotions say more words in the same time, which keeps the rate audible after the voice is fitted.
"""

from __future__ import annotations

import numpy as np

SENTENCES: tuple[str, ...] = (
    "Okay.",
    "Really?",
    "I see.",
    "Yes, exactly.",
    "No, not at all.",
    "That is the point.",
    "Tell me more about it.",
    "I did not expect that.",
    "We talked about this yesterday.",
    "Where did you leave the keys?",
    "It was a long day at work.",
    "I think we should go home now.",
    "Nobody told me about the meeting.",
    "You always say the same thing to me.",
    "The train was late again this morning.",
    "I cannot believe you forgot my birthday.",
    "We could take the boat out on Sunday.",
    "My sister called me from the airport last night.",
    "I got the job and they want me to start on Monday.",
    "Why do you never listen when I am talking to you?",
    "The garden looks lovely now that the roses are out.",
    "I waited for an hour and then I just walked home alone.",
    "If you had asked me first we would not be in this mess.",
    "We should invite everyone over and cook something nice together.",
    "I keep thinking about the old house and the summers we spent there.",
    "You promised you would fix it and now it is broken all over again.",
)
_WORD_COUNTS = np.array([len(s.split()) for s in SENTENCES])


def choose_sentence(duration_s: float, words_per_second: float, rng: np.random.Generator) -> str:
    """One of the few sentences whose length best fits ``duration_s`` at ``words_per_second``."""
    target = duration_s * words_per_second * 0.85  # espeak pauses at commas and sentence ends
    closest = np.argsort(np.abs(_WORD_COUNTS - target), kind="stable")[:3]
    return SENTENCES[int(rng.choice(closest))]
