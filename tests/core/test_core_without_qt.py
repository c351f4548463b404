"""``core`` imports no Qt at all: every core module imports in a fresh interpreter where PySide6 is refused.

Why: ``core`` is what a notebook, the CLI, a training node or a server uses; those may have no Qt (or no
QtMultimedia libraries). Qt lives in ``app``, which hands core what it needs (e.g. the audio sink).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import dyadlab.core

# Run in a fresh interpreter (this one has long imported Qt). Modules run as scripts are not imported:
# ``__main__`` modules exit, and Alembic's ``migrations.env`` needs Alembic's running context.
PROBE = r"""
import importlib, importlib.abc, json, pkgutil, sys

REFUSED = ("PySide6", "shiboken6", "pyqtgraph")

class RefuseQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in REFUSED:
            raise ImportError(f"{name} is refused: core must import no Qt")
        return None

sys.meta_path.insert(0, RefuseQt())
import dyadlab.core

failed = {}
names = [m.name for m in pkgutil.walk_packages(dyadlab.core.__path__, "dyadlab.core.",
                                                onerror=lambda name: failed.setdefault(name, "walk"))]
for name in names:
    if name.endswith(".__main__") or name == "dyadlab.core.store.migrations.env":
        continue
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"imported": len(names), "failed": failed,
                  "qt": sorted(m for m in sys.modules if m.split(".")[0] in REFUSED)}))
"""


def _probe(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_core_module_imports_with_pyside6_refused() -> None:
    result = _probe(PROBE)
    assert result["imported"] > 100  # the walk did find the package's modules
    assert result["failed"] == {}
    assert result["qt"] == []


def test_the_refusing_finder_does_refuse_pyside6() -> None:
    """The check above would pass vacuously if the finder let PySide6 through; here it must stop it."""
    probe = PROBE.replace("import dyadlab.core\n", "import dyadlab.core\nimport dyadlab.app.playback\n", 1)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "PySide6 is refused: core must import no Qt" in done.stderr


def test_no_core_function_imports_qt_when_called() -> None:
    """Imports inside functions run only when called, so the walk above cannot see them; the source can."""
    found = []
    for root in dyadlab.core.__path__:
        for path in sorted(Path(root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                found += [f"{path.name}:{node.lineno} {n}" for n in names
                          if n.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph")]
    assert found == []
