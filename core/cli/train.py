"""``dyadlab train PROJECT --config NAME``: train an emotion model on a project's features and register it.

Why a command of its own (besides ``python -m dyadlab.trainer train``): users think in projects, not data
specs and output folders. This wraps the trainer's run (same config, ``--set``, ``--resume`` and exit codes;
``trainer/train.py`` documents them) with what a project adds:

* the data are the project's analysed features, labelled by ``--annotator``'s ``--tier`` tiers, audio
  inputs counted where the participant speaks (``--audio-frames``; see ``ProjectFrameSource``); nothing
  is copied; face crops are read at ``--face-size`` (default: the model's own input size, e.g. mini_xception's
  64 px, when the cache holds larger crops), recorded with the model so ``dyadlab evaluate`` reads them alike;
* the output goes to ``PROJECT/models/<name>-<version>/`` (``--out`` to choose another folder), ``<version>``
  counting up per name; ``model.json`` there records which registry entry the folder is for;
* progress events go to the folder's ``events.jsonl`` and, when the job runner started the command, are
  also copied as they come to ``$DYADLAB_JOB_EVENTS`` (what the GUI's Jobs dock follows);
* a run that ends successfully is added to the model registry (``ModelRepository``): its checkpoint path
  relative to the project, the label scheme, the model description and config, and the metrics with the
  fold table. A failed or interrupted run registers nothing; its folder stays for inspection or ``--resume``,
  except when the trainer refused it before training started (e.g. a split naming groups the project lacks):
  then nothing of it is kept, and the next run takes the same version number.

Several processes (``torchrun --nproc_per_node N -m dyadlab.core.cli train PROJECT --out DIR ...``) train one
model together, as with the trainer's own CLI; only rank 0 writes ``model.json`` and registers the model.

Nothing here imports torch or the trainer until the command runs (``dyadlab --help`` stays instant).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

from dyadlab.core.atomic_write import write_text_atomically
from dyadlab.core.errors import DyadLabError

NAME = "train"
HELP = "train an emotion model on a project's analysed features and add it to the project's model registry"
MODELS_DIR = "models"
RUN_RECORD = "model.json"  # in the output folder: the registry name and version this run is for
EVENTS_FILE = "events.jsonl"
JOB_EVENTS_ENV = "DYADLAB_JOB_EVENTS"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from dyadlab.trainer.cli import add_experiment_arguments  # argparse only: no torch

    p.add_argument("project", type=Path, help="project folder (analysed with `dyadlab analyze`)")
    add_experiment_arguments(p)
    p.add_argument("--out", type=Path, help="output folder (default: PROJECT/models/<name>-<version>)")
    p.add_argument("--name", help="name in the model registry (default: the experiment's name)")
    p.add_argument("--annotator", default="gold", help="whose labels to learn (default: gold)")
    p.add_argument("--tier", default="emotion",
                   help="the categorical tier holding them (default: emotion; an IEMOCAP import: emotion4)")
    p.add_argument("--loso", action="store_true",
                   help="leave-one-session-out cross-validation (split.kind = leave_one_group_out): one model per "
                        "session held out, each registered with its own score")
    p.add_argument("--audio-frames", choices=["speech", "all"], default="speech",
                   help="audio inputs count only where the participant speaks (voice activity; default) or on "
                        "every frame")
    p.add_argument("--face-size", type=int, metavar="PX",
                   help="read face crops at PX x PX (0: as cached; default: the model's own input size when it has "
                        "one and the cached crops are larger, e.g. 64 for mini_xception, else as cached)")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.project import open_project
    from dyadlab.trainer.cli import run as run_trainer
    from dyadlab.trainer.config import load_config, resolve_config_path
    from dyadlab.trainer.project_source import ProjectFrameSource

    if args.loso:  # before the user's own --set, which may still pick the folds (split.folds=[...])
        args.set = ['split.kind="leave_one_group_out"', *args.set]
    config = load_config(resolve_config_path(args.config), tuple(args.set))  # a bad config stops here
    main_rank = os.environ.get("RANK", "0") == "0"  # under torchrun only rank 0 writes and registers
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and args.out is None:
        raise DyadLabError("under torchrun every process must write to the same folder: pass --out")
    with open_project(args.project) as project:
        root = project.root.resolve()
        recorded: dict[str, Any] = {}
        if args.resume:
            out, name, version, recorded = _resumed_folder(args.out)
        else:
            name = args.name or config.name
    data: dict[str, Any] = {"annotator": args.annotator, "tier": args.tier, "scheme": config.scheme,
                            "audio_frames": args.audio_frames}
    if args.face_size is None and "face_size" in recorded:  # a resumed run reads the crops as it started to
        face_size = recorded["face_size"]
    else:
        face_size = _face_size(args.face_size, config, ProjectFrameSource(root, **data))
    if face_size is not None:
        data["face_size"] = face_size
    source = ProjectFrameSource(root, **data)
    fresh: _FreshFolder | None = None
    if not args.resume:  # the folder is made only now: a refused --face-size or data spec leaves none behind
        with open_project(root) as project:
            fresh = _FreshFolder(args.out)
            out, version = _new_folder(project, name, args.out, check=main_rank)
        if main_rank:
            _write_json(out / RUN_RECORD, {"name": name, "version": version, "project": str(root), "data": data})
    trainer_args = argparse.Namespace(config=args.config, data=source.spec(), out=out, resume=args.resume,
                                      set=args.set, events_stdout=args.events_stdout, threads=args.threads,
                                      quiet=args.quiet)
    job_events = Path(os.environ[JOB_EVENTS_ENV]) if os.environ.get(JOB_EVENTS_ENV) and main_rank else None
    try:
        with EventRelay(out / EVENTS_FILE, job_events):
            code = run_trainer(trainer_args)
    except DyadLabError:
        if fresh is not None and main_rank and fresh.remove_if_unstarted(out):
            print("dyadlab train: nothing registered; the run was refused before training started, so no run "
                  "folder was kept", file=sys.stderr)
        else:
            print(f"dyadlab train: nothing registered; the run's files are in {out}", file=sys.stderr)
        raise
    if not main_rank:
        return code
    if code != 0:
        resume = f"dyadlab train {args.project} --config {args.config} --out {out} --resume" + (
            " --loso" if args.loso else "")
        print(f"dyadlab train: nothing registered (exit code {code}); the run's files are in {out}"
              + (f"; continue with `{resume}`" if code >= 128 else ""), file=sys.stderr)
        return code
    with open_project(root) as project:
        records = register_run(project, out, name, version, data)
    for record in records:
        for events in (out / EVENTS_FILE, job_events):
            if events is not None:
                _append_event(events, "registered", model_id=record.id, name=record.name, version=record.version,
                              path=record.path)
        print(f"registered model #{record.id} {record.name} version {record.version}: {record.path} "
              f"(scored on {record.metrics['scored_on']})")
    return 0


def _face_size(asked: int | None, config: Any, source: Any) -> int | None:
    """The face-crop size to read (None: as cached): ``--face-size`` (0: as cached), else the model's own input
    size when the cache's crops are larger (``ProjectFrameSource.reading_faces_at``)."""
    from dyadlab.trainer.data import modality_kind
    from dyadlab.trainer.models.registry import model_face_size

    takes_faces = any(modality_kind(m) == "image" for m in config.model.modalities())
    if asked is not None:
        if not takes_faces:
            raise DyadLabError(f"--face-size: the model ({config.model.kind}) takes no face input")
        return asked or None
    return source.reading_faces_at(model_face_size(config.model) if takes_faces else None).face_size


# -- output folder -----------------------------------------------------------------------------------------

def _slug(name: str) -> str:
    """A folder-safe form of a model name."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name).strip("._") or "model"


def _new_folder(project: Any, name: str, out: Path | None, *, check: bool = True) -> tuple[Path, str]:
    """The output folder and the registry version of a new run of ``name``: one more than any version of it
    registered or already on disk (an unregistered failed run keeps its number). ``check``: refuse an ``out``
    that already holds a run (off for torchrun's other ranks, which may look after rank 0 started it)."""
    models = project.root.resolve() / MODELS_DIR
    with project.store.transaction() as tx:
        taken = {r.version for r in tx.models.list() if r.name == name}
    numbers = [int(v) for v in taken if v.isdigit()]
    prefix = f"{_slug(name)}-"
    if models.is_dir():
        numbers += [int(p.name[len(prefix):]) for p in models.iterdir()
                    if p.name.startswith(prefix) and p.name[len(prefix):].isdigit()]
    version = max(numbers, default=0) + 1
    if out is not None:
        if check and (out / "run.json").exists():
            from dyadlab.trainer.errors import ConfigError

            raise ConfigError("this output folder already holds a training run", path=out,
                              hint="pass --resume to continue it, or choose another --out")
        out.mkdir(parents=True, exist_ok=True)
        return out, str(version)
    while True:  # another `dyadlab train` may claim the same number at the same moment
        folder = models / f"{prefix}{version}"
        try:
            folder.mkdir(parents=True)
            return folder, str(version)
        except FileExistsError:
            version += 1


class _FreshFolder:
    """The output folder of a new run, removed again when the trainer refuses the run before it starts training
    (a split naming groups the data lacks, no labelled frames...): such a run has nothing to inspect or resume,
    and a kept folder would take the next run's version number. Only the files a run writes before it starts are
    removed, and the folder itself only when this run made it (``--out`` may name a folder holding other files).
    """

    SETUP_FILES = (RUN_RECORD, "run.json", "config.toml", EVENTS_FILE, "status.json")

    def __init__(self, out: Path | None) -> None:
        self.existed = out is not None and out.exists()

    def remove_if_unstarted(self, out: Path) -> bool:
        """Remove the run's setup files (and the folder, if made for it) unless training started; True if so."""
        if _training_started(out / EVENTS_FILE):
            return False
        for file in self.SETUP_FILES:
            (out / file).unlink(missing_ok=True)
        if not self.existed:
            try:
                out.rmdir()
            except OSError:  # something else was written there: keep it
                return False
        return True


def _training_started(events: Path) -> bool:
    """Whether the trainer's events file records the start of training (its ``start`` event)."""
    try:
        lines = events.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return False
    for line in lines:
        try:
            if json.loads(line).get("event") == "start":
                return True
        except ValueError:
            continue
    return False


def _resumed_folder(out: Path | None) -> tuple[Path, str, str, dict[str, Any]]:
    """The folder, registry name and version of the run to resume, and the data choices it recorded."""
    if out is None:
        raise DyadLabError("--resume needs --out: the folder of the interrupted run",
                           hint="e.g. --out PROJECT/models/<name>-<version>")
    try:
        record = json.loads((out / RUN_RECORD).read_text(encoding="utf-8"))
        return out, str(record["name"]), str(record["version"]), dict(record.get("data") or {})
    except (OSError, ValueError, KeyError) as exc:
        raise DyadLabError(f"not a folder started by `dyadlab train` (no readable {RUN_RECORD})", path=out,
                           hint="resume runs of `python -m dyadlab.trainer train` with that command") from exc


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text_atomically(path, json.dumps(data, indent=2) + "\n")


# -- progress for the job runner -----------------------------------------------------------------------

class EventRelay:
    """While training runs, copies every complete line the trainer appends to its events file into the job
    runner's events file (``$DYADLAB_JOB_EVENTS``), a few times a second and once more at the end.

    Why a copier rather than a second writer inside the trainer: the trainer's event log is its own record of
    the run (kept with the checkpoints); the job file is the runner's, and only exists under the runner.
    """

    def __init__(self, source: Path, target: Path | None, interval_s: float = 0.25) -> None:
        self.source, self.target, self.interval_s = source, target, interval_s
        self.offset = source.stat().st_size if source.exists() else 0  # a resumed run's old events are not news
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="event-relay", daemon=True)

    def __enter__(self) -> EventRelay:
        if self.target is not None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.target is not None:
            self._stop.set()
            self._thread.join()
            self.copy()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.copy()

    def copy(self) -> None:
        """Append the complete lines written since the last call (a half-written line waits)."""
        assert self.target is not None
        try:
            with self.source.open("rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        if end:
            with self.target.open("ab") as fh:
                fh.write(data[:end])
            self.offset += end


def _append_event(events: Path, event: str, /, **fields: Any) -> None:
    from dyadlab.trainer.events import EventLog

    log = EventLog(events)
    try:
        log.emit(event, **fields)
    finally:
        log.close()


# -- registration ---------------------------------------------------------------------------------------

def register_run(project: Any, out: Path, name: str, version: str, data: dict[str, str]) -> list[Any]:
    """Add a finished run to the model registry; returns the ``ModelRecord``s added (or found, when a finished
    run is resumed again).

    One model, one score: a registry entry's score is always the score *of the checkpoint it holds*.
    A run with one fold (the thesis's named split) registers that fold's model, scored on its test groups.
    Under cross-validation every fold's model is registered on its own (version ``<version>-<fold>``), scored
    on its own held-out fold; the cross-validation estimate (mean over folds) travels with each as
    ``metrics["cv_summary"]``, labelled as such, never as the score of one model. ``metrics["scored_on"]``
    says in words what the score measures (``dyadlab models`` and the Models dock show it). Each checkpoint is
    exported to ONNX beside it (``onnx_runtime.export_for_registry``), for a DyadLab without torch.
    """
    from dyadlab.core.inference.onnx_runtime import export_for_registry
    from dyadlab.trainer.checkpoint import model_record_fields, read_checkpoint
    from dyadlab.trainer.metrics import read_results, summarize_folds, table_rows

    document = read_results(out)
    folds = document["folds"]
    cv = len(folds) > 1
    cv_ua = document["summary"].get("frame", {}).get("ua", {}).get("mean")
    entries = []
    for fold in folds:
        checkpoint = out / fold["checkpoint"]
        meta = read_checkpoint(checkpoint)["metadata"]
        fields = model_record_fields(meta)
        config = {**fields["config"], "experiment": meta.get("config", {}), "data": data,
                  "run_dir": project.relative_media_path(out), "trained_at": fields["version"],
                  "fold": fold["fold"]}
        metrics = {**fields["metrics"], "summary": summarize_folds([fold]), "folds": table_rows([fold]),
                   "scored_on": _scored_on(fold, len(folds), cv_ua)}
        if cv:
            config["run_dir_shared"] = True  # the run folder holds every fold: deleting one fold keeps it
            metrics["cv_summary"] = document["summary"]
        entries.append((f"{version}-{fold['fold']}" if cv else version, checkpoint, fields, config, metrics))
    records = []
    with project.store.transaction() as tx:
        existing = {(r.name, r.version): r for r in tx.models.list()}
        scheme = tx.schemes.by_name(document.get("scheme") or "")
        for entry_version, checkpoint, fields, config, metrics in entries:
            if (name, entry_version) in existing:  # a finished run resumed again
                records.append(existing[(name, entry_version)])
                continue
            records.append(tx.models.add(name, entry_version, fields["kind"],
                                         path=project.relative_media_path(checkpoint),
                                         scheme_id=None if scheme is None else scheme.id, config=config,
                                         metrics=metrics))
    for _, checkpoint, *_ in entries:  # so a DyadLab without torch (the desktop bundle) can run them
        export_for_registry(checkpoint)
    return records


def _scored_on(fold: dict[str, Any], n_folds: int, cv_ua: float | None) -> str:
    """What a fold model's score measures, in words."""
    groups = ", ".join(fold.get("split", {}).get("test_groups") or [str(fold["fold"])])
    if n_folds == 1:
        return f"its test groups ({groups})"
    estimate = "" if cv_ua is None else f"; the {n_folds}-fold CV estimate, mean frame UA {100 * cv_ua:.1f} %, " \
                                        "is the run's, not this model's"
    return f"its own held-out fold {fold['fold']} ({groups}){estimate}"
