"""The ground truth of the demo corpus: who is in each session, what they feel when, and when they speak.

Everything the renderer, the voice and the store write follows from these plans, and the plans follow
only from (seed, number of sessions, seconds): the same arguments give byte-identical labels on every
machine and with either voice backend. Times are integer microseconds of session time on a 10 ms grid.

Per participant the emotion (one of ``EMOTIONS``) changes every few seconds; labels are dealt from
shuffled blocks of all four classes, and the two participants of a session start from opposite halves of
the same block, so every session with two segments per person shows every class. Utterances of 1–4 s
alternate between the two people with pauses and some overlaps, and never cross the speaker's own
emotion boundary, so an utterance's label is the emotion it was spoken in.

That default ("varied") shows every class within seconds, so labelling a session from its start is
already a balanced sample of the corpus. Real dyadic corpora are not like that: IEMOCAP's scripted and
improvised dialogs are each written to elicit a target emotion, so one dialog is mostly one or two
classes. The ``scripted`` scenario models that: session n is dominated by ``EMOTIONS[(n - 1) % 4]``
(``SCRIPTED_SHARE`` of its segments), the rest dealt at random. ``bench/active_learning.py`` measures the
labelling queue on both, since which order saves effort depends on exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral

import numpy as np

from dyadlab.core.demo.emotions import EMOTIONS, STYLES
from dyadlab.core.demo.seeding import Stream, stream_rng
from dyadlab.core.demo.sentences import choose_sentence
from dyadlab.core.errors import DyadLabError
from dyadlab.core.model import US_PER_SECOND, seconds_to_us

MIN_SECONDS = 5.0
GRID_US = 10_000
SEGMENT_MIN_S = 2.0
SEGMENT_MEAN_S = 4.5
UTTERANCE_MIN_S, UTTERANCE_MAX_S = 1.0, 4.0
MARGIN_S = 0.15  # keep utterances this far from emotion boundaries and the session's ends
FPS_ODD = Fraction(25)
FPS_EVEN = Fraction(30000, 1001)
SPLIT_SCREEN_SESSION = 3  # this session is recorded as one side-by-side file, like IEMOCAP
SCENARIOS = ("varied", "scripted")
SCRIPTED_SHARE = 0.75  # in a scripted session, this share of the emotion segments is the session's target


def _us(seconds: float) -> int:
    """Seconds to microseconds on the 10 ms grid."""
    return int(round(seconds * 100)) * GRID_US


@dataclass(frozen=True)
class EmotionSegment:
    start_us: int
    end_us: int
    emotion: str


@dataclass(frozen=True)
class ParticipantPlan:
    code: str  # "A" or "B"
    role: str  # "left" or "right": the side of the (split-screen) picture, the seat in the room
    speaker: str  # corpus-wide speaker id
    age: int
    gender: str  # "F" or "M"
    segments: tuple[EmotionSegment, ...]

    def emotion_at(self, t_us: int) -> str:
        for seg in self.segments:
            if seg.start_us <= t_us < seg.end_us:
                return seg.emotion
        return self.segments[-1].emotion

    def emotion_indices(self, times_us: np.ndarray) -> np.ndarray:
        """Index into ``EMOTIONS`` of the emotion at each time (vectorised ``emotion_at``)."""
        ends = np.array([s.end_us for s in self.segments])
        labels = np.array([EMOTIONS.index(s.emotion) for s in self.segments])
        return labels[np.minimum(np.searchsorted(ends, times_us, side="right"), len(labels) - 1)]


@dataclass(frozen=True)
class PlannedUtterance:
    name: str
    participant: str
    start_us: int
    end_us: int
    emotion: str
    text: str
    vad: tuple[float, float, float]


@dataclass(frozen=True)
class SessionPlan:
    number: int
    name: str
    group: str
    seed: int
    duration_us: int
    fps: Fraction
    layout: str  # "per_participant" (one file per person) or "split_screen" (one 1280x480 file)
    participants: tuple[ParticipantPlan, ParticipantPlan]
    utterances: tuple[PlannedUtterance, ...]

    @property
    def frame_count(self) -> int:
        return int(round(self.duration_us * self.fps / US_PER_SECOND))

    def frame_times_us(self) -> np.ndarray:
        """Presentation time of every frame, exact to the microsecond (frame i at i / fps)."""
        i = np.arange(self.frame_count, dtype=np.int64)
        num, den = self.fps.numerator, self.fps.denominator
        return (i * US_PER_SECOND * den + num // 2) // num

    def participant(self, code: str) -> ParticipantPlan:
        return next(p for p in self.participants if p.code == code)


def _label_blocks(count: int, first_block: list[str], rng: np.random.Generator) -> list[str]:
    """``count`` labels from shuffled blocks of all classes, never the same label twice in a row."""
    labels = list(first_block)
    while len(labels) < count:
        block = [EMOTIONS[i] for i in rng.permutation(len(EMOTIONS))]
        if block[0] == labels[-1]:
            block[0], block[-1] = block[-1], block[0]
        labels.extend(block)
    return labels[:count]


def _scripted_labels(count: int, target: str, rng: np.random.Generator) -> list[str]:
    """``count`` labels, each the session's ``target`` with probability ``SCRIPTED_SHARE``, else another."""
    others = [e for e in EMOTIONS if e != target]
    return [target if rng.random() < SCRIPTED_SHARE else others[int(rng.integers(len(others)))]
            for _ in range(count)]


def _emotion_segments(duration_us: int, first_block: list[str], rng: np.random.Generator,
                      target: str | None = None) -> tuple[EmotionSegment, ...]:
    seconds = duration_us / US_PER_SECOND
    count = max(2, int(round(seconds / SEGMENT_MEAN_S)))
    spare = seconds - count * SEGMENT_MIN_S
    lengths = SEGMENT_MIN_S + spare * rng.dirichlet(np.full(count, 3.0))
    bounds = [0, *(_us(t) for t in np.cumsum(lengths)[:-1]), duration_us]
    if target is not None:  # a scripted session: neighbours of one class become one longer segment
        labels = _scripted_labels(count, target, rng)
        keep = [0, *(i for i in range(1, count) if labels[i] != labels[i - 1])]
        bounds = [bounds[i] for i in keep] + [duration_us]
        labels = [labels[i] for i in keep]
        return tuple(EmotionSegment(a, b, e) for a, b, e in zip(bounds[:-1], bounds[1:], labels, strict=True))
    labels = _label_blocks(count, first_block, rng)
    return tuple(EmotionSegment(a, b, e) for a, b, e in zip(bounds[:-1], bounds[1:], labels, strict=True))


def _fit_in_emotion(p: ParticipantPlan, earliest_us: int, want_us: int,
                    duration_us: int) -> tuple[int, int] | None:
    """The first slot from ``earliest_us`` that lies inside one of ``p``'s emotion segments."""
    margin, shortest = _us(MARGIN_S), _us(UTTERANCE_MIN_S)
    for seg in p.segments:
        start = max(earliest_us, seg.start_us + (margin if seg.start_us > 0 else 0))
        stop = min(seg.end_us, duration_us) - margin
        if stop - start >= shortest:
            return start, min(start + want_us, stop)
    return None


def _plan_turns(duration_us: int, people: tuple[ParticipantPlan, ParticipantPlan],
                rng: np.random.Generator) -> list[tuple[str, int, int]]:
    """(code, start, end) of every utterance: turns with pauses, some overlaps, some held floors."""
    turns: list[tuple[str, int, int]] = []
    free = {p.code: 0 for p in people}  # nobody overlaps themselves
    t = _us(rng.uniform(0.3, 1.0))
    who = int(rng.integers(2))
    while True:
        slot = None
        for candidate in (who, 1 - who):
            p = people[candidate]
            slot = _fit_in_emotion(p, max(t, free[p.code]), _us(rng.uniform(UTTERANCE_MIN_S, UTTERANCE_MAX_S)),
                                   duration_us)
            if slot is not None:
                who = candidate
                break
        if slot is None:
            return turns
        start, end = slot
        code = people[who].code
        turns.append((code, start, end))
        free[code] = end + _us(0.2)
        roll = rng.random()
        if roll < 0.2:  # the other one cuts in
            t, who = end - _us(rng.uniform(0.2, 0.8)), 1 - who
        elif roll < 0.35:  # the same speaker goes on after a breath
            t = end + _us(rng.uniform(0.3, 1.0))
        else:
            t, who = end + _us(rng.uniform(0.15, 1.2)), 1 - who


def _vad(emotion: str, rng: np.random.Generator) -> tuple[float, float, float]:
    v, a, d = (round(float(x), 2) for x in np.clip(np.array(STYLES[emotion].vad) + rng.normal(0.0, 0.25, 3), 1, 5))
    return v, a, d


def plan_session(number: int, seconds: float, seed: int, scenario: str = "varied") -> SessionPlan:
    """The full ground truth of session ``number`` (1-based) in ``scenario`` (see the module docstring)."""
    rng = stream_rng(seed, number, Stream.TIMELINE)
    duration_us = seconds_to_us(seconds)
    name = f"demo{number:02d}"
    a_left = bool(rng.random() < 0.5)
    genders = ("F", "M") if rng.random() < 0.5 else ("M", "F")
    block = [EMOTIONS[i] for i in rng.permutation(len(EMOTIONS))]
    target = EMOTIONS[(number - 1) % len(EMOTIONS)] if scenario == "scripted" else None
    people = []
    for k, code in enumerate("AB"):
        first = block if k == 0 else block[2:] + block[:2]
        people.append(ParticipantPlan(
            code=code, role="left" if (k == 0) == a_left else "right",
            speaker=f"spk{2 * (number - 1) + k + 1:02d}", age=int(rng.integers(20, 71)), gender=genders[k],
            segments=_emotion_segments(duration_us, first, rng, target)))
    pair = (people[0], people[1])
    counters = {"A": 0, "B": 0}
    utterances = []
    for code, start, end in _plan_turns(duration_us, pair, rng):
        emotion = pair[0 if code == "A" else 1].emotion_at(start)
        text = choose_sentence((end - start) / US_PER_SECOND, STYLES[emotion].words_per_second, rng)
        utterances.append(PlannedUtterance(name=f"{name}_{code}{counters[code]:03d}", participant=code,
                                           start_us=start, end_us=end, emotion=emotion, text=text,
                                           vad=_vad(emotion, rng)))
        counters[code] += 1
    return SessionPlan(number=number, name=name, group=f"Session{number}", seed=seed, duration_us=duration_us,
                       fps=FPS_ODD if number % 2 else FPS_EVEN,
                       layout="split_screen" if number == SPLIT_SCREEN_SESSION else "per_participant",
                       participants=pair, utterances=tuple(utterances))


def plan_corpus(sessions: int, seconds: float, seed: int, scenario: str = "varied") -> list[SessionPlan]:
    """Plans for sessions 1..``sessions``; raises DyadLabError for settings that cannot make a corpus."""
    if scenario not in SCENARIOS:
        raise DyadLabError(f"unknown demo scenario {scenario!r}", hint=f"choose one of {', '.join(SCENARIOS)}")
    if not isinstance(sessions, Integral) or sessions < 1:
        raise DyadLabError(f"the demo corpus needs at least 1 session, got {sessions!r}",
                           hint="pass --sessions 1 or more")
    if not np.isfinite(seconds) or seconds < MIN_SECONDS:
        raise DyadLabError(f"demo sessions must last at least {MIN_SECONDS:g} s, got {seconds!r}",
                           hint=f"pass --seconds {MIN_SECONDS:g} or more")
    if not isinstance(seed, Integral) or seed < 0:
        raise DyadLabError(f"the demo seed must be a non-negative integer, got {seed!r}")
    return [plan_session(n, float(seconds), int(seed), scenario) for n in range(1, int(sessions) + 1)]
