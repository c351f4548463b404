"""Fine-tune a registered model on one annotator's labels, and keep it only when it does better.

Why: the cooperative loop (``core.active``) retrains while the annotator works. The judge must be the
annotator's own labels, and a fine-tune that scores worse must never replace the model behind the queue
and the overlays. So: the annotator's labelled utterances are split (seeded, by utterance) into a
held-back slice and the rest; the current model is fine-tuned on the rest for a few epochs; both models
score utterance UA on the held-back slice; only a strictly better fine-tune (by ``min_gain``) is saved and
registered as a new version of the model — the previous one stays in the registry untouched.

Runs as a job (``python -m dyadlab.trainer.finetune PROJECT --model ID --annotator NAME --result FILE``):
low priority (``os.nice``), cancellable like every job (SIGTERM ends it, nothing is registered), and the
outcome is one JSON file (``FinetuneOutcome``) the GUI reads when the job ends.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dyadlab.core.active.retrain import FinetuneOutcome
from dyadlab.trainer.errors import DataError

HOLDOUT = 0.25  # fraction of the annotator's utterances held back to judge the fine-tune
MIN_UTTERANCES = 4  # fewer labelled utterances than this: nothing to fine-tune on and judge with


def heldout_rows(stream: np.ndarray, utterance: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Bool per row: in the held-back slice (whole utterances, chosen by ``seed``; frames outside utterances
    never are). At least one utterance is held back and one kept."""
    keys = np.unique(np.stack([stream[utterance >= 0], utterance[utterance >= 0]], axis=1), axis=0)
    if len(keys) < 2:
        return np.zeros(len(stream), bool)
    order = np.random.default_rng(seed).permutation(len(keys))
    n = min(max(1, round(fraction * len(keys))), len(keys) - 1)
    held = {tuple(k) for k in keys[order[:n]].tolist()}
    return np.array([(int(s), int(u)) in held for s, u in zip(stream, utterance, strict=True)], bool)


def utterance_ua(model: torch.nn.Module, table: Any, rows: np.ndarray, config: Any) -> float:
    """Unweighted accuracy over the utterances of ``rows`` (mean of the frames' probabilities)."""
    from dyadlab.trainer.datasets import make_loader
    from dyadlab.trainer.distributed import DistInfo
    from dyadlab.trainer.engine import predict
    from dyadlab.trainer.metrics import utterance_scores
    from dyadlab.trainer.train import make_dataset

    dataset = make_dataset(table, rows, config)
    if len(dataset) == 0:
        return 0.0
    got, probs = predict(model, make_loader(dataset, 256, train=False), device=torch.device("cpu"),
                         amp_dtype=None, info=DistInfo())
    _, labels, mean = utterance_scores(table.stream[got], table.utterance[got], table.labels[got], probs)
    return balanced_accuracy(labels, mean.argmax(axis=1), len(table.classes))


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """UA (mean recall over the classes present in ``labels``), as ``metrics.classification_metrics`` defines it;
    a held-back slice rarely holds every class, so its warning about missing ones is not news here."""
    import warnings

    from dyadlab.trainer.metrics import MissingClassWarning, classification_metrics

    if len(labels) == 0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingClassWarning)
        return classification_metrics(labels, predicted, [str(c) for c in range(n_classes)])["ua"]


def fine_tune(model: torch.nn.Module, table: Any, rows: np.ndarray, config: Any, *, epochs: int, lr: float,
              seed: int) -> torch.nn.Module:
    """A copy of ``model`` trained ``epochs`` more epochs on ``rows`` (seeded; the original is untouched)."""
    from dyadlab.trainer.augment import Augmenter
    from dyadlab.trainer.config import AugmentConfig
    from dyadlab.trainer.datasets import make_loader
    from dyadlab.trainer.distributed import DistInfo
    from dyadlab.trainer.engine import train_one_epoch
    from dyadlab.trainer.train import make_dataset

    torch.manual_seed(seed)
    tuned = copy.deepcopy(model).train()
    dataset = make_dataset(table, rows, config)
    if len(dataset) == 0:
        return tuned.eval()
    loader = make_loader(dataset, 32, train=True, seed=seed)
    optimizer = torch.optim.AdamW([p for p in tuned.parameters() if p.requires_grad], lr=lr)
    for _ in range(epochs):
        train_one_epoch(tuned, loader, optimizer=optimizer, loss_fn=torch.nn.CrossEntropyLoss(),
                        device=torch.device("cpu"), amp_dtype=None,
                        scaler=torch.amp.GradScaler("cpu", enabled=False), augmenter=Augmenter(AugmentConfig()),
                        info=DistInfo())
    return tuned.eval()


def finetune_registered(project_root: str | Path, model_id: int, annotator: str, *, tier: str = "emotion",
                        holdout: float = HOLDOUT, epochs: int = 3, lr: float = 1e-3, seed: int = 0,
                        min_gain: float = 0.0) -> FinetuneOutcome:
    """Fine-tune model ``model_id`` on ``annotator``'s ``tier`` labels; register it when it beats the model on
    the held-back slice (see the module docstring)."""
    from dyadlab.core.inference.loader import checkpoint_path, register_checkpoint
    from dyadlab.core.project import open_project
    from dyadlab.trainer.checkpoint import load_checkpoint, save_checkpoint
    from dyadlab.trainer.config import model_config_from_dict
    from dyadlab.trainer.normalise import normalise_inputs
    from dyadlab.trainer.project_source import ProjectFrameSource, trained_face_size

    with open_project(project_root) as project:
        with project.store.transaction() as tx:
            record = tx.models.get(model_id)
        path = checkpoint_path(project, record)
        model, meta = load_checkpoint(path)
        config = model_config_from_dict(meta["model"], str(path))
        source = ProjectFrameSource(project.root, annotator=annotator, tier=tier, scheme=meta["scheme"],
                                    audio_frames=record.config.get("data", {}).get("audio_frames", "all")
                                    ).reading_faces_at(trained_face_size(meta["inputs"]))  # as trained on
        table = normalise_inputs(source.load(list(meta["inputs"])), meta.get("input_normalisation", {}))
        utterances = len(np.unique(np.stack([table.stream, table.utterance], axis=1)[table.utterance >= 0], axis=0))
        if utterances < MIN_UTTERANCES:
            raise DataError(f"{annotator!r} has labelled {utterances} utterance(s) on tier {tier!r}; fine-tuning "
                            f"needs at least {MIN_UTTERANCES}", path=project.root)
        held = heldout_rows(table.stream, table.utterance, holdout, seed)
        train_rows, held_rows = np.flatnonzero(~held), np.flatnonzero(held)
        old_ua = utterance_ua(model, table, held_rows, config)
        tuned = fine_tune(model, table, train_rows, config, epochs=epochs, lr=lr, seed=seed)
        new_ua = utterance_ua(tuned, table, held_rows, config)
        n_held = len(np.unique(np.stack([table.stream[held], table.utterance[held]], axis=1), axis=0))
        outcome = FinetuneOutcome(model_id, False, old_ua, new_ua, utterances - n_held, n_held)
        if new_ua <= old_ua + min_gain:
            return outcome
        version = f"{record.version}+ft{_next_ft(project, record)}"
        out = project.root / "models" / "finetuned" / f"{record.name}-{version}.pt".replace("/", "_").replace(" ", "_")
        out.parent.mkdir(parents=True, exist_ok=True)
        metrics = {**meta.get("metrics", {}), "finetune": {"annotator": annotator, "tier": tier, "old_ua": old_ua,
                                                           "heldout_ua": new_ua, "from_model_id": model_id}}
        save_checkpoint(out, tuned, {**meta, "metrics": metrics})
        new = register_checkpoint(project, out, name=record.name, version=version,
                                  audio_frames=record.config.get("data", {}).get("audio_frames"))
        return dataclasses.replace(outcome, replaced=True, new_model_id=new.id, checkpoint=str(out))


def _next_ft(project: Any, record: Any) -> int:
    with project.store.transaction() as tx:
        return 1 + sum(m.name == record.name and m.version.startswith(f"{record.version}+ft") for m in tx.models.list())


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dyadlab.trainer.finetune", description=__doc__.splitlines()[0])
    p.add_argument("project", type=Path)
    p.add_argument("--model", type=int, required=True)
    p.add_argument("--annotator", required=True)
    p.add_argument("--tier", default="emotion")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--holdout", type=float, default=HOLDOUT)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nice", type=int, default=10, help="lower the process priority by this much (0: no change)")
    p.add_argument("--result", type=Path, required=True, help="JSON file the outcome is written to")
    args = p.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    torch.set_num_threads(1)
    from dyadlab.core.atomic_write import write_text_atomically

    outcome = finetune_registered(args.project, args.model, args.annotator, tier=args.tier, epochs=args.epochs,
                                  holdout=args.holdout, seed=args.seed)
    args.result.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(args.result, outcome.to_json())
    print(outcome.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
