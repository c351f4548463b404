"""Entry point of the ``dyadlab`` console script (see the package docstring).

Every call builds the parser of every subcommand (so ``dyadlab --help`` lists them all), which is why a
command module's top level imports only what its ``add_arguments`` needs; ``tests/core/cli/test_cli_imports.py``
holds that line. Logging is set up only once a command is about to run, so ``--help`` and usage errors
skip it too.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from dyadlab.core import __version__
from dyadlab.core.errors import DyadLabError

# Subcommand modules, in the order ``--help`` lists them. Add a module here to add a command.
COMMAND_MODULES = [
    "dyadlab.core.cli.demo",
    "dyadlab.core.cli.importer",
    "dyadlab.core.cli.info",
    "dyadlab.core.cli.gui",
    "dyadlab.core.cli.db",
    "dyadlab.core.cli.import_labels",
    "dyadlab.core.cli.export",
    "dyadlab.core.cli.agreement",
    "dyadlab.core.cli.analyze",
    "dyadlab.core.cli.cache",
    "dyadlab.core.cli.train",
    "dyadlab.core.cli.evaluate",
    "dyadlab.core.cli.models",
    "dyadlab.core.cli.proxy",
    "dyadlab.core.cli.backup",
    "dyadlab.core.cli.report",
    "dyadlab.core.cli.infer",
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
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
    except KeyboardInterrupt:
        print(f"dyadlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
