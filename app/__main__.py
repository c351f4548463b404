"""``python -m dyadlab.app PROJECT``: the workstation without the rest of the CLI.

Same arguments and behaviour as ``dyadlab gui`` (it reuses that command), but skips building the
parsers of every other subcommand; the start-up benchmark measures both routes (building them
imports nothing heavy, tests/core/cli/test_cli_imports.py keeps it so).
"""

from __future__ import annotations

import argparse
import sys

from dyadlab.core.cli import gui


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m dyadlab.app", description=gui.HELP)
    gui.add_arguments(parser)
    return gui.run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
