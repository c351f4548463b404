"""``dyadlab models PROJECT [list | add FILE | rename ID NAME | delete ID --yes]``: the project's model registry.

Why: ``dyadlab train`` registers every successful run, so the registry grows; users need to see what is
there with its scores, register a checkpoint trained elsewhere (a file the user names — nothing is ever
downloaded), give a model a meaningful name, and drop failed experiments together with their
files (a run folder holds checkpoints of every fold and stage). Deleting also removes the predictions the
model wrote (the store cascades them), so it asks for ``--yes`` and says first what will go. The checks and
the deleting live in ``core.inference.registry``, shared with the GUI's Models dock.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

NAME = "models"
HELP = "list, rename or delete the trained models registered in a project (delete also removes their files)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    sub.add_parser("list", help="registered models with their test scores (the default)")
    add = sub.add_parser("add", help="register a DyadLab checkpoint file (e.g. trained on another machine)")
    add.add_argument("file", type=Path, help="checkpoint (.pt) written by the DyadLab trainer")
    add.add_argument("--name", help="registry name (default: the one the checkpoint records)")
    add.add_argument("--version", help="registry version (default: the checkpoint's)")
    add.add_argument("--audio-frames", choices=("speech", "all"), default=None,
                     help="how its audio inputs were trained: 'speech' = only where the participant speaks "
                          "(inference then predicts audio only there); default: every frame")
    rename = sub.add_parser("rename", help="give a model another name")
    rename.add_argument("id", type=int, help="model id (see `list`)")
    rename.add_argument("name", help="the new name")
    delete = sub.add_parser("delete", help="remove a model from the registry and delete its files")
    delete.add_argument("id", type=int, help="model id (see `list`)")
    delete.add_argument("--yes", action="store_true", help="really delete (without it: only say what would go)")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        if args.models_command == "add":
            return _add(project, args)
        if args.models_command == "rename":
            return _rename(project, args.id, args.name)
        if args.models_command == "delete":
            return _delete(project, args.id, args.yes)
        return _list(project)


def _score(record: Any, level: str) -> str:
    """Mean test UA (percent) at ``level`` over the model's folds, or '-'."""
    value = record.metrics.get("summary", {}).get(level, {}).get("ua", {}).get("mean")
    return "-" if value is None else f"{100 * value:.1f}"


def _checkpoint(project: Any, record: Any) -> str:
    from dyadlab.core.errors import DyadLabError
    from dyadlab.core.inference.loader import checkpoint_path

    try:
        present = checkpoint_path(project, record).is_file()
    except DyadLabError:
        present = False
    return (record.path or "-") + ("" if present else "  (missing)")


def _list(project: Any) -> int:
    from dyadlab.core.inference.registry import scored_on

    with project.store.transaction() as tx:
        records = tx.models.list()
    if not records:
        print("no models registered (train one with `dyadlab train PROJECT --config NAME`)")
        return 0
    rows = [(str(r.id), r.name, r.version, r.kind, _score(r, "frame"), _score(r, "utterance"), scored_on(r),
             r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else "-", _checkpoint(project, r))
            for r in records]
    header = ("id", "name", "version", "kind", "UA frame %", "UA utt. %", "scored on", "created (UTC)",
              "checkpoint")
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _add(project: Any, args: argparse.Namespace) -> int:
    from dyadlab.core.inference.registry import add_model

    record = add_model(project, args.file, name=args.name, version=args.version, audio_frames=args.audio_frames)
    print(f"registered model #{record.id}: {record.name} {record.version} ({record.kind})")
    return 0


def _rename(project: Any, model_id: int, name: str) -> int:
    from dyadlab.core.inference.registry import rename_model

    before, after = rename_model(project, model_id, name)
    print(f"model #{model_id}: {before.name} -> {after.name}")
    return 0


def _delete(project: Any, model_id: int, yes: bool) -> int:
    from dyadlab.core.inference.registry import delete_model, plan_deletion

    plan = plan_deletion(project, model_id)
    if not yes:
        print(f"would delete {plan.describe()}; pass --yes to delete")
        return 1
    delete_model(project, plan)
    print(f"deleted {plan.describe()}")
    return 0
