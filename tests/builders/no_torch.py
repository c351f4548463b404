"""Run Python code in a fresh interpreter where ``import torch`` fails, as in the desktop bundle.

Why: the bundle leaves PyTorch out (packaging/README.md), and what must work there — audio analysis, loading
and running registered models — is tested here in seconds instead of in a bundle built for many minutes. A
meta-path finder refuses torch and torchaudio (``importlib.util.find_spec`` then raises, as DyadLab's
``torch_available`` expects). Import relatively (``from ...builders.no_torch import run_without_torch``).
"""

from __future__ import annotations

import subprocess
import sys

BLOCKER = r"""
import importlib.abc, sys

class RefuseTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchaudio"):
            raise ModuleNotFoundError(f"No module named {name!r} (refused: no torch)", name=name)
        return None

sys.meta_path.insert(0, RefuseTorch())
try:
    import torch
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("the blocker let torch through")
"""
CHECK = r"""
assert not [m for m in sys.modules if m.split(".")[0] in ("torch", "torchaudio")], "torch was imported"
"""


def run_without_torch(code: str, *, timeout: float = 180, env: dict[str, str] | None = None
                      ) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (then check torch was never imported); returns the finished process (check returncode)."""
    import os

    return subprocess.run([sys.executable, "-c", BLOCKER + code + CHECK], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
