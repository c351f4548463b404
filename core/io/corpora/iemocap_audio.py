"""Each IEMOCAP speaker's own audio: a channel of a stereo dialog wav, or their sentence wavs laid end to end.

Analysis reads a participant's audio from the channel mapped to them and falls back to a mixed track
(``SessionMedia.participant_audio``, ``features.pipeline``). An import that gave both actors the dialog
mix would feed every audio model the other actor's voice too, which is not what the thesis trained on
(it read ``SessionN/sentences/wav/<dialog>/<utterance>.wav``). So, per dialog, in this order:

1. **stereo dialog wav**: each channel is one actor's microphone. Which channel is whose is read from the
   recording, not assumed: the channel much louder during F's turns than during M's is F's. When the
   evidence is weak (identical channels, no turns inside the file) the next source is tried.
2. **sentence wavs**: per speaker, a wav at the dialog's rate (written into the project under
   ``media/<dialog>/``) with each of their utterances' sentence wav placed at its start time from
   EmoEvaluation/transcriptions and silence elsewhere; utterances whose wav is missing are named in a warning.
3. **neither**: the dialog mix for both, with a warning saying so.

Which source a dialog got is a note in the import report (``dyadlab import`` prints it).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dyadlab.core.atomic_write import replace_durably
from dyadlab.core.demo.media_writer import write_wav
from dyadlab.core.io.corpora.mediafiles import audio_plan, probe_audio
from dyadlab.core.io.corpora.plan import AudioPlan, UtterancePlan
from dyadlab.core.io.corpora.report import ImportReport
from dyadlab.core.media.audio import decode_audio
from dyadlab.core.media.probe import MediaInfo

MIN_CHANNEL_CONTRAST = math.log(2.0)  # a channel must be >= 2x louder (energy ratio, relative) for its speaker
SENTENCE_DIR = "media"  # assembled speaker wavs go to <project>/media/<dialog>/<dialog>_<code>.wav


@dataclass
class SpeakerAudio:
    """Builds a dialog's audio tracks; remembers the files it wrote so a failed import can undo them.

    A ``--replace`` import writes over the wavs of the sessions it replaces. Those sessions stay in the
    project until the new ones are written, so an overwritten wav is first moved aside and put back if
    the import fails: a failed replace leaves the old sessions with their old audio, never without it.
    """

    project_root: Path
    report: ImportReport
    written: list[Path] = field(default_factory=list)
    moved_aside: list[tuple[Path, Path]] = field(default_factory=list)  # (final path, its previous content)

    def tracks(self, dialog: str, wav: Path, media: MediaInfo, sentences: Path, speakers: tuple[str, ...],
               utterances: list[UtterancePlan]) -> list[AudioPlan]:
        """The dialog's audio tracks: the per-speaker source found first (see the module docstring)."""
        spans = {code: [(u.start_us, u.end_us) for u in utterances if u.participant == code] for code in speakers}
        assert media.audio is not None  # probe_audio checked the stream
        if media.audio.channels == 2:
            order = stereo_order(wav, media.audio.sample_rate, speakers, spans)
            if order is not None:
                self.report.note(f"{dialog}: speaker audio from the dialog wav's channels "
                                 f"({', '.join(f'{c}=channel {i}' for i, c in enumerate(order))})")
                return [AudioPlan("dialog", media, list(order))]
        mix = audio_plan("mix", media, None)
        assert mix is not None
        own = self._from_sentences(dialog, media, sentences, speakers, utterances)
        if own:
            self.report.note(f"{dialog}: speaker audio assembled from the sentence wavs in {sentences}")
            return [mix, *own]
        self.report.warn(f"{wav}: {'no speaker is told apart by its channels and ' if media.audio.channels == 2 else ''}"
                         f"no sentence wavs in {sentences}: both speakers of {dialog} get the same mixed audio")
        return [mix]

    def _from_sentences(self, dialog: str, media: MediaInfo, sentences: Path, speakers: tuple[str, ...],
                        utterances: list[UtterancePlan]) -> list[AudioPlan]:
        if not sentences.is_dir():
            return []
        assert media.audio is not None
        rate = media.audio.sample_rate
        found = {code: [(u, sentences / f"{u.name}.wav") for u in utterances if u.participant == code]
                 for code in speakers}
        missing = [u.name for pairs in found.values() for u, path in pairs if not path.is_file()]
        found = {code: [(u, p) for u, p in pairs if p.is_file()] for code, pairs in found.items()}
        if not all(found.values()):
            return []
        if missing:
            self.report.warn(f"{sentences}: no sentence wav for {len(missing)} utterance(s) "
                             f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): silence there")
        length = _samples(media.duration_us or 0, rate)
        plans = []
        for code, pairs in found.items():
            clips = [(_samples(u.start_us, rate), decode_audio(path, sample_rate=rate, channels="mix"))
                     for u, path in pairs]
            signal = np.zeros(max([length, *(start + len(c) for start, c in clips)]), dtype=np.float32)
            for start, clip in clips:
                signal[start:start + len(clip)] = clip
            out = self.project_root / SENTENCE_DIR / dialog / f"{dialog}_{code}.wav"
            self._write(out, signal, rate)
            plans.append(AudioPlan(code, probe_audio(out), [code]))
        return plans

    def _write(self, out: Path, signal: np.ndarray, rate: int) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            aside = out.with_name(f".{out.name}.replaced-{os.getpid()}")
            replace_durably(out, aside)
            self.moved_aside.append((out, aside))
        self.written.append(out)
        write_wav(out, signal, rate)

    def remove_written(self) -> None:
        """Undo this import's files (it failed): delete the wavs it wrote, put back those it wrote over."""
        for path in self.written:
            path.unlink(missing_ok=True)
        for out, aside in reversed(self.moved_aside):
            replace_durably(aside, out)
        self.written.clear()
        self.moved_aside.clear()

    def keep_written(self) -> None:
        """The import succeeded: drop the previous copies of the wavs it wrote over."""
        for _, aside in self.moved_aside:
            aside.unlink(missing_ok=True)
        self.written.clear()
        self.moved_aside.clear()


def stereo_order(wav: Path, rate: int, speakers: tuple[str, ...],
                 spans: dict[str, list[tuple[int, int]]]) -> tuple[str, ...] | None:
    """The speaker of channel 0 and 1, judged by where each speaker's turns are loud; None if unclear."""
    if len(speakers) != 2:
        return None
    samples = decode_audio(wav)  # (n, 2) at the file's rate
    energy = np.zeros((2, 2))
    for s, code in enumerate(speakers):
        parts = [samples[_samples(a, rate):_samples(b, rate)] for a, b in spans[code]]
        parts = [p for p in parts if len(p)]
        if not parts:
            return None
        joined = np.concatenate(parts)
        energy[:, s] = (joined.astype(np.float64) ** 2).mean(axis=0) + 1e-12
    contrast = math.log(energy[0, 0] / energy[0, 1]) - math.log(energy[1, 0] / energy[1, 1])
    if abs(contrast) < MIN_CHANNEL_CONTRAST:
        return None
    return speakers if contrast > 0 else speakers[::-1]


def _samples(us: int, rate: int) -> int:
    return max(0, round(us * rate / 1_000_000))

