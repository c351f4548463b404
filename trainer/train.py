"""The training script: read a config, load frames, and for every fold train, validate, test and save.

Read it top to bottom (torchvision's ``references/classification/train.py`` is the model): ``main``
sets up the process (distributed or not), the output folder, the data and the folds; ``run_fold``
trains the fold's model — for late fusion, first each branch alone, then the head on the frozen
branches — and tests it; ``fit`` is the epoch loop with validation, early stopping on validation UA
(frame level), checkpoints and progress events; ``engine`` holds the inner loops.

Output folder (``--out``; only rank 0 writes)::

    run.json  config.toml  events.jsonl  status.json  metrics.json  metrics.csv
    folds/<fold>/<stage>/last.pt   full training state, rewritten every epoch (for --resume)
    folds/<fold>/<stage>/best.pt   best weights + metadata: the model to use (``load_checkpoint``)
    folds/<fold>/predictions.npz   test rows, probabilities, labels;  folds/<fold>/result.json

``--resume`` continues an interrupted run in the same folder: finished folds and stages are kept, an
unfinished stage restarts its interrupted epoch from ``last.pt`` (weights, optimizer, scheduler and
early-stopping state; the random number streams are fresh, so a resumed run is equivalent, not
bit-identical). The config must be unchanged.

Exit codes: 0 done; 1 error (bad config, data or checkpoint: the message says which and how to fix it);
2 bad command line; 3 the loss became NaN/inf (training stopped; the last good checkpoint is kept and
named); 128 + signal number when stopped by a signal after saving a checkpoint (130 Ctrl-C, 143 SIGTERM).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dyadlab.core.errors import DyadLabError
from dyadlab.trainer.augment import Augmenter
from dyadlab.trainer.checkpoint import (
    branch_modules,
    code_version,
    input_spec,
    normalization_metadata,
    read_checkpoint,
    save_checkpoint,
    sequence_spec,
    warm_start,
)
from dyadlab.trainer.config import ExperimentConfig, ModelConfig, load_config, resolve_config_path
from dyadlab.trainer.data import FrameTable, open_source
from dyadlab.trainer.datasets import (
    FrameDataset,
    SequenceDataset,
    class_weights,
    feature_statistics,
    make_loader,
)
from dyadlab.trainer.distributed import (
    DistInfo,
    barrier,
    cleanup,
    init_distributed_mode,
    pick_device,
    wrap_model,
)
from dyadlab.trainer.engine import predict, recalibrate_batchnorm, resolve_amp, train_one_epoch
from dyadlab.trainer.errors import ConfigError, DataError
from dyadlab.trainer.events import EventLog, StatusFile, dumps, write_json_atomic
from dyadlab.trainer.interrupt import GracefulStop
from dyadlab.trainer.metrics import evaluate_levels, format_table, write_results
from dyadlab.trainer.models import EmotionModel, build_branch, build_model
from dyadlab.trainer.models.features import MinMaxScale, SelectFeatures, Standardize
from dyadlab.trainer.normalise import input_normalisation, normalise_inputs
from dyadlab.trainer.selection import select_dimensions, speaker_invariance_scores
from dyadlab.trainer.splits import Fold, make_folds

EXIT_OK, EXIT_ERROR, EXIT_NAN = 0, 1, 3


class TrainingStopped(Exception):
    """Training ended early on purpose (NaN loss, signal); carries the process exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Run:
    """What every stage of a run shares: config, process, device, data and the progress channels."""

    config: ExperimentConfig
    out: Path
    info: DistInfo
    device: torch.device
    amp_dtype: torch.dtype | None
    table: FrameTable
    events: EventLog
    status: StatusFile
    stop: GracefulStop
    quiet: bool = False
    code: dict[str, Any] = field(default_factory=dict)
    planned_epochs: int = 0
    done_epochs: int = 0
    epoch_seconds: list[float] = field(default_factory=list)

    def log(self, message: str) -> None:
        if self.info.is_main and not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def eta_s(self) -> float | None:
        if not self.epoch_seconds:
            return None
        return float(np.mean(self.epoch_seconds[-5:]) * max(self.planned_epochs - self.done_epochs, 0))


# -- setup ---------------------------------------------------------------------------------------------

def prepare_out_dir(out: Path, config: ExperimentConfig, data: str, resume: bool, info: DistInfo) -> bool:
    """Check the folder (every rank, read-only) and record the run (rank 0). Returns True when resuming.

    The barriers keep rank 0's writing after every rank's check (else a late rank would find the new
    run.json and refuse to start while the others wait for it)."""
    record = out / "run.json"
    exists = record.exists()
    barrier(info)
    if exists:
        if not resume:
            raise ConfigError("this output folder already holds a training run", path=out,
                              hint="pass --resume to continue it, or choose another --out")
        previous = json.loads(record.read_text(encoding="utf-8"))
        changed = _differences(previous.get("config", {}), config.to_dict())
        if changed or previous.get("data") != data:
            what = changed[:5] or [f"data {previous.get('data')!r} -> {data!r}"]
            raise ConfigError(f"cannot resume: the config changed since the run started ({', '.join(what)})",
                              path=config.source, hint="resume with the original config, or use a new --out")
        return True
    if info.is_main:
        import tomli_w

        out.mkdir(parents=True, exist_ok=True)
        (out / "config.toml").write_text(tomli_w.dumps(config.to_dict()), encoding="utf-8")
        write_json_atomic(record, {"config": config.to_dict(), "config_file": config.source, "data": data,
                                   "world_size": info.world_size, "code_version": code_version(),
                                   "started_at": time.time()})
    barrier(info)
    return False


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) | set(new)) for d in _differences(old.get(k), new.get(k), f"{prefix}{k}.")]
    return [] if old == new else [f"{prefix.rstrip('.')}: {old!r} -> {new!r}"]


def load_table(config: ExperimentConfig, data: str) -> FrameTable:
    source = open_source(data, config.data.synthetic)
    table = source.load(config.model.modalities(), config.data.sessions or None).validate(data)
    if table.scheme != config.scheme:
        raise DataError(f"the data is labelled with scheme {table.scheme!r} but the config wants "
                        f"{config.scheme!r}", path=config.source)
    return normalise_inputs(table, input_normalisation(config.data.normalise, config.model.modalities()))


def make_dataset(table: FrameTable, rows: np.ndarray, model_config: ModelConfig) -> FrameDataset:
    seq = model_config.sequence
    if seq.cell == "none":
        return FrameDataset(table, rows, model_config.modalities())
    return SequenceDataset(table, rows, model_config.modalities(), steps=seq.steps, stride=seq.stride,
                           start=seq.start)


def fit_normalization(model: nn.Module, table: FrameTable, rows: np.ndarray,
                      val_rows: np.ndarray | None = None) -> list[str]:
    """Fit feature standardisation and feature selection on the training frames ``rows`` (labelled, valid) —
    min–max scaling, as the thesis did, on the training and validation frames ``val_rows``; skipped where a
    checkpoint already set them. Returns log notes."""
    notes = []
    for module in model.modules():
        if isinstance(module, Standardize) and not module.fitted:
            module.fit(*feature_statistics(table, rows, module.modality))
        if isinstance(module, MinMaxScale) and not module.fitted:
            both = np.union1d(rows, val_rows) if val_rows is not None else rows
            module.fit(*feature_range(table.inputs[module.modality], both))
            notes.append(f"{module.modality}: min-max scaled over {len(both)} training + validation frames, "
                         f"{module.kept} of {module.low.numel()} dimensions vary there (the rest are dropped)")
        if isinstance(module, SelectFeatures) and not module.fitted:
            scores = speaker_invariance_scores(table.inputs[module.modality], rows, table.labels, table.speaker,
                                               len(table.classes))
            module.fit(select_dimensions(scores, module.index.numel()))
    return notes


def feature_range(data: Any, rows: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension minimum and maximum of an ``[N, D]`` array over ``rows`` (chunked reads)."""
    low, high = np.full(data.shape[1], np.inf), np.full(data.shape[1], -np.inf)
    for lo in range(0, len(rows), chunk):
        block = np.asarray(data[rows[lo:lo + chunk]], dtype=np.float64)
        low, high = np.minimum(low, block.min(axis=0)), np.maximum(high, block.max(axis=0))
    return low, high


def make_optimizer(model: nn.Module, config: ExperimentConfig, epochs: int):
    t = config.train
    params = [p for p in model.parameters() if p.requires_grad]
    if t.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(params, lr=t.lr, momentum=t.momentum,
                                                           weight_decay=t.weight_decay)
    elif t.optimizer == "adam":
        optimizer = torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
    else:
        optimizer = torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.scheduler == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    elif t.scheduler == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=t.step_size, gamma=t.gamma)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    return optimizer, scheduler


def stage_metadata(run: Run, model: nn.Module, model_config: ModelConfig, fold: Fold, stage: str) -> dict[str, Any]:
    return {"name": run.config.name, "kind": "emotion-classifier",
            "model": dataclasses.asdict(model_config), "classes": list(run.table.classes),
            "scheme": run.table.scheme, "inputs": input_spec(run.table, model_config.modalities()),
            "sequence": sequence_spec(model_config), "normalization": normalization_metadata(model),
            "input_normalisation": input_normalisation(run.config.data.normalise, model_config.modalities()),
            "config": run.config.to_dict(), "code_version": run.code, "fold": fold.name, "stage": stage,
            "split": fold.describe(run.table), "metrics": {}}


# -- the epoch loop --------------------------------------------------------------------------------------

def fit(run: Run, fold: Fold, stage: str, model: EmotionModel, model_config: ModelConfig, stage_dir: Path,
        epochs: int) -> tuple[EmotionModel, dict[str, Any]]:
    """Train ``model`` on the fold's training part; returns it with its best weights, and a summary."""
    config, info, table = run.config, run.info, run.table
    done_file = stage_dir / "done.json"
    if done_file.exists():  # finished before an interruption of a later stage
        payload = read_checkpoint(stage_dir / "best.pt")
        model.load_state_dict(payload["model_state"])
        run.done_epochs += epochs
        return model, json.loads(done_file.read_text(encoding="utf-8"))

    train_set = make_dataset(table, fold.train, model_config)
    val_set = make_dataset(table, fold.val, model_config) if len(fold.val) else None
    if len(train_set) == 0:
        raise DataError(f"fold {fold.name!r}: no labelled, valid training frames for {model_config.modalities()}")
    val_rows = val_set.rows if val_set is not None else None
    for note in fit_normalization(model, table, train_set.rows, val_rows):
        run.log(note)
    model.to(run.device)
    ddp = wrap_model(model, info, run.device)
    t = config.train
    train_loader = make_loader(train_set, t.batch_size, train=True, balanced=t.sampler == "balanced",
                               num_replicas=info.world_size, rank=info.rank, seed=config.seed,
                               num_workers=t.num_workers, pin_memory=run.device.type == "cuda")
    val_loader = None if val_set is None or len(val_set) == 0 else make_loader(
        val_set, t.eval_batch_size, train=False, num_replicas=info.world_size, rank=info.rank,
        num_workers=t.num_workers)
    weights = (torch.as_tensor(class_weights(train_set.labels, len(table.classes)), dtype=torch.float32)
               if t.class_weights == "balanced" else None)
    loss_fn = nn.CrossEntropyLoss(weight=None if weights is None else weights.to(run.device))
    optimizer, scheduler = make_optimizer(model, config, epochs)
    scaler = torch.amp.GradScaler(run.device.type, enabled=run.amp_dtype == torch.float16)
    augmenter = Augmenter(config.augment)
    metadata = stage_metadata(run, model, model_config, fold, stage)
    state: dict[str, Any] = {"epoch": 0, "global_step": 0, "best_score": -math.inf, "best_epoch": 0,
                             "bad_epochs": 0, "best_val": {}, "history": []}
    last_path, best_path = stage_dir / "last.pt", stage_dir / "best.pt"
    best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if last_path.exists():
        payload = read_checkpoint(last_path, map_location=run.device)
        model.load_state_dict(payload["model_state"])
        training = payload["training"]
        optimizer.load_state_dict(training["optimizer"])
        scheduler.load_state_dict(training["scheduler"])
        scaler.load_state_dict(training["scaler"])
        state.update(training["state"])
        if best_path.exists():
            best_state = read_checkpoint(best_path)["model_state"]
        run.done_epochs += state["epoch"]
        run.events.emit("resumed", fold=fold.name, stage=stage, epoch=state["epoch"])
        run.log(f"[{fold.name}/{stage}] resumed after epoch {state['epoch']}")

    def save_last() -> None:
        if info.is_main:
            save_checkpoint(last_path, model, metadata, {
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(), "state": state})

    run.events.emit("stage_start", fold=fold.name, stage=stage, epochs=epochs, train_frames=len(train_set),
                    val_frames=0 if val_set is None else len(val_set))
    stopped_early = False
    for epoch in range(state["epoch"] + 1, epochs + 1):
        train_loader.sampler.set_epoch(epoch)
        steps_before = state["global_step"]

        def on_step(step: int, loss: float, rate: float, epoch: int = epoch, steps_before: int = steps_before) -> None:
            if info.is_main and step % t.log_every == 0:
                run.events.emit("step", fold=fold.name, stage=stage, epoch=epoch, epochs=epochs,
                                step=steps_before + step, loss=loss, samples_per_s=rate, eta_s=run.eta_s())

        result = train_one_epoch(ddp, train_loader, optimizer=optimizer, loss_fn=loss_fn, device=run.device,
                                 amp_dtype=run.amp_dtype, scaler=scaler, augmenter=augmenter, info=info,
                                 grad_clip=t.grad_clip, stop_requested=lambda: run.stop.requested,
                                 on_step=on_step)
        state["global_step"] = steps_before + result.steps
        if result.stop == "nan":
            good = last_path if last_path.exists() else None
            message = (f"fold {fold.name!r}, {stage}: the loss became NaN/inf at epoch {epoch}, step "
                       f"{state['global_step']}; training stopped. Last good checkpoint: {good or 'none yet'} "
                       f"(epoch {state['epoch']}). Try a lower train.lr, train.grad_clip, or amp = \"none\".")
            run.events.emit("nan", fold=fold.name, stage=stage, epoch=epoch, step=state["global_step"],
                            checkpoint=good, message=message)
            raise TrainingStopped(message, EXIT_NAN)
        if result.stop == "signal":
            save_last()  # mid-epoch weights; the interrupted epoch is re-run on --resume
            raise _interrupted(run, fold, stage, epoch, last_path)

        scheduler.step()
        recalibrate_batchnorm(ddp, train_loader, device=run.device, amp_dtype=run.amp_dtype, info=info,
                              max_batches=t.bn_recalibration_batches)
        metrics: dict[str, Any] = {"train_loss": result.loss, "lr": optimizer.param_groups[0]["lr"],
                                   "samples_per_s": result.samples / max(result.seconds, 1e-9)}
        if val_loader is not None:
            rows, probs = predict(model, val_loader, device=run.device, amp_dtype=run.amp_dtype, info=info)
            val = evaluate_levels(table.stream[rows], table.utterance[rows], table.labels[rows], probs,
                                  table.classes, context=f"fold {fold.name} validation")
            metrics.update({f"val_{k}": val["frame"][k] for k in ("wa", "ua", "macro_f1")})
            if "utterance" in val:
                metrics.update({f"val_utt_{k}": val["utterance"][k] for k in ("wa", "ua")})
            score = val["frame"]["ua"]
        else:
            score = float(epoch)  # no validation part: the last epoch is the best
        state["history"].append({"epoch": epoch, **metrics})
        if score > state["best_score"]:
            state.update(best_score=score, best_epoch=epoch, bad_epochs=0,
                         best_val={k: v for k, v in metrics.items() if k.startswith("val_")})
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            metadata["metrics"] = {"val": state["best_val"], "epoch": epoch}
            if info.is_main:
                save_checkpoint(best_path, model, metadata)
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch
        save_last()
        run.done_epochs += 1
        run.epoch_seconds.append(result.seconds)
        run.events.emit("epoch", fold=fold.name, stage=stage, epoch=epoch, epochs=epochs,
                        step=state["global_step"], loss=result.loss, metrics=metrics, eta_s=run.eta_s())
        run.status.update(state="running", fold=fold.name, stage=stage, epoch=epoch, epochs=epochs,
                          step=state["global_step"], loss=result.loss, metrics=metrics, eta_s=run.eta_s(),
                          progress=run.done_epochs / max(run.planned_epochs, 1))
        run.log(f"[{fold.name}/{stage}] epoch {epoch}/{epochs} loss {result.loss:.4f}"
                + "".join(f" {k} {v:.3f}" for k, v in metrics.items() if k.startswith("val_")))
        if run.stop.requested:  # a signal arrived during validation: the epoch is complete and saved
            raise _interrupted(run, fold, stage, epoch, last_path)
        if t.patience and val_loader is not None and state["bad_epochs"] >= t.patience:
            stopped_early = True
            run.events.emit("early_stop", fold=fold.name, stage=stage, epoch=epoch, best_epoch=state["best_epoch"])
            run.done_epochs += epochs - epoch
            break

    model.load_state_dict(best_state)
    summary = {"best_epoch": state["best_epoch"], "epochs_run": state["epoch"], "stopped_early": stopped_early,
               "val": state["best_val"], "history": state["history"]}
    if info.is_main:
        write_json_atomic(done_file, summary)
    return model, summary


def _interrupted(run: Run, fold: Fold, stage: str, epoch: int, checkpoint: Path) -> TrainingStopped:
    signum = run.stop.signum or 2
    message = (f"stopped by signal {signum} during fold {fold.name!r}, {stage}, epoch {epoch}; "
               f"checkpoint saved to {checkpoint} — continue with --resume")
    run.events.emit("interrupted", fold=fold.name, stage=stage, epoch=epoch, signal=signum,
                    checkpoint=str(checkpoint))
    return TrainingStopped(message, 128 + signum)


# -- one fold ---------------------------------------------------------------------------------------------

def run_fold(run: Run, fold: Fold, fold_dir: Path) -> dict[str, Any]:
    config, table = run.config, run.table
    mc = config.model
    classes = len(table.classes)
    shapes = {m: table.sample_shape(m) for m in mc.modalities()}
    run.events.emit("fold_start", fold=fold.name, split=fold.describe(table))
    stages: dict[str, Any] = {}
    if mc.kind == "fusion" and mc.fusion == "late":
        branches = []
        for j, branch_config in enumerate(mc.branches):
            branch_model_config = ModelConfig(**dataclasses.asdict(branch_config))
            branch = build_branch(branch_config, classes, shapes)
            notes = start_weights(branch, branch_config, run)
            if not branch_config.checkpoint:  # a branch given as a trained checkpoint is used as it is
                stage = f"branch{j}-{branch_config.kind}-{branch_config.input}"
                branch, stages[stage] = fit(run, fold, stage, branch, branch_model_config, fold_dir / stage,
                                            mc.branch_epochs or config.train.epochs)
            for note in notes:
                run.log(note)
            branches.append(branch)
        model = build_model(mc, classes, shapes, branches=branches)
    else:
        model = build_model(mc, classes, shapes)
        for branch, branch_config in zip(branch_modules(model), mc.parts(), strict=True):
            for note in start_weights(branch, branch_config, run):
                run.log(note)
    if mc.freeze_epochs:  # transfer learning: train the new head on the frozen backbone, then fine-tune all
        backbone = model.backbone()
        for part in backbone:
            model.freeze(part)
        model, stages["head"] = fit(run, fold, "head", model, mc, fold_dir / "head", mc.freeze_epochs)
        for part in backbone:
            model.thaw(part)
    model, stages["model"] = fit(run, fold, "model", model, mc, fold_dir / "model", config.train.epochs)

    test_set = make_dataset(table, fold.test, mc)
    if len(test_set) == 0:
        raise DataError(f"fold {fold.name!r}: no labelled, valid test frames for {mc.modalities()}")
    loader = make_loader(test_set, config.train.eval_batch_size, train=False, num_replicas=run.info.world_size,
                         rank=run.info.rank, num_workers=config.train.num_workers)
    rows, probs = predict(model, loader, device=run.device, amp_dtype=run.amp_dtype, info=run.info)
    test = evaluate_levels(table.stream[rows], table.utterance[rows], table.labels[rows], probs, table.classes,
                           context=f"fold {fold.name} test")
    best_path = fold_dir / "model" / "best.pt"
    result = {"fold": fold.name, **test, "best_epoch": stages["model"]["best_epoch"],
              "epochs_run": stages["model"]["epochs_run"], "stopped_early": stages["model"]["stopped_early"],
              "val": stages["model"]["val"], "stages": {k: {kk: v[kk] for kk in ("best_epoch", "epochs_run")}
                                                        for k, v in stages.items()},
              "split": fold.describe(table), "train_frames": int(len(fold.train)), "test_frames": int(len(rows)),
              "checkpoint": str(best_path.relative_to(run.out))}
    if run.info.is_main:
        payload = read_checkpoint(best_path)
        meta = payload["metadata"]
        meta["metrics"] = {**meta.get("metrics", {}),
                           "test": {lvl: {k: test[lvl][k] for k in ("n", "wa", "ua", "macro_f1")} for lvl in test}}
        save_checkpoint(best_path, model, meta)
        np.savez_compressed(fold_dir / "predictions.npz", rows=rows, probs=probs, labels=table.labels[rows],
                            stream=table.stream[rows], utterance=table.utterance[rows], frame=table.frame[rows],
                            session=table.session[rows], classes=np.array(table.classes))
        write_json_atomic(fold_dir / "result.json", result)
    summary = {lvl: {k: round(test[lvl][k], 4) for k in ("wa", "ua")} for lvl in test}
    run.events.emit("fold_end", fold=fold.name, metrics=summary, checkpoint=result["checkpoint"])
    run.log(f"[{fold.name}] test " + dumps(summary))
    return result


def start_weights(branch: EmotionModel, branch_config: Any, run: Run) -> list[str]:
    """A new branch's starting weights: pretrained ones (``pretrained``), then files the user named
    (``checkpoint`` / ``init_weights``, see ``warm_start``); returns log notes."""
    notes = []
    if branch_config.pretrained:
        from dyadlab.trainer.pretrained import init_from_pretrained

        notes.append(init_from_pretrained(branch, run.table.classes))
    return notes + warm_start(branch, branch_config, run.config.data.normalise)


def _fold_dir_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def planned_epochs(config: ExperimentConfig) -> int:
    mc = config.model
    per_fold = config.train.epochs + mc.freeze_epochs
    if mc.kind == "fusion" and mc.fusion == "late":
        per_fold += sum(mc.branch_epochs or config.train.epochs for b in mc.branches if not b.checkpoint)
    return per_fold


def check_frozen_encoder(config: ExperimentConfig) -> None:
    """A recurrent model on a frozen frame encoder (the thesis' recipe) needs a trained encoder to freeze: refuse
    to train a frozen random one. Checked when training starts, so the shipped recipes load without a path."""
    mc = config.model
    if mc.sequence.freeze_encoder and not any(p.checkpoint or p.pretrained for p in mc.parts()):
        raise ConfigError("model.sequence.freeze_encoder = true freezes the frame encoder, but the config names no "
                          "trained one (model.checkpoint is empty)", path=config.source,
                          hint="train the frame model first, then pass --set model.checkpoint=RUN/folds/<fold>/"
                               "model/best.pt")


# -- main -------------------------------------------------------------------------------------------------

def main(args: argparse.Namespace) -> int:
    """Run ``args`` (see ``cli.add_train_arguments``); returns the process exit code.

    DyadLab errors are re-raised after being recorded in the event log and status file, so the caller
    (``cli``) prints them the same way every ``dyadlab`` command does.
    """
    config = load_config(resolve_config_path(args.config), tuple(args.set or ()))
    check_frozen_encoder(config)
    info = init_distributed_mode(config.train.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    events = status = None
    try:
        resuming = prepare_out_dir(out, config, args.data, args.resume, info)
        events = EventLog(out / "events.jsonl", stdout=args.events_stdout, enabled=info.is_main)
        status = StatusFile(out / "status.json", enabled=info.is_main)
        device = pick_device(config.train.device, info)
        amp_dtype = resolve_amp(config.train.amp, device)
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        table = load_table(config, args.data)
        folds = make_folds(table, config.split, config.seed)
        with GracefulStop() as stop:
            run = Run(config=config, out=out, info=info, device=device, amp_dtype=amp_dtype, table=table,
                      events=events, status=status, stop=stop, quiet=args.quiet, code=code_version(),
                      planned_epochs=planned_epochs(config) * len(folds))
            events.emit("start", experiment=config.name, config=config.source, data=args.data, resumed=resuming,
                        folds=[f.name for f in folds], world_size=info.world_size, device=str(device),
                        amp=None if amp_dtype is None else str(amp_dtype).replace("torch.", ""),
                        frames=len(table), classes=list(table.classes))
            status.update(state="running", out=str(out), folds=[f.name for f in folds], experiment=config.name,
                          progress=0.0)
            run.log(f"{config.name}: {len(table)} frames, folds {[f.name for f in folds]}, device {device}, "
                    f"{info.world_size} process(es)")
            results = []
            for fold in folds:
                torch.manual_seed(config.seed)
                fold_dir = out / "folds" / _fold_dir_name(fold.name)
                if (fold_dir / "result.json").exists():
                    results.append(json.loads((fold_dir / "result.json").read_text(encoding="utf-8")))
                    run.done_epochs += planned_epochs(config)
                    run.events.emit("fold_end", fold=fold.name, skipped=True)
                    continue
                results.append(run_fold(run, fold, fold_dir))
        document = {"experiment": config.name, "classes": list(table.classes), "scheme": table.scheme,
                    "data": args.data, "world_size": info.world_size}
        if info.is_main:
            document = write_results(out, results, document)
            # stdout may be carrying JSON-lines events; then the human table goes to stderr
            print(format_table(results), file=sys.stderr if args.events_stdout else sys.stdout, flush=True)
        events.emit("done", summary=document.get("summary"), metrics=str(out / "metrics.json"))
        status.update(state="succeeded", progress=1.0, eta_s=0.0, summary=document.get("summary"))
        # Every rank tears the process group down together: a rank that destroyed it while rank 0 was
        # still writing the results aborted now and then under load (gloo, "terminate called without an
        # active exception"), failing a run whose results were complete.
        barrier(info)
        return EXIT_OK
    except TrainingStopped as stop_exc:
        state = "interrupted" if stop_exc.exit_code >= 128 else "failed"
        if status is not None:
            status.update(state=state, message=str(stop_exc))
        if info.is_main:
            print(f"dyadlab train: {stop_exc}", file=sys.stderr, flush=True)
        return stop_exc.exit_code
    except DyadLabError as exc:
        if events is not None and status is not None:
            events.emit("error", message=str(exc))
            status.update(state="failed", message=str(exc))
        raise
    finally:
        if events is not None:
            events.close()
        cleanup(info)
