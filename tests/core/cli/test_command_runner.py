"""``dyadlab`` and the trainer's ``python -m dyadlab.trainer`` end a command the same way: one runner.

Each case runs in a fresh interpreter because the closed-pipe case closes the process's stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# (CLI module, module whose command function the test replaces, its name, argv reaching it)
CLIS = {
    "dyadlab": ("dyadlab.core.cli.main", "dyadlab.core.cli.info", "run", ["info", "P"]),
    "trainer": ("dyadlab.trainer.cli", "dyadlab.trainer.cli", "run_export", ["export", "best.pt", "--out", "x"]),
}
ENDINGS = {  # what the command raises -> (exit code, what stderr says)
    "DyadLabError('no such model', path='best.pt')": (1, ": error: best.pt: no such model\n"),
    "KeyboardInterrupt()": (130, ": interrupted\n"),
    "BrokenPipeError()": (0, ""),  # e.g. `... | head`: no traceback, no error
}


def _run_failing_command(cli: str, raised: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    main_module, command_module, function, argv = CLIS[cli]
    code = (f"import importlib, sys\nfrom dyadlab.core.errors import DyadLabError\n"
            f"import {main_module} as cli\n"
            f"def command(args):\n    raise {raised}\n"
            f"setattr(importlib.import_module({command_module!r}), {function!r}, command)\n"
            f"sys.exit(cli.main({argv!r}))\n")
    env = {**os.environ, "DYADLAB_LOG_DIR": str(tmp_path / "logs")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("raised", ENDINGS)
@pytest.mark.parametrize("cli", CLIS)
def test_both_command_lines_end_a_failing_command_alike(cli: str, raised: str, tmp_path: Path) -> None:
    done = _run_failing_command(cli, raised, tmp_path)
    code, said = ENDINGS[raised]
    command = CLIS[cli][3][0]
    assert done.returncode == code, done.stderr
    assert done.stderr == (f"dyadlab {command}{said}" if said else "")
