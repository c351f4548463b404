"""Which DyadLab tier (participant, tier, annotator) each tier of an ELAN or Praat file goes to.

DyadLab's own files name tiers ``PARTICIPANT|TIER|ANNOTATOR`` (``core/labels/naming.py``); files made in
ELAN or Praat by other people name them freely ("Emotion", "Valence Bob", "Spk2 affect"). The readers
keep every tier under its file name (``SourceTier.name``, ``key`` None where the name does not parse);
this module

* **guesses** a target for each tier from what the project knows (``guess_targets``): its participants'
  codes, annotators and tier names, ELAN's ``PARTICIPANT``/``ANNOTATOR`` tier attributes, names an earlier
  import recorded (``source_names.py``), and words such as "emotion" or "valence"; a tier whose labels are
  mostly in no scheme of the project is guessed onto a new scheme of its own (``tier_schemes.py``);
* reads the user's **mapping** — ``--map "Emotion=A/emotion/alice"`` options (``parse_map_options``) or a
  TOML file (``load_mapping_file``), or the GUI's mapping step — and **applies** it
  (``apply_tier_mapping``): a tier mapped twice, a mapping naming a tier the file lacks, or a tier left
  unmapped is refused with the file and tier named; a tier mapped to ``skip`` is left out and noted;
* imports a file with a mapping and an unknown-label policy in one call (``import_mapped``), or dry-runs it
  to list the labels the user still has to decide about (``find_unknown_labels``).

Everything is checked before the one write transaction of ``label_import``: nothing is half-imported.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dyadlab.core.errors import DyadLabError, ImportFormatError
from dyadlab.core.io.label_files.label_import import ImportReport, LabelDocument, OnExisting, import_documents
from dyadlab.core.io.label_files.tier_schemes import NEW_SCHEME, wants_own_scheme
from dyadlab.core.io.label_files.unknown_labels import UnknownLabels, parse_choice
from dyadlab.core.labels.naming import SESSION_LEVEL, TierKey, parse_tier_name

if TYPE_CHECKING:
    from dyadlab.core.io.label_files.label_import import SourceTier
    from dyadlab.core.model import LabelScheme
    from dyadlab.core.project import Project

SKIP = "skip"
Unmapped = Literal["refuse", "skip", "keep"]
# Words in a tier name that say which DyadLab tier it is (lower case); anything else keeps its own name.
TIER_WORDS = {"emotion": "emotion", "emotions": "emotion", "emo": "emotion", "affect": "emotion",
              "valence": "valence", "arousal": "arousal", "activation": "arousal", "dominance": "dominance",
              "scene": "scene", "words": "words", "transcript": "words", "transcription": "words"}
_WORD = re.compile(r"[A-Za-z]+|\d+")


@dataclass(frozen=True)
class TierTarget:
    """Where one file tier goes: a key (None: skip the tier) and, optionally, the scheme of a new tier
    (``NEW_SCHEME``: a new categorical scheme named after the tier, holding its labels)."""

    key: TierKey | None
    scheme: str | None = None

    def format(self) -> str:
        if self.key is None:
            return SKIP
        code = SESSION_LEVEL if self.key.participant is None else self.key.participant
        text = f"{code}/{self.key.tier}/{self.key.annotator}"
        return f"{text}@{self.scheme}" if self.scheme else text


TierMapping = dict[str, TierTarget]


def parse_target(text: str, *, where: str = "") -> TierTarget:
    """``PARTICIPANT/TIER/ANNOTATOR[@SCHEME]`` (``*`` for a session-level tier; ``@+new`` for a new scheme
    named after the tier) or ``skip``."""
    body = text.strip()
    if body.lower() == SKIP:
        return TierTarget(None)
    body, _, scheme = body.partition("@")
    parts = [p.strip() for p in body.split("/")]
    if len(parts) != 3 or not all(parts):
        raise DyadLabError(f"{where}{text!r} is not PARTICIPANT/TIER/ANNOTATOR (or skip)",
                           hint="e.g. 'A/emotion/alice', '*/scene/alice' for a session-level tier, "
                                "'A/emotion/alice@emotion-4class' to name the scheme, 'B/laughs/alice@+new' "
                                "for a new scheme of the tier's own")
    code, tier, annotator = parts
    return TierTarget(TierKey(None if code == SESSION_LEVEL else code, tier, annotator), scheme.strip() or None)


def _add(mapping: TierMapping, name: str, target: TierTarget, where: str) -> None:
    if name in mapping and mapping[name] != target:
        raise DyadLabError(f"{where}tier {name!r} is mapped twice ({mapping[name].format()} and {target.format()})")
    mapping[name] = target


def merge_mappings(*mappings: Mapping[str, TierTarget]) -> TierMapping:
    """One mapping of several (a mapping file and ``--map`` options); a tier mapped differently twice is refused."""
    merged: TierMapping = {}
    for mapping in mappings:
        for name, target in mapping.items():
            _add(merged, name, target, "")
    return merged


def parse_map_options(options: Iterable[str]) -> TierMapping:
    """The mapping of ``--map "FILE TIER=PARTICIPANT/TIER/ANNOTATOR"`` options (``=skip`` leaves a tier out)."""
    mapping: TierMapping = {}
    for option in options:
        name, sep, target = option.rpartition("=")
        if not sep or not name.strip():
            raise DyadLabError(f"--map {option!r}: expected FILE_TIER=PARTICIPANT/TIER/ANNOTATOR")
        _add(mapping, name.strip(), parse_target(target, where=f"--map {option!r}: "), "--map: ")
    return mapping


def load_mapping_file(path: str | Path) -> tuple[TierMapping, UnknownLabels]:
    """A TOML mapping file: a ``[tiers]`` table (file tier = "P/TIER/ANNOTATOR" or "skip", or a table with
    participant, tier, annotator and optionally scheme, ``"+new"`` for a new one) and an ``[unknown]`` table (label = "refuse",
    "add" or "map:CLASS"; the key ``"*"`` sets the choice for labels not listed)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DyadLabError(f"cannot read the mapping file: {exc.strerror}", path=path) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DyadLabError(f"not a TOML mapping file ({exc})", path=path) from None
    unexpected = set(data) - {"tiers", "unknown"}
    if unexpected:
        raise DyadLabError(f"unexpected table(s) {', '.join(sorted(unexpected))}", path=path,
                           hint="a mapping file holds [tiers] and [unknown]")
    mapping: TierMapping = {}
    for name, value in dict(data.get("tiers", {})).items():
        where = f"{path}: [tiers] {name!r}: "
        if isinstance(value, str):
            target = parse_target(value, where=where)
        elif isinstance(value, dict) and {"tier", "annotator"} <= set(value):
            code = value.get("participant", SESSION_LEVEL)
            target = TierTarget(TierKey(None if code == SESSION_LEVEL else str(code), str(value["tier"]),
                                        str(value["annotator"])), value.get("scheme"))
        else:
            raise DyadLabError(f"{where}expected \"P/TIER/ANNOTATOR\", \"skip\" or a table with participant, tier "
                               f"and annotator")
        _add(mapping, name, target, f"{path}: ")
    unknown = UnknownLabels()
    for label, choice in dict(data.get("unknown", {})).items():
        parsed = parse_choice(str(choice))
        if label == "*":
            unknown.default = parsed
        else:
            unknown.choices[label] = parsed
    return mapping, unknown


# -- applying a mapping ------------------------------------------------------------------------------


def apply_tier_mapping(doc: LabelDocument, mapping: Mapping[str, TierTarget | TierKey | None] | None = None,
                       unmapped: Unmapped = "refuse") -> LabelDocument:
    """Give every tier of ``doc`` its key from ``mapping`` (by its name in the file), else from its name.

    A tier whose name does not parse and that the mapping does not name is refused (``unmapped="refuse"``),
    left out and noted (``"skip"``) or kept without a key for a later mapping step (``"keep"``).
    """
    mapping = dict(mapping or {})
    names = [t.name for t in doc.tiers]
    missing = [name for name in mapping if name not in names]
    if missing:
        raise ImportFormatError(f"the mapping names tier(s) {', '.join(map(repr, missing))}, which the file does "
                                f"not have", path=doc.path, hint=f"its tiers: {', '.join(map(repr, names)) or 'none'}")
    kept = []
    for tier in doc.tiers:
        target = mapping.get(tier.name)
        if isinstance(target, TierKey):
            target = TierTarget(target)
        if target is not None:
            if target.key is None:
                doc.notes.append(f"skipped tier {tier.name!r} (the mapping says skip)")
                continue
            tier.key, tier.scheme = target.key, target.scheme or tier.scheme
        if tier.key is None:
            if unmapped == "skip":
                doc.notes.append(f"skipped tier {tier.name!r} (its name is not PARTICIPANT|TIER|ANNOTATOR)")
                continue
            if unmapped == "refuse":
                raise ImportFormatError(f"{tier.where}: cannot tell participant, tier and annotator from the name",
                                        path=doc.path, line=tier.line,
                                        hint="map it, e.g. --map 'NAME=A/emotion/rater1' (or --guess), or name "
                                             "tiers PARTICIPANT|TIER|ANNOTATOR ('*' for a session-level tier)")
        elif tier.dependent and not tier.key.extra:
            raise ImportFormatError(f"{tier.where}: a dependent tier cannot hold DyadLab labels", path=doc.path,
                                    hint="labels need time-aligned annotations; map it to skip")
        kept.append(tier)
    doc.tiers = kept
    return doc


# -- guessing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectNames:
    """What a guess can match tier names against: the target session's participant codes, the project's
    annotators and tier names, the names earlier imports recorded (file name -> key) and the annotator
    to use when a name says none."""

    participants: tuple[str, ...] = ()
    annotators: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    imported: tuple[tuple[str, str], ...] = ()
    annotator: str | None = None
    schemes: tuple[LabelScheme, ...] = ()  # the project's label schemes (a tier's labels in none: its own)


def _words(name: str) -> list[str]:
    # "EmotionBob" -> Emotion, Bob; "spk2_valence" -> spk, 2, valence
    return _WORD.findall(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name))


def guess_fields(name: str, names: ProjectNames, *, participant: str | None = None,
                 annotator: str | None = None) -> tuple[str, str, str]:
    """(participant code, tier, annotator) guessed for one file tier; "" where it cannot be told.

    ``participant``/``annotator`` are what the file says (ELAN's tier attributes). A name that follows
    ``PARTICIPANT|TIER|ANNOTATOR`` is taken as it is (``*`` for a session-level tier); a name an earlier
    import recorded gets that key.
    """
    parsed = parse_tier_name(name)
    for recorded, key in names.imported:
        if parsed is None and recorded == name:
            parsed = parse_tier_name(key)
    if parsed is not None:
        return (SESSION_LEVEL if parsed.participant is None else parsed.participant, parsed.tier, parsed.annotator)
    words = _words(name)
    lower = [w.lower() for w in words]
    codes = {c.lower(): c for c in names.participants}
    annotators = {a.lower(): a for a in names.annotators}
    code = next((codes[h.lower()] for h in (participant or "", *words) if h.lower() in codes), "")
    if not code and len(names.participants) == 1:
        code = names.participants[0]
    who = next((annotators[w.lower()] for w in (annotator or "", *words) if w.lower() in annotators), "")
    who = who or (annotator or "").strip() or names.annotator or ""
    known = {t.lower(): t for t in names.tiers}
    tier = next((known[w] for w in lower if w in known), None) or next(
        (TIER_WORDS[w] for w in lower if w in TIER_WORDS), None)
    if tier is None:
        rest = [w for w in words if w.lower() not in codes and w.lower() not in annotators]
        tier = "_".join(rest).lower() or name.strip().lower() or "labels"
    return code, tier, who


def guess_target(name: str, names: ProjectNames, *, participant: str | None = None,
                 annotator: str | None = None) -> TierTarget | None:
    """A target for one file tier (``guess_fields``), or None when its participant or annotator cannot be told."""
    code, tier, who = guess_fields(name, names, participant=participant, annotator=annotator)
    if not code or not who:
        return None
    return TierTarget(TierKey(None if code == SESSION_LEVEL else code, tier, who))


def guess_scheme(tier: SourceTier, tier_name: str, names: ProjectNames) -> str | None:
    """``NEW_SCHEME`` for a file tier (going to DyadLab tier ``tier_name``) whose labels are mostly in no scheme
    of the project, unless the file names its scheme or the project has tiers of that name (their scheme is
    taken); else None (the import's automatic choice)."""
    if tier.scheme or not names.schemes or tier_name.lower() in {t.lower() for t in names.tiers}:
        return tier.scheme  # (no schemes: the caller did not say which the project has)
    fits = wants_own_scheme(tier_name, [s.value for s in tier.segments], names.schemes)
    return NEW_SCHEME if fits else None


def guess_targets(doc: LabelDocument, names: ProjectNames) -> dict[str, TierTarget | None]:
    """A guess for every tier of ``doc`` (file name -> target, None where a person must say)."""
    guesses: dict[str, TierTarget | None] = {}
    for tier in doc.tiers:
        if tier.key is not None and tier.key.extra:
            continue  # a companion goes with its main tier
        if tier.dependent:
            guesses[tier.name] = TierTarget(None)  # notes or translations on another tier: skipped unless mapped
            continue
        target = TierTarget(tier.key) if tier.key is not None else guess_target(
            tier.name, names, participant=tier.participant_hint, annotator=tier.annotator_hint)
        if target is not None and target.key is not None and tier.key is None:
            target = TierTarget(target.key, guess_scheme(tier, target.key.tier, names))
        guesses[tier.name] = target
    return guesses


def project_names(project: Project, session: str | None, annotator: str | None = None) -> ProjectNames:
    """The names a guess matches against, read from ``project`` (``session``: the import's target)."""
    from dyadlab.core.io.label_files.source_names import read_source_names

    imported = read_source_names(project)
    with project.store.transaction() as tx:
        target = tx.sessions.by_name(session) if session else None
        codes = tuple(p.code for p in tx.participants.list(target.id)) if target else ()
        tiers = tuple(sorted({t.name for s in tx.sessions.list() for t in tx.tiers.list(s.id)}))
        annotators = tuple(a.name for a in tx.annotators.list())
        schemes = tuple(s for s in tx.schemes.list() if s.kind in ("categorical", "dimensional"))
    return ProjectNames(codes, annotators, tiers, tuple(sorted(imported.values())), annotator, schemes)


def needs_mapping(doc: LabelDocument) -> bool:
    """Whether some tier's name does not say its participant, tier and annotator."""
    return any(t.key is None for t in doc.tiers)


# -- reading and importing with a mapping ------------------------------------------------------------


def read_file_tiers(path: str | Path, fmt: str = "auto") -> LabelDocument:
    """An ELAN or Praat file with every tier kept under its own name (keys where the names parse)."""
    from dyadlab.core.io.label_files.label_formats import read_label_file

    documents = read_label_file(path, fmt, unmapped="keep")
    if len(documents) != 1:
        raise ImportFormatError("a tier mapping applies to ELAN and Praat files (one session each)", path=path)
    return documents[0]


def import_mapped(project: Project, path: str | Path, *, fmt: str = "auto", mapping: Mapping[str, TierTarget],
                  unknown: UnknownLabels | None = None, session: str | None = None,
                  on_existing: OnExisting = "error", default_scheme: str | None = None,
                  create_session: bool = True) -> ImportReport:
    """Read ``path``, apply ``mapping`` and import it with the ``unknown`` label policy (all or nothing)."""
    doc = apply_tier_mapping(read_file_tiers(path, fmt), mapping)
    return import_documents(project, [doc], session=session, on_existing=on_existing, default_scheme=default_scheme,
                            create_session=create_session, unknown=unknown)


def find_unknown_labels(project: Project, doc: LabelDocument, mapping: Mapping[str, TierTarget], *,
                        session: str | None = None, default_scheme: str | None = None,
                        on_existing: OnExisting = "error") -> dict[str, Counter[str]]:
    """Scheme name -> labels (with segment counts) the schemes do not know, if ``doc`` were imported with
    ``mapping``: a dry run that writes nothing. Raises ImportFormatError for any other problem."""
    from copy import deepcopy

    trial = apply_tier_mapping(deepcopy(doc), mapping)
    policy = UnknownLabels(collect=True)
    import_documents(project, [trial], session=session, on_existing=on_existing, default_scheme=default_scheme,
                     unknown=policy)
    return policy.found
