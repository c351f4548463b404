"""Scoring a registered model on a project's labelled sessions, after training (``dyadlab evaluate``).

Why in the trainer: training reports the score on the test split it was given; a user also needs to score a
model later — on sessions annotated since, on another annotator's labels, or on an imported corpus — with
exactly the metrics of the thesis (WA, UA, macro-F1 at frame and utterance level, and the confusion matrix)
and the same data path as training (``ProjectFrameSource``, the trainer's datasets and prediction loop).
That data path is the trainer's, so scoring lives beside it; ``core/cli/evaluate.py`` only parses the
command line, calls ``evaluate_model`` and prints ``format_report``.

By default the model is scored on the sessions of its own test groups (from its checkpoint), with the labels
it was trained on; ``sessions``, ``annotator``, ``tier`` and ``audio_frames`` choose others. The model's outputs
are matched to the labels' classes by name, so a model whose classes are the project scheme's in another order
(the shipped FER2013 model, mapped from FER's 7 classes) is scored; one that lacks a class of the scheme is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dyadlab.trainer.checkpoint import load_checkpoint
from dyadlab.trainer.config import model_config_from_dict
from dyadlab.trainer.datasets import make_loader
from dyadlab.trainer.distributed import DistInfo
from dyadlab.trainer.engine import predict
from dyadlab.trainer.errors import DataError
from dyadlab.trainer.metrics import evaluate_levels
from dyadlab.trainer.normalise import normalise_inputs
from dyadlab.trainer.project_source import ProjectFrameSource, trained_face_size
from dyadlab.trainer.train import make_dataset


@dataclass(frozen=True)
class ModelEvaluation:
    """What ``evaluate_model`` scored and how: ``result`` is ``evaluate_levels``' ``{level: metrics}``."""

    model_id: int
    name: str
    version: int
    checkpoint: Path
    sessions: list[str]
    why_sessions: str  # "chosen", or which test groups they are
    source: ProjectFrameSource  # the labels (annotator, tier, scheme) and audio frames scored against
    result: dict[str, dict[str, Any]]

    def heading(self) -> str:
        """Which model, on which sessions and labels (the lines above the report)."""
        s = self.source
        return (f"model #{self.model_id} {self.name} version {self.version} ({self.checkpoint})\n"
                f"sessions: {', '.join(self.sessions)} ({self.why_sessions}); labels: {s.annotator}/{s.tier} "
                f"({s.scheme}); audio frames: {s.audio_frames}")


def evaluate_model(project_root: str | Path, model_id: int, *, sessions: list[str] | None = None,
                   annotator: str | None = None, tier: str | None = None, audio_frames: str | None = None,
                   batch_size: int = 256) -> ModelEvaluation:
    """Score registry model ``model_id`` of the project at ``project_root`` on CPU; options default to what
    the model was trained with. A ``DataError`` names what is missing (checkpoint, labelled frames, inputs)."""
    from dyadlab.core.inference.loader import checkpoint_path
    from dyadlab.core.project import open_project

    with open_project(project_root) as project:
        with project.store.transaction() as tx:
            record = tx.models.get(model_id)
            groups = {s.name: s.group or s.name for s in tx.sessions.list()}
        if not record.path:
            raise DataError(f"model #{record.id} {record.name} has no checkpoint file in the registry")
        checkpoint = checkpoint_path(project, record)  # a shipped model's ``builtin:`` path too
        root = project.root
    model, meta = load_checkpoint(checkpoint)
    data = record.config.get("data", {})
    source = ProjectFrameSource(root, annotator=annotator or data.get("annotator", "gold"),
                                tier=tier or data.get("tier", "emotion"), scheme=meta["scheme"],
                                audio_frames=audio_frames or data.get("audio_frames", "speech")
                                ).reading_faces_at(trained_face_size(meta["inputs"]))  # as training read them
    chosen, why = _sessions(sessions, meta, groups)
    # a model trained on speaker-normalised features must see them normalised the same way
    table = normalise_inputs(source.load(list(meta["inputs"]), chosen), meta.get("input_normalisation", {}))
    _check_inputs(table, meta, checkpoint)
    columns = _class_columns(list(meta["classes"]), list(table.classes), meta, checkpoint)
    dataset = make_dataset(table, np.arange(len(table)), model_config_from_dict(meta["model"], str(checkpoint)))
    if len(dataset) == 0:
        raise DataError(f"no labelled frame with valid {', '.join(meta['inputs'])} inputs in sessions "
                        f"{', '.join(chosen)}", path=root)
    rows, probs = predict(model, make_loader(dataset, batch_size, train=False), device=torch.device("cpu"),
                          amp_dtype=None, info=DistInfo())
    result = evaluate_levels(table.stream[rows], table.utterance[rows], table.labels[rows], probs[:, columns],
                             table.classes, context=f"model #{record.id}")
    return ModelEvaluation(record.id, record.name, record.version, checkpoint, chosen, why, source, result)


def _sessions(chosen: list[str] | None, meta: dict[str, Any], groups: dict[str, str]) -> tuple[list[str], str]:
    """The sessions to score and why those: the user's, else the model's test groups', else all."""
    if chosen:
        return list(dict.fromkeys(chosen)), "chosen"
    test_groups = set(meta.get("split", {}).get("test_groups", []))
    tested = [name for name, group in groups.items() if group in test_groups]
    if tested:
        return tested, f"the model's test groups {', '.join(sorted(test_groups))}"
    if not test_groups:  # e.g. a pretrained model: trained elsewhere, on no group of a project's
        return list(groups), "all sessions: the model names no test groups"
    return list(groups), "all sessions: the model's test groups are not in this project"


def _check_inputs(table: Any, meta: dict[str, Any], checkpoint: Path) -> None:
    """Refuse features whose shape differs from what the model was trained on (e.g. other face crop sizes)."""
    for name, spec in meta["inputs"].items():
        have, want = list(table.sample_shape(name)), list(spec["shape"])
        if have != want:
            raise DataError(f"the model takes {name} inputs of shape {want}, but the project's features are {have}",
                            path=checkpoint, hint="analyse the project with the parameters the model was trained "
                                                  "on (e.g. the face crop size)")


def _class_columns(predicted: list[str], classes: list[str], meta: dict[str, Any], checkpoint: Path) -> list[int]:
    """For each class of the labels' scheme, the column of the model's output that predicts it (a model whose
    classes are the scheme's in another order, e.g. a pretrained model mapped from its own classes, is scored
    by name); refuses a model that does not predict exactly the scheme's classes."""
    if sorted(predicted) == sorted(classes) and len(set(classes)) == len(classes):
        return [predicted.index(c) for c in classes]
    why = ""
    if meta.get("kind") == "pretrained":
        source = meta.get("provenance", {}).get("source_classes")
        why = (f" (it is a pretrained model whose own classes {source} were mapped onto scheme "
               f"{meta.get('scheme')!r})" if source else " (it is a pretrained model)")
    raise DataError(f"the model predicts {predicted}{why} but the labels' scheme has {classes}: a score needs "
                    "labels of the classes the model predicts", path=checkpoint,
                    hint="score it against a tier labelled with those classes (--annotator, --tier)")


def format_report(result: dict[str, dict[str, Any]]) -> str:
    """The metrics table (percent) and each level's confusion matrix (rows: true class, columns: predicted)."""
    lines = [f"{'level':<10} {'n':>7} {'WA %':>6} {'UA %':>6} {'F1 %':>6}"]
    for level, m in result.items():
        lines.append(f"{level:<10} {m['n']:>7} {100 * m['wa']:>6.1f} {100 * m['ua']:>6.1f} {100 * m['macro_f1']:>6.1f}")
        if m["missing_classes"]:
            lines.append(f"{'':<10} no {', '.join(m['missing_classes'])} in the ground truth: UA and F1 average "
                         f"the other classes")
    for level, m in result.items():
        classes = m["classes"]
        width = max(8, *(len(c) + 1 for c in classes))
        lines += ["", f"confusion, {level} level (rows: true, columns: predicted)",
                  " " * width + "".join(f"{c:>{width}}" for c in classes)]
        lines += [f"{c:<{width}}" + "".join(f"{n:>{width}}" for n in row)
                  for c, row in zip(classes, m["confusion"], strict=True)]
    return "\n".join(lines)
