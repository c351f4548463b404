"""How each demo emotion looks, sounds and rates: the one table the face, the voice and the labels share.

The demo corpus exists so that models can be trained and checked on data whose truth is known. That only
works when every channel carries the label the same way, so the renderer, both voice synthesisers and the
dimensional labels all read their per-class settings from ``STYLES`` rather than keeping their own.
Values are designed to be class-separable, not realistic: happy = smile, raised brows, high and lively
voice; sad = frown, raised inner brows, low, slow and quiet voice; angry = V brows, bared teeth, loud,
fast and harsh voice; neutral sits in the middle.
"""

from __future__ import annotations

from dataclasses import dataclass

from dyadlab.core.labels.schemes import THESIS_4CLASS

SCHEME = THESIS_4CLASS
EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry")


@dataclass(frozen=True)
class FaceStyle:
    """Facial expression; lengths are fractions of the head's half-width (mouth) or half-height (brows)."""

    mouth_curve: float  # corner height above the mouth centre (+ smile, - frown)
    mouth_width: float
    mouth_rest_open: float  # opening when silent (angry bares its teeth)
    mouth_speech_open: float  # extra opening at full speech loudness
    teeth: bool
    brow_raise: float  # whole brow up (+) or down (-)
    brow_inner: float  # inner end up (+, sad) or down (-, angry V) relative to the outer end
    eye_open: float  # 1 = neutral lid opening
    head_motion: float  # scale of the slow head movement


@dataclass(frozen=True)
class VoiceStyle:
    """Prosody. espeak-ng takes pitch/rate/amplitude directly; the formant synthesiser uses the rest."""

    espeak_pitch: int  # espeak-ng -p, 0..99
    espeak_rate: int  # espeak-ng -s, words per minute
    espeak_amplitude: int  # espeak-ng -a, 0..200
    f0_factor: float  # times the speaker's base F0
    f0_range_semitones: float  # spread of syllable pitch accents
    syllables_per_second: float
    gain: float  # linear loudness
    harshness: float  # 0 smooth .. 1 pressed voice with jitter and soft clipping
    breathiness: float  # aspiration noise relative to the voiced source


@dataclass(frozen=True)
class EmotionStyle:
    face: FaceStyle
    voice: VoiceStyle
    vad: tuple[float, float, float]  # typical valence, arousal, dominance on the 1..5 scale

    @property
    def words_per_second(self) -> float:
        return self.voice.espeak_rate / 60.0


STYLES: dict[str, EmotionStyle] = {
    "neutral": EmotionStyle(
        face=FaceStyle(mouth_curve=0.0, mouth_width=0.42, mouth_rest_open=0.0, mouth_speech_open=0.5,
                       teeth=False, brow_raise=0.0, brow_inner=0.0, eye_open=1.0, head_motion=1.0),
        voice=VoiceStyle(espeak_pitch=45, espeak_rate=165, espeak_amplitude=100, f0_factor=1.0,
                         f0_range_semitones=2.0, syllables_per_second=4.0, gain=0.12, harshness=0.1,
                         breathiness=0.05),
        vad=(3.0, 2.5, 2.9)),
    "happy": EmotionStyle(
        face=FaceStyle(mouth_curve=0.22, mouth_width=0.56, mouth_rest_open=0.04, mouth_speech_open=0.55,
                       teeth=True, brow_raise=0.10, brow_inner=0.02, eye_open=0.78, head_motion=1.5),
        voice=VoiceStyle(espeak_pitch=78, espeak_rate=200, espeak_amplitude=140, f0_factor=1.35,
                         f0_range_semitones=6.0, syllables_per_second=5.5, gain=0.18, harshness=0.15,
                         breathiness=0.05),
        vad=(4.1, 3.6, 3.2)),
    "sad": EmotionStyle(
        face=FaceStyle(mouth_curve=-0.20, mouth_width=0.38, mouth_rest_open=0.0, mouth_speech_open=0.3,
                       teeth=False, brow_raise=0.0, brow_inner=0.16, eye_open=0.62, head_motion=0.45),
        voice=VoiceStyle(espeak_pitch=20, espeak_rate=125, espeak_amplitude=55, f0_factor=0.82,
                         f0_range_semitones=1.0, syllables_per_second=2.8, gain=0.055, harshness=0.0,
                         breathiness=0.3),
        vad=(1.9, 2.0, 2.2)),
    "angry": EmotionStyle(
        face=FaceStyle(mouth_curve=-0.08, mouth_width=0.50, mouth_rest_open=0.2, mouth_speech_open=0.3,
                       teeth=True, brow_raise=-0.05, brow_inner=-0.14, eye_open=1.12, head_motion=1.8),
        voice=VoiceStyle(espeak_pitch=58, espeak_rate=195, espeak_amplitude=190, f0_factor=1.15,
                         f0_range_semitones=4.0, syllables_per_second=5.2, gain=0.25, harshness=1.0,
                         breathiness=0.02),
        vad=(1.8, 4.1, 3.9)),
}


def emotion_index(name: str) -> int:
    return EMOTIONS.index(name)
