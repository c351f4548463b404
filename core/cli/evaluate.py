"""``dyadlab evaluate PROJECT --model ID``: score a registered model on a project's labelled sessions.

Why: training reports the score on the test split it was given; a user also needs to score a model later —
on sessions annotated since, on another annotator's labels, or on an imported corpus — with exactly the
metrics of the thesis (WA, UA, macro-F1 at frame and utterance level, and the confusion matrix) and the
same data path as training (``ProjectFrameSource``, the trainer's datasets and prediction loop).

By default the model is scored on the sessions of its own test groups (from its checkpoint), with the labels
it was trained on; ``--sessions``, ``--annotator`` and ``--tier`` choose others.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

NAME = "evaluate"
HELP = "score a registered model on a project's sessions: WA/UA/F1 per frame and utterance, confusion matrix"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--model", type=int, required=True, metavar="ID", help="registry id (see `dyadlab models`)")
    p.add_argument("--sessions", nargs="+", metavar="SESSION",
                   help="session names (default: the sessions of the model's test groups)")
    p.add_argument("--annotator", help="whose labels to score against (default: those the model learned)")
    p.add_argument("--tier", help="the categorical tier holding them (default: the model's)")
    p.add_argument("--audio-frames", choices=["speech", "all"],
                   help="score audio inputs where the participant speaks, or on every frame (default: as trained)")
    p.add_argument("--batch-size", type=int, default=256, help="frames per prediction batch (default 256)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from dyadlab.core.project import open_project
    from dyadlab.trainer.checkpoint import load_checkpoint
    from dyadlab.trainer.config import model_config_from_dict
    from dyadlab.trainer.datasets import make_loader
    from dyadlab.trainer.distributed import DistInfo
    from dyadlab.trainer.engine import predict
    from dyadlab.trainer.errors import DataError
    from dyadlab.trainer.metrics import evaluate_levels
    from dyadlab.trainer.normalise import normalise_inputs
    from dyadlab.trainer.project_source import ProjectFrameSource
    from dyadlab.trainer.train import make_dataset

    if args.threads:
        torch.set_num_threads(args.threads)
    with open_project(args.project) as project:
        with project.store.transaction() as tx:
            record = tx.models.get(args.model)
            groups = {s.name: s.group or s.name for s in tx.sessions.list()}
        if not record.path:
            raise DataError(f"model #{record.id} {record.name} has no checkpoint file in the registry")
        checkpoint = project.media_path(record.path)
        root = project.root
    model, meta = load_checkpoint(checkpoint)
    data = record.config.get("data", {})
    source = ProjectFrameSource(root, annotator=args.annotator or data.get("annotator", "gold"),
                                tier=args.tier or data.get("tier", "emotion"), scheme=meta["scheme"],
                                audio_frames=args.audio_frames or data.get("audio_frames", "speech"))
    sessions, why = _sessions(args.sessions, meta, groups)
    # a model trained on speaker-normalised features must see them normalised the same way
    table = normalise_inputs(source.load(list(meta["inputs"]), sessions), meta.get("input_normalisation", {}))
    _check_inputs(table, meta, checkpoint)
    dataset = make_dataset(table, np.arange(len(table)), model_config_from_dict(meta["model"], str(checkpoint)))
    if len(dataset) == 0:
        raise DataError(f"no labelled frame with valid {', '.join(meta['inputs'])} inputs in sessions "
                        f"{', '.join(sessions)}", path=root)
    rows, probs = predict(model, make_loader(dataset, args.batch_size, train=False), device=torch.device("cpu"),
                          amp_dtype=None, info=DistInfo())
    result = evaluate_levels(table.stream[rows], table.utterance[rows], table.labels[rows], probs, table.classes,
                             context=f"model #{record.id}")
    print(f"model #{record.id} {record.name} version {record.version} ({checkpoint})")
    print(f"sessions: {', '.join(sessions)} ({why}); labels: {source.annotator}/{source.tier} ({source.scheme}); "
          f"audio frames: {source.audio_frames}\n")
    print(format_report(result))
    return 0


def _sessions(chosen: list[str] | None, meta: dict[str, Any], groups: dict[str, str]) -> tuple[list[str], str]:
    """The sessions to score and why those: the user's, else the model's test groups', else all."""
    if chosen:
        return list(dict.fromkeys(chosen)), "chosen"
    test_groups = set(meta.get("split", {}).get("test_groups", []))
    tested = [name for name, group in groups.items() if group in test_groups]
    if tested:
        return tested, f"the model's test groups {', '.join(sorted(test_groups))}"
    return list(groups), "all sessions: the model's test groups are not in this project"


def _check_inputs(table: Any, meta: dict[str, Any], checkpoint: Path) -> None:
    """Refuse features whose shape differs from what the model was trained on (e.g. other face crop sizes)."""
    from dyadlab.trainer.errors import DataError

    for name, spec in meta["inputs"].items():
        have, want = list(table.sample_shape(name)), list(spec["shape"])
        if have != want:
            raise DataError(f"the model takes {name} inputs of shape {want}, but the project's features are {have}",
                            path=checkpoint, hint="analyse the project with the parameters the model was trained "
                                                  "on (e.g. the face crop size)")
    if list(table.classes) != list(meta["classes"]):
        raise DataError(f"the model predicts {meta['classes']} but the labels' scheme has {list(table.classes)}",
                        path=checkpoint)


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
