"""The trainer's data contract: ``FrameTable`` (aligned per-frame arrays) and ``FrameSource`` (who loads them).

Why this exists: the analysis pipeline (face crops, raw-audio windows, openSMILE features, labels from
the store) and the trainer are built by different people at different times. They meet here, in a
small interface that says nothing about file layout:

* ``FrameSource.load(modalities, sessions) -> FrameTable`` — ``ProjectFrameSource`` (``project_source.py``)
  implements it over a project's feature cache and label tiers; ``SyntheticFrameSource``
  implements it with class-separable synthetic data for tests, CI and benchmarks.
* ``FrameTable`` — one row per video frame of one (session, participant) *stream*, all arrays aligned
  by row. The contract (checked by ``FrameTable.validate``):

  - rows of one stream are contiguous and ordered by ``frame`` with step 1 (no gaps: a frame without
    data stays in the table with ``valid[modality] == False``), so "10 steps every 2nd frame" is row
    arithmetic;
  - ``inputs[m]`` is a numpy array, ``np.memmap`` or ``project_source.StackedRows`` (per-stream memmaps
    read row by row) with one row per frame; its layout depends on the modality kind
    (``MODALITY_KINDS``): ``waveform`` float32 ``[N, samples]`` (e.g. 1600 samples = one 16 kHz window
    per 25 fps frame), ``features`` float32 ``[N, dims]`` (ComParE 6373, eGeMAPS 88), ``image`` uint8
    ``[N, H, W, 3]`` RGB face crops (224×224 for real data);
  - ``labels`` int64, an index into ``classes`` or -1 (unlabelled / dropped by the scheme: ignored);
  - ``session``, ``group`` (e.g. "Session1", used by splits) and ``speaker`` (corpus-wide speaker id)
    are strings, constant within a stream; ``utterance`` is an int id (unique within its stream) or -1;
  - ``valid[m]`` is a bool mask per modality (missing masks mean "all valid").

Memory: the table is loaded once per process; large modalities (faces) should be ``np.memmap`` so
only the rows a batch needs are read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from dyadlab.trainer.errors import DataError

# Modality name -> kind. A model branch accepts modalities of one kind (see models/registry.py).
MODALITY_KINDS: dict[str, str] = {
    "audio_raw": "waveform",
    "compare": "features",
    "egemaps": "features",
    "face": "image",
}
KIND_DTYPES = {"waveform": np.float32, "features": np.float32, "image": np.uint8}
KIND_NDIM = {"waveform": 2, "features": 2, "image": 4}
EMOTION_4CLASS = ("neutral", "happy", "sad", "angry")  # order of resources/schemes/emotion-4class.toml


def modality_kind(name: str) -> str:
    try:
        return MODALITY_KINDS[name]
    except KeyError:
        raise DataError(f"unknown input modality {name!r}; known: {sorted(MODALITY_KINDS)}") from None


@dataclass
class FrameTable:
    """Aligned per-frame arrays for many (session, participant) streams (see the module docstring)."""

    inputs: dict[str, np.ndarray]
    labels: np.ndarray
    session: np.ndarray
    group: np.ndarray
    speaker: np.ndarray
    utterance: np.ndarray
    frame: np.ndarray
    stream: np.ndarray
    valid: dict[str, np.ndarray] = field(default_factory=dict)
    classes: tuple[str, ...] = EMOTION_4CLASS
    scheme: str = "emotion-4class"

    def __post_init__(self) -> None:
        for name in self.inputs:
            if name not in self.valid:
                self.valid[name] = np.ones(len(self.labels), dtype=bool)

    def __len__(self) -> int:
        return len(self.labels)

    def sample_shape(self, modality: str) -> tuple[int, ...]:
        """Shape of one frame's input, e.g. ``(1600,)`` or ``(224, 224, 3)``."""
        return tuple(int(n) for n in self.inputs[modality].shape[1:])

    def stream_start_rows(self) -> np.ndarray:
        """For every row, the row index where its stream begins (rows of a stream are contiguous)."""
        n = len(self)
        starts = np.ones(n, dtype=bool)
        starts[1:] = self.stream[1:] != self.stream[:-1]
        first = np.flatnonzero(starts)
        return first[np.cumsum(starts) - 1]

    def validate(self, source: str = "frame table") -> FrameTable:
        """Check the contract; raises DataError naming the source and the first problem found."""
        n = len(self.labels)

        def fail(msg: str) -> None:
            raise DataError(msg, path=source, hint="the FrameSource must return arrays aligned by frame")

        columns = {"session": self.session, "group": self.group, "speaker": self.speaker,
                   "utterance": self.utterance, "frame": self.frame, "stream": self.stream}
        for name, arr in [*columns.items(), *((f"inputs[{k!r}]", v) for k, v in self.inputs.items()),
                          *((f"valid[{k!r}]", v) for k, v in self.valid.items())]:
            if len(arr) != n:
                fail(f"{name} has {len(arr)} rows but labels has {n}")
        if n == 0:
            fail("the table is empty (no frames for the requested sessions)")
        if self.labels.min() < -1 or self.labels.max() >= len(self.classes):
            fail(f"labels must be -1 or 0..{len(self.classes) - 1} (classes {list(self.classes)}), "
                 f"found {int(self.labels.min())}..{int(self.labels.max())}")
        for name, arr in self.inputs.items():
            kind = modality_kind(name)
            if arr.ndim != KIND_NDIM[kind] or arr.dtype != KIND_DTYPES[kind]:
                fail(f"inputs[{name!r}] must be {np.dtype(KIND_DTYPES[kind]).name} with {KIND_NDIM[kind]} "
                     f"dimensions ({kind}), got {arr.dtype} {arr.shape}")
            if kind == "image" and arr.shape[-1] != 3:
                fail(f"inputs[{name!r}] must be RGB [N, H, W, 3], got {arr.shape}")
        for name, mask in self.valid.items():
            if mask.dtype != bool:
                fail(f"valid[{name!r}] must be a bool array, got {mask.dtype}")
        new_stream = np.ones(n, dtype=bool)
        new_stream[1:] = self.stream[1:] != self.stream[:-1]
        if len(np.unique(self.stream)) != int(new_stream.sum()):
            fail("rows of a stream must be contiguous (sort the table by stream, then frame)")
        steps = np.diff(self.frame)[~new_stream[1:]]
        if steps.size and not np.all(steps == 1):
            bad = int(np.flatnonzero(~new_stream[1:])[np.flatnonzero(steps != 1)[0]]) + 1
            fail(f"frames of a stream must be consecutive (row {bad}: frame {int(self.frame[bad - 1])} -> "
                 f"{int(self.frame[bad])}); keep missing frames as rows with valid=False")
        starts = self.stream_start_rows()
        for name, col in (("group", self.group), ("speaker", self.speaker), ("session", self.session)):
            if not np.all(col == col[starts]):
                fail(f"{name} must be constant within a stream")
        return self


@runtime_checkable
class FrameSource(Protocol):
    """Anything that can load a FrameTable. ``sessions=None`` means every session."""

    def load(self, modalities: Sequence[str], sessions: Sequence[str] | None = None) -> FrameTable: ...


@dataclass
class SyntheticFrameSource:
    """Class-separable synthetic frames with the real layouts (sizes configurable, small in tests).

    One session per group ("Session1".."SessionG"), ``speakers_per_group`` participants each (one stream
    per participant, speakers "Ses01F", "Ses01M", ...). A stream alternates unlabelled gaps and
    utterances; each utterance has one class, drawn at random. The class shows in every modality:
    the raw-audio tone's pitch and loudness, a class-specific mean pattern in the feature vectors (whose
    dimensions have wildly different scales, like ComParE, so standardisation matters), and a
    left-right symmetric class template in the face images (so horizontal flips keep the label).
    ``noise`` sets how hard it is (0: trivial; 1: hard per frame). Same parameters → same data.
    """

    groups: int = 5
    speakers_per_group: int = 2
    frames_per_stream: int = 300
    utterance_frames: tuple[int, int] = (20, 60)
    gap_frames: tuple[int, int] = (0, 10)
    audio_samples: int = 1600
    sample_rate: int = 16000
    compare_dim: int = 6373
    egemaps_dim: int = 88
    face_size: int = 224
    noise: float = 0.5
    invalid_face_fraction: float = 0.05
    classes: tuple[str, ...] = EMOTION_4CLASS
    scheme: str = "emotion-4class"
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse parameters that cannot make a table (ValueError; the config reader names the key)."""
        ranges = {"utterance_frames": (1, self.utterance_frames), "gap_frames": (0, self.gap_frames)}
        for name, (lowest, (lo, hi)) in ranges.items():
            if not lowest <= lo <= hi:
                raise ValueError(f"{name} must be [min, max] with {lowest} <= min <= max, got [{lo}, {hi}]")
        for name in ("groups", "frames_per_stream", "audio_samples", "sample_rate", "compare_dim", "egemaps_dim",
                     "face_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 1 <= self.speakers_per_group <= 10:
            raise ValueError(f"speakers_per_group must be 1..10, got {self.speakers_per_group}")
        if self.noise < 0 or self.seed < 0 or not 0 <= self.invalid_face_fraction < 1:
            raise ValueError("noise and seed must be >= 0 and invalid_face_fraction in [0, 1)")
        if len(self.classes) < 2:
            raise ValueError(f"classes needs at least 2 names, got {list(self.classes)}")

    def load(self, modalities: Sequence[str], sessions: Sequence[str] | None = None) -> FrameTable:
        layout = self._layout()
        keep = np.ones(len(layout["labels"]), dtype=bool)
        if sessions is not None:
            unknown = sorted(set(sessions) - set(layout["session"]))
            if unknown:
                raise DataError(f"synthetic source has no sessions {unknown}; it has "
                                f"{sorted(set(layout['session']))}")
            keep = np.isin(layout["session"], list(sessions))
        rows = np.flatnonzero(keep)
        inputs: dict[str, np.ndarray] = {}
        valid: dict[str, np.ndarray] = {}
        for name in modalities:
            data, mask = self._modality(name, layout)
            inputs[name], valid[name] = data[rows], mask[rows]
        return FrameTable(inputs=inputs, labels=layout["labels"][rows], session=layout["session"][rows],
                          group=layout["group"][rows], speaker=layout["speaker"][rows],
                          utterance=layout["utterance"][rows], frame=layout["frame"][rows],
                          stream=layout["stream"][rows], valid=valid, classes=tuple(self.classes),
                          scheme=self.scheme).validate("synthetic source")

    def _layout(self) -> dict[str, np.ndarray]:
        """Streams, utterances and labels (independent of the modalities asked for)."""
        rng = np.random.default_rng([self.seed, 0])
        cols: dict[str, list] = {k: [] for k in ("labels", "latent", "session", "group", "speaker",
                                                 "utterance", "frame", "stream", "pitch")}
        stream = 0
        codes = "FMABCDEFGH"
        for g in range(1, self.groups + 1):
            for p in range(self.speakers_per_group):
                n = self.frames_per_stream
                labels = np.full(n, -1, dtype=np.int64)
                utterance = np.full(n, -1, dtype=np.int64)
                latent = rng.integers(0, len(self.classes), n)  # what gap frames look like
                pos, utt = 0, 0
                while pos < n:
                    pos += int(rng.integers(self.gap_frames[0], self.gap_frames[1] + 1))
                    length = int(rng.integers(self.utterance_frames[0], self.utterance_frames[1] + 1))
                    end = min(n, pos + length)
                    if end > pos:
                        cls = int(rng.integers(0, len(self.classes)))
                        labels[pos:end], latent[pos:end], utterance[pos:end] = cls, cls, utt
                        utt += 1
                    pos = end
                code = codes[p % len(codes)]
                cols["labels"].append(labels)
                cols["latent"].append(latent)
                cols["utterance"].append(utterance)
                cols["session"].append(np.full(n, f"Session{g}"))
                cols["group"].append(np.full(n, f"Session{g}"))
                cols["speaker"].append(np.full(n, f"Ses{g:02d}{code}"))
                cols["frame"].append(np.arange(n, dtype=np.int64))
                cols["stream"].append(np.full(n, stream, dtype=np.int64))
                cols["pitch"].append(np.full(n, rng.uniform(0.9, 1.1), dtype=np.float32))
                stream += 1
        return {k: np.concatenate(v) for k, v in cols.items()}

    def _modality(self, name: str, layout: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        kind = modality_kind(name)
        rng = np.random.default_rng([self.seed, 1 + sorted(MODALITY_KINDS).index(name)])
        latent, n = layout["latent"], len(layout["latent"])
        valid = np.ones(n, dtype=bool)
        if kind == "waveform":
            t = np.arange(self.audio_samples, dtype=np.float32) / self.sample_rate
            freq = (150.0 * 2.0 ** (0.8 * latent) * layout["pitch"]).astype(np.float32)
            amp = (0.3 + 0.15 * (latent % 3)).astype(np.float32)
            phase = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
            data = amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
            data += 0.3 * self.noise * rng.standard_normal((n, self.audio_samples), dtype=np.float32)
            return data.astype(np.float32), valid
        if kind == "features":
            dims = self.compare_dim if name == "compare" else self.egemaps_dim
            scale = (10.0 ** rng.uniform(-2, 3, dims)).astype(np.float32)
            offset = rng.normal(0, 5, dims).astype(np.float32)
            means = rng.standard_normal((len(self.classes), dims), dtype=np.float32)
            speakers, speaker_row = np.unique(layout["speaker"], return_inverse=True)
            shift = rng.normal(0, 0.3, (len(speakers), dims)).astype(np.float32)
            data = means[latent] + shift[speaker_row] + 2.0 * self.noise * rng.standard_normal((n, dims), dtype=np.float32)
            return (data * scale + offset).astype(np.float32), valid
        size = self.face_size
        coarse = rng.standard_normal((len(self.classes), 8, 4), dtype=np.float32)
        coarse = np.concatenate([coarse, coarse[:, :, ::-1]], axis=2)  # left-right symmetric
        reps = -(-size // 8)
        templates = np.repeat(np.repeat(coarse, reps, axis=1), reps, axis=2)[:, :size, :size]
        background = rng.uniform(-30, 30, (int(layout["stream"].max()) + 1, 3)).astype(np.float32)
        data = np.empty((n, size, size, 3), dtype=np.uint8)
        for lo in range(0, n, 256):  # chunks keep the float temporaries small at 224x224
            hi = min(n, lo + 256)
            img = 128.0 + 50.0 * templates[latent[lo:hi]][..., None] + background[layout["stream"][lo:hi]][:, None, None, :]
            img += 40.0 * self.noise * rng.standard_normal(img.shape, dtype=np.float32)
            data[lo:hi] = np.clip(img, 0, 255).astype(np.uint8)
        valid = rng.random(n) >= self.invalid_face_fraction
        data[~valid] = 0
        return data, valid


def __getattr__(name: str) -> object:
    """``ProjectFrameSource`` lives in ``project_source`` (it reads the store and the feature cache); it is
    re-exported here lazily because that module imports this one."""
    if name == "ProjectFrameSource":
        from dyadlab.trainer.project_source import ProjectFrameSource

        return ProjectFrameSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_source(spec: str, synthetic: SyntheticFrameSource | None = None) -> FrameSource:
    """``"synthetic"`` (with the config's synthetic parameters) or ``"project:PATH"`` (optionally
    ``project:PATH?annotator=A&tier=T&scheme=S`` to choose the labels; see ``ProjectFrameSource.from_spec``)."""
    if spec == "synthetic":
        return dataclasses.replace(synthetic) if synthetic is not None else SyntheticFrameSource()
    if spec.startswith("project:") and len(spec) > len("project:"):
        from dyadlab.trainer.project_source import ProjectFrameSource

        return ProjectFrameSource.from_spec(spec)
    raise DataError(f"unknown data source {spec!r}", hint="use --data synthetic or --data project:PATH")
