"""Entry point of the ``dyadlab`` console script (see the package docstring).

Every call builds the parser of every subcommand (so ``dyadlab --help`` lists them all), which is why a
command module's top level imports only what its ``add_arguments`` needs; ``tests/core/cli/test_cli_imports.py``
holds that line. Logging is set up only once a command is about to run, so ``--help`` and usage errors
skip it too.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dyadlab.core import __version__
from dyadlab.core.errors import DyadLabError

# Subcommand modules, in the order ``--help`` lists them. Add a module here to add a command.
COMMAND_MODULES = [
    "dyadlab.core.cli.demo",
    "dyadlab.core.cli.importer",
    "dyadlab.core.cli.info",
    "dyadlab.core.cli.gui",
    "dyadlab.core.cli.db",
    "dyadlab.core.cli.team",
    "dyadlab.core.cli.import_labels",
    "dyadlab.core.cli.export",
    "dyadlab.core.cli.export_keypoints",
    "dyadlab.core.cli.import_keypoints",
    "dyadlab.core.cli.agreement",
    "dyadlab.core.cli.analyze",
    "dyadlab.core.cli.cache",
    "dyadlab.core.cli.train",
    "dyadlab.core.cli.evaluate",
    "dyadlab.core.cli.models",
    "dyadlab.core.cli.proxy",
    "dyadlab.core.cli.sync",
    "dyadlab.core.cli.backup",
    "dyadlab.core.cli.report",
    "dyadlab.core.cli.infer",
    "dyadlab.core.cli.queue",
    "dyadlab.core.cli.scheme",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dyadlab",
        description="DyadLab: annotate, analyse and model non-verbal emotion in dyadic conversations.",
    )
    parser.add_argument("--version", action="version", version=f"dyadlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command_line(build_parser(), argv)


def run_command_line(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None, *,
                     log_to_file: bool = True) -> int:
    """Parse ``argv`` and run the chosen subcommand (its parser's ``_run`` default); the exit code.

    The one command-line runner of DyadLab: ``dyadlab`` and the trainer's ``python -m dyadlab.trainer``
    (``trainer.cli``) both end here, so a ``DyadLabError`` is one ``error:`` line and exit 1, Ctrl+C exit
    130 and a closed pipe a quiet exit 0 in both. ``log_to_file`` starts the user's log file (``core.logs``)
    once a command is about to run, never for ``--help`` or a usage error.
    """
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    if log_to_file:
        from dyadlab.core.logs import setup_logging  # logging.handlers and the log file: not for --help

        setup_logging()
    try:
        return int(args._run(args) or 0)
    except DyadLabError as exc:
        print(f"dyadlab {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `dyadlab info P | head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file the user named cannot be written or read (-o under a file, a full disk)
        if exc.filename is None:
            raise
        logging.getLogger(__name__).info("%s failed on a file", args.command, exc_info=True)
        print(f"dyadlab {args.command}: error: {_os_problem(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"dyadlab {args.command}: interrupted", file=sys.stderr)
        return 130


def _os_problem(exc: OSError) -> str:
    """'PATH: what is wrong' for an OSError; a file in the way of a folder is named itself (mkdir under a
    file says only "File exists" or "Not a directory" about some path below it)."""
    path = Path(exc.filename)
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        for folder in (path, *path.parents):
            if folder.is_file():
                return f"{folder}: is a file, not a folder"
    return f"{path}: {exc.strerror or exc}"


if __name__ == "__main__":
    sys.exit(main())
