"""``dyadlab models PROJECT [list | rename ID NAME | delete ID --yes]``: the project's model registry.

Why: ``dyadlab train`` registers every successful run, so the registry grows; users need to see what is
there with its scores, give a model a meaningful name, and drop failed experiments together with their
files (a run folder holds checkpoints of every fold and stage). Deleting also removes the predictions the
model wrote (the store cascades them), so it asks for ``--yes`` and says first what will go.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from dyadlab.core.errors import DyadLabError

NAME = "models"
HELP = "list, rename or delete the trained models registered in a project (delete also removes their files)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    sub.add_parser("list", help="registered models with their test scores (the default)")
    rename = sub.add_parser("rename", help="give a model another name")
    rename.add_argument("id", type=int, help="model id (see `list`)")
    rename.add_argument("name", help="the new name")
    delete = sub.add_parser("delete", help="remove a model from the registry and delete its files")
    delete.add_argument("id", type=int, help="model id (see `list`)")
    delete.add_argument("--yes", action="store_true", help="really delete (without it: only say what would go)")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        if args.models_command == "rename":
            return _rename(project, args.id, args.name)
        if args.models_command == "delete":
            return _delete(project, args.id, args.yes)
        return _list(project)


def _score(record: Any, level: str) -> str:
    """Mean test UA (percent) at ``level`` over the model's folds, or '-'."""
    value = record.metrics.get("summary", {}).get(level, {}).get("ua", {}).get("mean")
    return "-" if value is None else f"{100 * value:.1f}"


def _list(project: Any) -> int:
    with project.store.transaction() as tx:
        records = tx.models.list()
    if not records:
        print("no models registered (train one with `dyadlab train PROJECT --config NAME`)")
        return 0
    rows = [(str(r.id), r.name, r.version, r.kind, _score(r, "frame"), _score(r, "utterance"),
             r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else "-",
             (r.path or "-") + ("" if r.path and project.media_path(r.path).is_file() else "  (missing)"))
            for r in records]
    header = ("id", "name", "version", "kind", "UA frame %", "UA utt. %", "created (UTC)", "checkpoint")
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _rename(project: Any, model_id: int, name: str) -> int:
    with project.store.transaction() as tx:
        record = tx.models.get(model_id)
        if any(r.name == name and r.version == record.version and r.id != model_id for r in tx.models.list()):
            raise DyadLabError(f"a model named {name!r} with version {record.version} is already registered",
                               hint="choose another name")
        tx.models.update(model_id, name=name)
    print(f"model #{model_id}: {record.name} -> {name}")
    return 0


def model_files(project: Any, record: Any) -> Path | None:
    """What deleting ``record`` removes from disk: its run folder (a folder ``dyadlab train`` wrote, inside the
    project), else its checkpoint file inside the project; None when nothing of it lies inside the project
    (files elsewhere are the user's to manage)."""
    root = project.root.resolve()
    run_dir = record.config.get("run_dir")
    candidates = []
    if run_dir:
        candidates.append(project.media_path(run_dir))
    if record.path:
        candidates.append(project.media_path(record.path))
    for path in candidates:
        path = path.resolve()
        inside = path != root and root in path.parents
        if inside and (path.is_file() or (path / "run.json").is_file()):
            return path
    return None


def _delete(project: Any, model_id: int, yes: bool) -> int:
    with project.store.transaction() as tx:
        record = tx.models.get(model_id)
        predictions = len(tx.series.list(model_id=model_id))
    files = model_files(project, record)
    what = [f"model #{record.id} {record.name} version {record.version}"]
    if predictions:
        what.append(f"its {predictions} prediction series")
    what.append(f"its files in {files}" if files else "no files (none inside the project)")
    if not yes:
        print(f"would delete {', '.join(what)}; pass --yes to delete")
        return 1
    with project.store.transaction() as tx:
        tx.models.delete(model_id)
    if files is not None:
        if files.is_dir():
            shutil.rmtree(files)
        else:
            files.unlink(missing_ok=True)
    print(f"deleted {', '.join(what)}")
    return 0
