"""``ProjectFrameSource``: the frames of a DyadLab project — analysis features plus store labels — as a FrameTable.

Why here: ``dyadlab analyze`` leaves per-(session, participant) arrays in the feature cache and the store
holds who felt what when; the trainer only speaks ``FrameTable``. This module is the one place that
joins them, so the training loop, ``dyadlab evaluate`` and the benchmarks read a project the same way.

One stream per (session, participant) that has features, rows in frame order (the participant's view's
frame index; a participant without a view gets the audio task's regular grid). Modalities map onto the
feature cache as ``face`` ← ``faces``, ``audio_raw`` ← ``audio_windows``, ``compare`` ← ``compare``,
``egemaps`` ← ``egemaps``; all modalities of a stream are aligned on the frame presentation times of the
first one in ``MODALITY_FEATURES`` order (an exact-time match; a frame another modality lacks is invalid).

Labels: the value of the segment covering the frame's presentation time (``start <= t < end``) on the
chosen annotator's categorical tier of that participant (later-starting segments win where segments
overlap), mapped through the scheme (a class name, or a corpus label the scheme's ``map`` turns into one;
-1 where no segment covers the frame or the scheme drops the value). Utterance ids are the store ids of the
participant's utterance covering the frame (-1 between utterances). ``group`` is the session's group (its
name when it has none), ``speaker`` the participant's corpus-wide speaker id (``session/code`` when unset).

Validity: a modality's frame is valid where the analysis found something (a face; an audio window inside
the recording). With ``audio_frames="speech"`` (the default) an audio modality's frame is valid only where
the cache's voice-activity detector (kind ``vad``) also hears the participant speak: a window of their
silence holds no evidence of their emotion, so training on it only adds label noise, and frame-level scores
then mean what they mean on a corpus labelled per utterance (IEMOCAP). ``audio_frames="all"`` keeps every
window. Labels are never changed by validity: a face model still learns from the silent frames.

Memory: nothing is copied. Each modality is a ``StackedRows`` over the cache's on-demand arrays that reads
just the rows a batch asks for (each cache block once per batch), so a corpus whose face crops do not fit in
memory still trains. ``face_size`` reads face crops at a model's input size (``project:PATH?face_size=64``):
decoded at the JPEG DCT scale that fits and resized by ``crop_codec.resize_crops`` (the resize inference
uses), so a batch decodes faster and the decoded-array budget holds (224/64)² ≈ 12× more crops.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np

from dyadlab.core.errors import DyadLabError
from dyadlab.core.features.chunk_store import LazyArray, crops_at_size
from dyadlab.core.features.crop_codec import CropBatch
from dyadlab.core.features.row_ranges import LazyRows, runs_by_part, selected_rows
from dyadlab.trainer.data import FrameTable, modality_kind
from dyadlab.trainer.errors import DataError

# Trainer modality -> feature-cache kind, in the order that picks a stream's reference frame times.
MODALITY_FEATURES: dict[str, str] = {"face": "faces", "audio_raw": "audio_windows", "compare": "compare",
                                     "egemaps": "egemaps"}
SPEC_PREFIX = "project:"
SPEC_KEYS = ("annotator", "tier", "scheme", "audio_frames", "face_size")
AUDIO_FRAMES = ("speech", "all")
MAX_LISTED = 8  # problems listed in one error message before "... and N more"
SPEECH_THRESHOLD = 0.5  # the cache's voice activity is 1 (speech) / 0 (silence) per frame
MIN_FACE_SIZE, MAX_FACE_SIZE = 16, 1024


def speech_frames(store: Any, session_id: int, participant_id: int, *, key: str | None = None) -> np.ndarray:
    """Where the participant speaks, per frame of their audio analysis: the cache's voice activity (kind
    ``vad``; ``key``: that result, default the latest). With ``audio_frames="speech"`` audio modalities count
    only on these frames; inference (``core.inference``) reuses this so a model predicts where it learned."""
    return np.asarray(store.load(session_id, participant_id, "vad", key=key).data) > SPEECH_THRESHOLD


class StackedRows(LazyRows):
    """Rows of several per-stream arrays seen as one ``[N, ...]`` array; ``[rows]`` reads only those rows.

    Why not ``np.concatenate``: the parts are memory-mapped cache files (face crops are 150 kB a frame), and a
    copy would cost the corpus's size in memory or disk. It offers what the trainer uses of an array
    (``LazyRows``). ``takes[i]`` maps the rows
    of part ``i`` onto rows of its array (-1: a frame that modality lacks, read as zeros); None is identity.
    """

    def __init__(self, parts: Sequence[np.ndarray], takes: Sequence[np.ndarray | None]) -> None:
        if not parts:
            raise ValueError("StackedRows needs at least one part")
        self.parts = list(parts)
        self.takes = list(takes)
        lengths = [len(p) if t is None else len(t) for p, t in zip(self.parts, self.takes, strict=True)]
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.dtype = np.dtype(self.parts[0].dtype)
        self.shape = (int(self.offsets[-1]), *self.parts[0].shape[1:])

    def _rows(self, index: Any) -> np.ndarray:
        flat, shape = selected_rows(index, len(self))
        out = np.zeros((flat.size, *self.shape[1:]), dtype=self.dtype)
        crops = CropBatch(out)  # every stream's face crops decoded in one parallel pass at the end
        for part, chosen, local in runs_by_part(flat, self.offsets):
            take = self.takes[part]
            if take is not None:
                local = take[local]
                present = local >= 0
                chosen, local = chosen[present], local[present]
            if not local.size:
                continue
            if isinstance(self.parts[part], LazyArray):  # cache arrays decode straight into the batch
                self.parts[part].take_into(local, out, chosen, crops)
            else:
                out[chosen] = self.parts[part][local]
        crops.decode()
        return out.reshape((*shape, *self.shape[1:]))


@dataclass
class _Stream:
    """What one (session, participant) contributes before the columns are stacked."""

    session: str
    group: str
    speaker: str
    participant: str
    times_us: np.ndarray
    labels: np.ndarray
    utterance: np.ndarray
    data: dict[str, np.ndarray]
    takes: dict[str, np.ndarray | None]
    valid: dict[str, np.ndarray]


@dataclass
class ProjectFrameSource:
    """Frames of the project at ``root`` labelled by ``annotator``'s ``tier`` tiers under ``scheme``."""

    root: Path
    annotator: str = "gold"
    tier: str = "emotion"
    scheme: str = "emotion-4class"
    audio_frames: str = "speech"  # "speech": audio frames valid only where the participant speaks; "all"
    face_size: int | None = None  # face crops at this size (a model's input), None: as the cache holds them

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if self.audio_frames not in AUDIO_FRAMES:
            raise DataError(f"audio_frames must be one of {list(AUDIO_FRAMES)}, not {self.audio_frames!r}")
        if self.face_size is not None:
            try:
                self.face_size = int(self.face_size)
            except ValueError:
                raise DataError(f"face_size must be a number of pixels, not {self.face_size!r}") from None
            if not MIN_FACE_SIZE <= self.face_size <= MAX_FACE_SIZE:
                raise DataError(f"face_size must be {MIN_FACE_SIZE}..{MAX_FACE_SIZE} px, not {self.face_size}")

    # -- the ``--data`` spelling -------------------------------------------------------------------------

    def spec(self) -> str:
        """``project:PATH`` plus the label choice when it is not the default (what ``from_spec`` reads)."""
        defaults = ProjectFrameSource(self.root)
        query = {k: getattr(self, k) for k in SPEC_KEYS if getattr(self, k) != getattr(defaults, k)}
        return SPEC_PREFIX + str(self.root) + (("?" + urlencode(query, quote_via=quote)) if query else "")

    @classmethod
    def from_spec(cls, spec: str) -> ProjectFrameSource:
        """``project:PATH`` or ``project:PATH?annotator=A&tier=T&scheme=S&audio_frames=F&face_size=N`` (any subset
        of those keys; a ``?`` followed by anything else is part of the path)."""
        if not spec.startswith(SPEC_PREFIX) or len(spec) == len(SPEC_PREFIX):
            raise DataError(f"not a project data source: {spec!r}", hint="use project:PATH")
        body = spec[len(SPEC_PREFIX):]
        path, sep, query = body.rpartition("?")
        if sep:
            pairs = parse_qsl(query, keep_blank_values=True)
            if pairs and all(k in SPEC_KEYS and v for k, v in pairs):
                return cls(Path(path), **dict(pairs))
        return cls(Path(body))

    def reading_faces_at(self, size: int | None) -> ProjectFrameSource:
        """This source reading face crops at ``size`` when the cache holds larger ones (``default_face_size``:
        never enlarged, so a model trained on larger crops than the cache holds meets the shape check)."""
        if size is None:
            return self
        return dataclasses.replace(self, face_size=default_face_size(size, self.stored_face_size()))

    def stored_face_size(self) -> int | None:
        """The side of the face crops in this project's cache (the first participant with faces; None when no
        one has any). Reads no crop."""
        from dyadlab.core.features.cache import CacheMiss, FeatureStore
        from dyadlab.core.project import open_project

        with open_project(self.root) as project:
            with project.store.transaction() as tx:
                pairs = [(s.id, p.id) for s in tx.sessions.list() for p in tx.participants.list(s.id)]
            store = FeatureStore(project)
            for session_id, participant_id in pairs:
                try:
                    return int(store.load(session_id, participant_id, MODALITY_FEATURES["face"]).data.shape[1])
                except CacheMiss:
                    continue
        return None

    # -- loading -----------------------------------------------------------------------------------------

    def load(self, modalities: Sequence[str], sessions: Sequence[str] | None = None) -> FrameTable:
        """The FrameTable of ``modalities`` for the named sessions (all when None)."""
        from dyadlab.core.errors import ProjectError

        modalities = list(dict.fromkeys(modalities))
        for name in modalities:
            modality_kind(name)
            if name not in MODALITY_FEATURES:
                raise DataError(f"input {name!r} has no feature in a project's cache",
                                hint=f"project inputs: {', '.join(MODALITY_FEATURES)}")
        if not modalities:
            raise DataError("no input modality requested")
        from dyadlab.core.project import open_project

        try:
            project = open_project(self.root)
        except ProjectError as exc:
            raise DataError(f"not a DyadLab project: {exc.problem}", path=self.root,
                            hint="pass a project folder (dyadlab.sqlite inside), or --data synthetic") from None
        try:
            classes, streams = self._read(project, modalities, sessions)
        finally:
            project.close()
        return self._table(streams, modalities, classes)

    def _read(self, project: Any, modalities: list[str], sessions: Sequence[str] | None
              ) -> tuple[tuple[str, ...], list[_Stream]]:
        """Read the store once, then each participant's features; every problem is a DataError."""
        from dyadlab.core.features.cache import FeatureStore

        classes, value_to_class, plan, offered = self._plan(project, modalities, sessions)
        store = FeatureStore(project)
        streams, missing = [], []
        for session, participant, segments, utterances in plan:
            stream = self._stream(store, session, participant, modalities, missing)
            if stream is not None:
                stream.labels = _labels_at(stream.times_us, segments, value_to_class)
                stream.utterance = _utterances_at(stream.times_us, utterances)
                streams.append(stream)
        if missing:
            raise DataError(self._missing_message(missing, modalities), path=self.root,
                            hint=self._analyze_hint(missing))
        if not any(np.any(s.labels >= 0) for s in streams):
            listed = ", ".join(f"{a}/{t}" for a, t in offered) or "none"
            raise DataError(f"no frame is labelled with a class of {self.scheme!r} by annotator {self.annotator!r} "
                            f"on tier {self.tier!r} in the chosen sessions; their categorical tiers "
                            f"(annotator/tier): {listed}", path=self.root,
                            hint="choose the labels with --annotator and --tier; an IEMOCAP import has "
                                 "--annotator iemocap --tier emotion4")
        return classes, streams

    def _plan(self, project: Any, modalities: list[str], sessions: Sequence[str] | None
              ) -> tuple[tuple[str, ...], dict[str, int], list[tuple[Any, Any, list[Any], list[Any]]], list[tuple[str, str]]]:
        """In one transaction: the classes, the value -> class map, (session, participant, label segments,
        utterances) per participant, and the categorical (annotator, tier) pairs there are (for errors)."""
        with project.store.transaction() as tx:
            chosen = [(s, tx.participants.list(s.id)) for s in self._sessions(tx, sessions)]
            if not any(participants for _, participants in chosen):
                raise DataError(f"analysis features not found for {', '.join(modalities)}: the project has no "
                                "participants in the chosen sessions", path=self.root,
                                hint=f"import sessions, then run `dyadlab analyze {self.root}`")
            classes, value_to_class = self._scheme(tx)
            annotator = tx.annotators.by_name(self.annotator)
            if annotator is None:
                known = sorted(a.name for a in tx.annotators.list())
                raise DataError(f"no annotator named {self.annotator!r} in this project", path=self.root,
                                hint=f"annotators: {', '.join(known) or 'none'}")
            plan = []
            for session, participants in chosen:
                tiers = {t.participant_id: t for t in tx.tiers.list(session.id, annotator_id=annotator.id,
                                                                   name=self.tier)}
                utterances = tx.utterances.list(session.id)
                for participant in participants:
                    tier = tiers.get(participant.id)
                    plan.append((session, participant, tx.segments.list(tier.id) if tier is not None else [],
                                 [u for u in utterances if u.participant_id == participant.id]))
            offered = sorted({(tx.annotators.get(t.annotator_id).name, t.name) for s, _ in chosen
                              for t in tx.tiers.list(s.id) if t.kind == "categorical"})
        return classes, value_to_class, plan, offered

    def _stream(self, store: Any, session: Any, participant: Any, modalities: list[str],
                missing: list[tuple[str, str, str, bool]]) -> _Stream | None:
        """One participant's features aligned on the reference frame times, without labels yet; None (and
        entries in ``missing``) when a modality has not been analysed."""
        from dyadlab.core.features.cache import CacheMiss, FeatureDropped

        loaded, valid = {}, {}
        speech: np.ndarray | None = None
        for name in modalities:
            try:
                feature = loaded[name] = store.load(session.id, participant.id, MODALITY_FEATURES[name])
                valid[name] = np.asarray(feature.valid, dtype=bool)
                if self.audio_frames == "speech" and modality_kind(name) != "image":
                    if speech is None:
                        speech = speech_frames(store, session.id, participant.id)
                    valid[name] = valid[name] & speech
            except CacheMiss as exc:
                missing.append((session.name, participant.code, name, isinstance(exc, FeatureDropped)))
        if len(loaded) < len(modalities):
            return None
        reference = loaded[next(m for m in MODALITY_FEATURES if m in loaded)].times_us
        stream = _Stream(session=session.name, group=session.group or session.name,
                         speaker=participant.speaker or f"{session.name}/{participant.code}",
                         participant=participant.code, times_us=reference, labels=np.empty(0, np.int64),
                         utterance=np.empty(0, np.int64), data={}, takes={}, valid={})
        for name, feature in loaded.items():
            take = _align(reference, feature.times_us)
            data = crops_at_size(feature.data, self.face_size) if modality_kind(name) == "image" else feature.data
            stream.data[name], stream.takes[name] = data, take
            if take is not None:  # frames this modality lacks are invalid
                own = valid[name]
                valid[name] = np.zeros(len(take), bool) if not len(own) else (take >= 0) & own[np.maximum(take, 0)]
            stream.valid[name] = valid[name]
        return stream

    def _sessions(self, tx: Any, names: Sequence[str] | None) -> list[Any]:
        from dyadlab.core.labels.snapshot import resolve_sessions

        try:
            return resolve_sessions(tx, names)
        except DyadLabError as exc:  # an unknown name: the trainer's error, naming the project
            raise DataError(exc.problem, path=self.root, hint=exc.hint) from exc

    def _scheme(self, tx: Any) -> tuple[tuple[str, ...], dict[str, int]]:
        """The scheme's classes and every tier value that maps to one (class names and ``map`` entries)."""
        scheme = tx.schemes.by_name(self.scheme)
        if scheme is None or scheme.kind != "categorical":
            known = sorted(s.name for s in tx.schemes.list() if s.kind == "categorical")
            raise DataError(f"no categorical label scheme named {self.scheme!r} in this project", path=self.root,
                            hint=f"categorical schemes: {', '.join(known) or 'none'}")
        classes = tuple(scheme.classes)
        index = {name: i for i, name in enumerate(classes)}
        mapped = {src: index[dst] for src, dst in scheme.definition.get("map", {}).items() if dst in index}
        return classes, {**mapped, **index}

    def _missing_message(self, missing: list[tuple[str, str, str, bool]], modalities: list[str]) -> str:
        shown = [f"{s}/{p} ({MODALITY_FEATURES[m]}{', dropped' if d else ''})" for s, p, m, d in missing[:MAX_LISTED]]
        more = f" and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
        why = ("were dropped from the cache (`dyadlab cache --drop`) or have not been analysed"
               if any(d for *_, d in missing) else "have not been analysed")
        return (f"analysis features not found for {', '.join(modalities)}: session/participant "
                f"{', '.join(shown)}{more} {why}")

    def _analyze_hint(self, missing: list[tuple[str, str, str, bool]]) -> str:
        tasks = sorted({"faces" if m == "face" else "audio" for _, _, m, _ in missing})
        sessions = sorted({s for s, *_ in missing})
        dropped = sorted({"faces" if m == "face" else "audio" for _, _, m, d in missing if d})
        if dropped:  # the result is there without the feature: analysing again would find it cached
            return (f"run `dyadlab cache clear {self.root} --what {','.join(dropped)} --sessions {' '.join(sessions)}`, "
                    f"then `dyadlab analyze "
                    f"{self.root} --what {','.join(tasks)} --sessions {' '.join(sessions)}`")
        return f"run `dyadlab analyze {self.root} --what {','.join(tasks)} --sessions {' '.join(sessions)}`"

    def _table(self, streams: list[_Stream], modalities: list[str], classes: tuple[str, ...]) -> FrameTable:
        for name in modalities:
            shapes = {tuple(s.data[name].shape[1:]) for s in streams}
            if len(shapes) > 1:
                detail = ", ".join(f"{s.session}/{s.participant} {tuple(s.data[name].shape[1:])}" for s in streams)
                raise DataError(f"{name} features differ in shape between streams ({detail})", path=self.root,
                                hint="analyse every session with the same parameters (`dyadlab cache clear`, "
                                     "then `dyadlab analyze` again)")

        def column(get: Any, dtype: Any = None) -> np.ndarray:
            return np.concatenate([np.asarray(get(s), dtype=dtype) for s in streams])

        sizes = [len(s.times_us) for s in streams]
        return FrameTable(
            inputs={m: StackedRows([s.data[m] for s in streams], [s.takes[m] for s in streams]) for m in modalities},
            labels=column(lambda s: s.labels, np.int64),
            session=np.repeat([s.session for s in streams], sizes),
            group=np.repeat([s.group for s in streams], sizes),
            speaker=np.repeat([s.speaker for s in streams], sizes),
            utterance=column(lambda s: s.utterance, np.int64),
            frame=np.concatenate([np.arange(n, dtype=np.int64) for n in sizes]),
            stream=np.repeat(np.arange(len(streams), dtype=np.int64), sizes),
            valid={m: column(lambda s, m=m: s.valid[m], bool) for m in modalities},
            classes=classes, scheme=self.scheme,
        ).validate(str(self.root))


def trained_face_size(inputs: dict[str, Any]) -> int | None:
    """The face-crop side a checkpoint's model was trained on (its metadata's ``inputs``; None: no face input),
    so scoring and fine-tuning read the cache at the size training read it."""
    for name, spec in inputs.items():
        if modality_kind(name) == "image":
            return int(spec["shape"][0])
    return None


def default_face_size(model_size: int | None, stored: int | None) -> int | None:
    """The size to read face crops at for a model that works at ``model_size``: that size when the cache holds
    larger crops (decoded smaller, more of them fit the decoded budget), else the crops as cached (None)."""
    if model_size is not None and stored is not None and model_size < stored:
        return model_size
    return None


def _labels_at(times_us: np.ndarray, segments: Sequence[Any], value_to_class: dict[str, int]) -> np.ndarray:
    """Class index of the segment covering each time (-1: none, or a value the scheme drops)."""
    labels = np.full(len(times_us), -1, dtype=np.int64)
    for seg in sorted(segments, key=lambda s: (s.start_us, s.id)):
        labels[(times_us >= seg.start_us) & (times_us < seg.end_us)] = value_to_class.get(seg.value or "", -1)
    return labels


def _utterances_at(times_us: np.ndarray, utterances: Sequence[Any]) -> np.ndarray:
    """Store id of the utterance covering each time (-1 between utterances)."""
    ids = np.full(len(times_us), -1, dtype=np.int64)
    for utt in sorted(utterances, key=lambda u: (u.start_us, u.id)):
        ids[(times_us >= utt.start_us) & (times_us < utt.end_us)] = utt.id
    return ids


def _align(reference: np.ndarray, times_us: np.ndarray) -> np.ndarray | None:
    """None when ``times_us`` equals ``reference``; else, per reference time, the row of ``times_us`` with
    exactly that time, or -1."""
    if len(reference) == len(times_us) and np.array_equal(reference, times_us):
        return None
    order = np.argsort(times_us, kind="stable")
    pos = np.clip(np.searchsorted(times_us, reference, sorter=order), 0, max(len(times_us) - 1, 0))
    if len(times_us) == 0:
        return np.full(len(reference), -1, dtype=np.int64)
    rows = order[pos]
    return np.where(times_us[rows] == reference, rows, -1).astype(np.int64)
