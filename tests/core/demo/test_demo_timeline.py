"""The demo ground truth: reproducible, covering, balanced, and utterances that respect emotion boundaries."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import pytest

from dyadlab.core.demo.emotions import EMOTIONS
from dyadlab.core.demo.timeline import plan_corpus, plan_session
from dyadlab.core.errors import DyadLabError


def test_same_seed_gives_identical_plans_and_another_seed_differs() -> None:
    assert plan_corpus(3, 20.0, 5) == plan_corpus(3, 20.0, 5)
    assert plan_corpus(3, 20.0, 5) != plan_corpus(3, 20.0, 6)
    # A session does not depend on how many sessions the corpus has.
    assert plan_corpus(1, 20.0, 5)[0] == plan_corpus(4, 20.0, 5)[0]


def test_sessions_alternate_frame_rates_and_session_three_is_split_screen() -> None:
    plans = plan_corpus(4, 6.0, 0)
    assert [p.fps for p in plans] == [Fraction(25), Fraction(30000, 1001)] * 2
    assert [p.layout for p in plans] == ["per_participant", "per_participant", "split_screen", "per_participant"]
    assert [p.group for p in plans] == ["Session1", "Session2", "Session3", "Session4"]
    speakers = [q.speaker for p in plans for q in p.participants]
    assert len(set(speakers)) == len(speakers) == 8


def test_participants_are_a_left_and_a_right_person_of_plausible_age() -> None:
    for plan in plan_corpus(6, 6.0, 1):
        assert [p.code for p in plan.participants] == ["A", "B"]
        assert sorted(p.role for p in plan.participants) == ["left", "right"]
        assert sorted(p.gender for p in plan.participants) == ["F", "M"]
        assert all(20 <= p.age <= 70 for p in plan.participants)


def test_frame_times_are_exact_microseconds() -> None:
    plan = plan_session(2, 6.0, 0)
    times = plan.frame_times_us()
    assert len(times) == plan.frame_count == round(6.0 * 30000 / 1001)
    assert times[1] == 33367 and times[30] == 1001000  # 30 frames of 1001/30000 s
    assert times[-1] < plan.duration_us


@pytest.mark.parametrize("seconds", [5.0, 8.0, 60.0])
def test_emotion_segments_cover_the_session_without_gaps_or_repeats(seconds: float) -> None:
    for plan in plan_corpus(3, seconds, 11):
        for p in plan.participants:
            segs = p.segments
            assert segs[0].start_us == 0 and segs[-1].end_us == plan.duration_us
            assert all(a.end_us == b.start_us for a, b in zip(segs, segs[1:], strict=False))
            assert all(a.emotion != b.emotion for a, b in zip(segs, segs[1:], strict=False))
            assert all(s.end_us - s.start_us >= 2_000_000 for s in segs)
            assert {s.emotion for s in segs} <= set(EMOTIONS)


def test_every_class_is_in_every_small_session_and_balanced_across_the_corpus() -> None:
    for plan in plan_corpus(5, 8.0, 2):
        assert {s.emotion for p in plan.participants for s in p.segments} == set(EMOTIONS)
    counts = Counter(s.emotion for plan in plan_corpus(4, 60.0, 0) for p in plan.participants for s in p.segments)
    assert set(counts) == set(EMOTIONS)
    assert max(counts.values()) - min(counts.values()) <= 8  # 104 segments: dealt from blocks of all four


@pytest.mark.parametrize("seconds", [5.0, 12.0, 60.0])
def test_utterances_stay_inside_one_emotion_and_the_session(seconds: float) -> None:
    for plan in plan_corpus(4, seconds, 9):
        assert plan.utterances, plan.name
        for u in plan.utterances:
            assert 0 <= u.start_us < u.end_us <= plan.duration_us
            assert 1_000_000 <= u.end_us - u.start_us <= 4_000_000
            person = plan.participant(u.participant)
            seg = next(s for s in person.segments if s.start_us <= u.start_us < s.end_us)
            assert u.end_us <= seg.end_us, f"{u.name} crosses an emotion boundary"
            assert u.emotion == seg.emotion
            assert u.text and u.name.startswith(f"{plan.name}_{u.participant}")
            assert all(1.0 <= v <= 5.0 for v in u.vad)
        for code in "AB":
            own = [u for u in plan.utterances if u.participant == code]
            assert all(a.end_us <= b.start_us for a, b in zip(own, own[1:], strict=False)), "self-overlap"


def test_conversation_has_turns_overlaps_and_silences() -> None:
    plan = plan_session(1, 60.0, 0)
    speakers = [u.participant for u in plan.utterances]
    assert speakers.count("A") >= 5 and speakers.count("B") >= 5
    pairs = list(zip(plan.utterances, plan.utterances[1:], strict=False))
    assert any(b.start_us < a.end_us for a, b in pairs), "no overlapping turns"
    assert any(b.start_us - a.end_us >= 300_000 for a, b in pairs), "no silences"


def test_vad_follows_the_class() -> None:
    utts = [u for plan in plan_corpus(4, 60.0, 0) for u in plan.utterances]

    def mean(emotion: str, k: int) -> float:
        values = [u.vad[k] for u in utts if u.emotion == emotion]
        return sum(values) / len(values)

    assert mean("happy", 0) > mean("neutral", 0) > mean("sad", 0)
    assert mean("angry", 1) > mean("neutral", 1) > mean("sad", 1)


@pytest.mark.parametrize(("sessions", "seconds", "seed", "needle"), [
    (0, 10.0, 0, "at least 1 session"),
    (2, 4.9, 0, "at least 5 s"),
    (2, float("nan"), 0, "at least 5 s"),
    (2, 10.0, -1, "non-negative"),
])
def test_bad_settings_are_refused_with_a_clear_message(sessions: int, seconds: float, seed: int,
                                                         needle: str) -> None:
    with pytest.raises(DyadLabError, match=needle):
        plan_corpus(sessions, seconds, seed)


def test_a_scripted_corpus_gives_each_session_one_main_emotion_and_keeps_the_plan_rules() -> None:
    plans = plan_corpus(4, 60.0, 3, scenario="scripted")
    assert plan_corpus(4, 60.0, 3) != plans  # a scenario of its own; the default corpus is unchanged
    for plan, target in zip(plans, EMOTIONS, strict=True):  # session n is mostly EMOTIONS[n - 1]
        spoken = Counter()
        for u in plan.utterances:
            spoken[u.emotion] += u.end_us - u.start_us
            assert plan.participant(u.participant).emotion_at(u.start_us) == u.emotion
            assert plan.participant(u.participant).emotion_at(u.end_us - 1) == u.emotion
        assert spoken.most_common(1)[0][0] == target
        assert spoken[target] >= 0.5 * sum(spoken.values())
        for p in plan.participants:
            segs = p.segments
            assert segs[0].start_us == 0 and segs[-1].end_us == plan.duration_us
            assert all(a.end_us == b.start_us and a.emotion != b.emotion for a, b in zip(segs, segs[1:], strict=False))
    assert {u.emotion for plan in plans for u in plan.utterances} == set(EMOTIONS)
    with pytest.raises(DyadLabError, match="unknown demo scenario 'sitcom'"):
        plan_corpus(2, 10.0, 0, scenario="sitcom")
