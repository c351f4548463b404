"""Edits of the project's model registry: add, rename and delete, shared by ``dyadlab models`` and the Models dock.

Why one module: both front ends rename and delete models, and they used to carry their own copies of the
checks (one stripped and refused empty names, the other did not). The rules live here once:

- an unknown model id is a ``ModelRegistryError`` naming the id;
- a name is stripped, must not be empty or longer than the column (200 characters), and (name, version) is
  unique in the registry, so a rename onto a taken pair is refused before the database's constraint trips;
- deleting a model removes its registry row, and the store cascades its **frame-level prediction series**
  (``series.model_id``, ``ON DELETE CASCADE``) — they are cached numbers that mean nothing without the
  model. Its **utterance-level prediction tiers** (annotator ``"<name> <version>"`` of kind ``model``) are
  labels in the project like any other and are *kept*: a user may have reviewed or copied from them; the
  plan says how many stay so the front ends can tell the user. Files go too, when they lie inside the
  project (``model_files``): a run folder ``dyadlab train`` wrote (only the fold's checkpoint for one fold of a
  cross-validation run, whose folder the other folds' models share), else the checkpoint; files elsewhere are
  the user's to manage.

A model DyadLab ships (``builtin``, kind ``"pretrained"``) is read-only: renaming or deleting it is a
``ModelRegistryError`` (it would come back on the next open, and other projects share its file).

Adding registers a checkpoint file the user names and then loads it the way inference will (scheme,
inputs, weights); a file that fails those checks is taken out of the registry again, so the registry only
lists models that can run.

Deleting is two steps, ``plan_deletion`` then ``delete_model(plan)``, so a front end can show what will go
and ask first. Renaming does not rename the prediction tiers or their annotator (their names record which
model wrote them); predictions computed later are written under the new name.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dyadlab.core.errors import ModelRegistryError, StoreError
from dyadlab.core.model import ModelRecord

if TYPE_CHECKING:
    from dyadlab.core.project import Project
    from dyadlab.core.store import UnitOfWork

MAX_NAME = 200  # models.name is VARCHAR(200)


def _record(tx: UnitOfWork, model_id: int) -> ModelRecord:
    try:
        return tx.models.get(model_id)
    except StoreError:
        raise ModelRegistryError(f"no model #{model_id} in this project",
                                 hint="`dyadlab models PROJECT` lists the registered ids") from None


def _writable(record: ModelRecord, action: str) -> None:
    """Refuse to change a model DyadLab ships (``builtin``): it is read-only in every project."""
    from dyadlab.core.inference.builtin import is_builtin

    if is_builtin(record):
        raise ModelRegistryError(f"cannot {action} model #{record.id} {record.name}: it ships with DyadLab and is "
                                 "read-only in every project",
                                 hint="fine-tune it into a model of your own (experiment face_cnn_pretrained)")


def scored_on(record: ModelRecord) -> str:
    """What the model's score measures, in words: its own fold's test part (``metrics["scored_on"]``, written
    by ``dyadlab train``; one model, one score), or nothing for a shipped model; records registered before that
    key existed: the mean over their folds, although the checkpoint is the first fold's."""
    if "scored_on" in record.metrics:
        return str(record.metrics["scored_on"])
    folds = record.metrics.get("summary", {}).get("frame", {}).get("ua", {}).get("n_folds")
    return "-" if folds is None else f"mean of {folds} fold(s) (checkpoint: the first fold's)"


def _clean_name(name: str, context: str) -> str:
    name = name.strip()
    if not name:
        raise ModelRegistryError(f"{context}: the new name is empty")
    if len(name) > MAX_NAME:
        raise ModelRegistryError(f"{context}: the new name is longer than {MAX_NAME} characters")
    return name


def add_model(project: Project, path: str | Path, *, name: str | None = None, version: str | None = None,
              audio_frames: str | None = None, export: bool = True) -> ModelRecord:
    """Register the checkpoint at ``path`` (see ``core.inference.loader.register_checkpoint``) once it loads.
    ``export=False``: no waiting for its ONNX export here (a window starts it in the background)."""
    from dyadlab.core.inference.loader import load_model, register_checkpoint

    if name is not None:
        name = _clean_name(name, f"cannot register {path}")
    record = register_checkpoint(project, path, name=name, version=version, audio_frames=audio_frames,
                                 export=export)
    try:
        load_model(project, record.id, device="cpu")
    except BaseException:
        with project.store.transaction() as tx:
            tx.models.delete(record.id)
        raise
    return record


def rename_model(project: Project, model_id: int, name: str) -> tuple[ModelRecord, ModelRecord]:
    """Give model ``model_id`` the name ``name`` (stripped); returns the record before and after."""
    name = _clean_name(name, f"cannot rename model #{model_id}")
    with project.store.transaction() as tx:
        before = _record(tx, model_id)
        _writable(before, "rename")
        if any(r.name == name and r.version == before.version and r.id != model_id for r in tx.models.list()):
            raise ModelRegistryError(f"cannot rename model #{model_id}: a model named {name!r} with version "
                                     f"{before.version} is already registered", hint="choose another name")
        after = tx.models.update(model_id, name=name)
    return before, after


def model_files(project: Project, record: ModelRecord) -> Path | None:
    """What deleting ``record`` removes from disk: its run folder (a folder ``dyadlab train`` wrote, inside the
    project), else its checkpoint file inside the project; None when nothing of it lies inside the project
    (files elsewhere are the user's to manage)."""
    root = project.root.resolve()
    run_dir = record.config.get("run_dir")
    candidates = []
    if run_dir and not record.config.get("run_dir_shared"):  # a cross-validation fold: the folder holds the others
        candidates.append(project.media_path(run_dir))
    if record.path:
        candidates.append(project.media_path(record.path))
    for path in candidates:
        path = path.resolve()
        inside = path != root and root in path.parents
        if inside and (path.is_file() or (path / "run.json").is_file()):
            return path
    return None


@dataclass(frozen=True)
class DeletionPlan:
    """What deleting ``record`` will remove (``predictions``, ``files``) and keep (``kept_tiers``)."""

    record: ModelRecord
    predictions: int  # frame-level prediction series: deleted with the model (the store cascades them)
    kept_tiers: int  # utterance-level prediction tiers of the model's annotator: kept, they are labels
    files: Path | None  # run folder or checkpoint inside the project, deleted; None: no files to delete

    def describe(self) -> str:
        """One line for a confirmation prompt or a report: what goes, then what stays."""
        r = self.record
        what = [f"model #{r.id} {r.name} version {r.version}"]
        if self.predictions:
            what.append(f"its {self.predictions} prediction series")
        what.append(f"its files in {self.files}" if self.files else "no files (none inside the project)")
        text = ", ".join(what)
        if self.kept_tiers:
            text += (f"; its {self.kept_tiers} utterance prediction tier(s) (annotator '{r.name} {r.version}') "
                     "are kept")
        return text


def plan_deletion(project: Project, model_id: int) -> DeletionPlan:
    """What ``delete_model`` would remove for ``model_id``; changes nothing."""
    from dyadlab.core.inference.predictions import annotator_name

    with project.store.transaction() as tx:
        record = _record(tx, model_id)
        _writable(record, "delete")
        predictions = len(tx.series.list(model_id=model_id))
        annotator = tx.annotators.by_name(annotator_name(record))
        kept = len(tx.tiers.list(annotator_id=annotator.id)) if annotator and annotator.kind == "model" else 0
    return DeletionPlan(record, predictions, kept, model_files(project, record))


def delete_model(project: Project, plan: DeletionPlan) -> None:
    """Delete the planned model's registry row (its prediction series cascade), then its files.

    The row goes first, in one transaction: when deleting the files fails afterwards (permissions), the
    registry no longer lists a half-deleted model, and the leftover folder is named in the error.
    """
    with project.store.transaction() as tx:
        _record(tx, plan.record.id)  # still there (another window may have deleted it since the plan)
        tx.models.delete(plan.record.id)
    files = plan.files
    if files is None:
        return
    try:
        if files.is_dir():
            shutil.rmtree(files)
        else:
            files.unlink(missing_ok=True)
    except OSError as exc:
        raise ModelRegistryError(f"model #{plan.record.id} was removed from the registry, but its files could "
                                 f"not be deleted: {exc.strerror or exc}", path=files,
                                 hint="delete the folder by hand") from exc
