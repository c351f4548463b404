"""Command line of the trainer: ``python -m dyadlab.trainer train|export ...`` (also under torchrun).

Why torch-free at import: ``dyadlab train PROJECT`` (``core/cli/train.py``) reuses
``add_experiment_arguments`` and ``run`` — and the ``dyadlab`` CLI builds every command's arguments for
``--help``, which must stay instant. Torch is imported only when a command runs.

    python -m dyadlab.trainer train --config tiny --data synthetic --out runs/tiny
    torchrun --standalone --nproc_per_node 2 -m dyadlab.trainer train --config FILE --data ... --out DIR
    python -m dyadlab.trainer export runs/tiny/folds/Session5/model/best.pt --out exported/

``--config`` takes a file or the name of a shipped experiment (``resources/experiments``). Exit codes
are documented in ``dyadlab.trainer.train``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from dyadlab.core.cli.main import run_command_line

NAME = "train"
HELP = "train an emotion model from an experiment config (one process, or several under torchrun)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``train``: where the data come from and go to, then the experiment's own."""
    p.add_argument("--data", required=True, metavar="SOURCE",
                   help="'synthetic' (generated frames, see [data.synthetic]) or 'project:PATH'")
    p.add_argument("--out", required=True, type=Path, help="output folder (checkpoints, events, metrics)")
    add_experiment_arguments(p)


def add_experiment_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments ``dyadlab train PROJECT`` shares with this trainer CLI (it names data and output itself)."""
    p.add_argument("--config", required=True, help="experiment TOML file, or a shipped experiment's name")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                   help="override a config value, e.g. --set train.epochs=5 (repeatable)")
    p.add_argument("--events-stdout", action="store_true", help="also write JSON-lines progress events to stdout")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads per process (0: torch's default)")
    p.add_argument("--quiet", action="store_true", help="no human-readable progress on stderr")


def run(args: argparse.Namespace) -> int:
    from dyadlab.trainer.train import main

    return main(args)


def add_export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=Path, help="a checkpoint written by `train` (best.pt)")
    p.add_argument("--out", required=True, type=Path, help="folder for the exported files")
    p.add_argument("--format", action="append", choices=["torchscript", "onnx"], default=None,
                   help="what to export (repeatable; default: both, ONNX skipped when unavailable)")


def run_export(args: argparse.Namespace) -> int:
    from dyadlab.trainer.export import export_checkpoint

    for fmt, result in export_checkpoint(args.checkpoint, args.out, args.format or ("torchscript", "onnx")).items():
        print(f"{fmt}: {result}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dyadlab.trainer",
                                     description="DyadLab trainer: train and export emotion models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text, add, func in ((NAME, HELP, add_arguments, run),
                                       ("export", "export a checkpoint to TorchScript (and ONNX)",
                                        add_export_arguments, run_export)):
        p = sub.add_parser(name, help=help_text, description=help_text)
        add(p)
        p.set_defaults(_run=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a trainer command: errors, Ctrl+C and exit codes as for ``dyadlab``, whose runner this is.

    As before, this command does not start the user's log file (``dyadlab train PROJECT`` does).
    """
    return run_command_line(build_parser(), argv, log_to_file=False)
