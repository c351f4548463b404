"""``import mediapipe`` without matplotlib, for every process that finds faces or poses.

MediaPipe 0.10.14's ``mediapipe/__init__`` imports all of ``mediapipe.python.solutions``, whose drawing helpers
(``drawing_utils``) import ``matplotlib.pyplot`` for one plotting function DyadLab never calls: about half of
the 1.1 s of CPU the import costs here. Each analysis worker pays the import (bench/analyze.py: both workers
find faces), and so does the live inference worker. While mediapipe is imported, placeholder ``matplotlib``
modules stand in; they are removed right after, so a later ``import matplotlib.pyplot`` gets the real one.
When matplotlib is already imported, nothing is stubbed.
"""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

_LOCK = threading.Lock()
_imported: Any = None  # the module once an import has completed (``sys.modules`` holds it half-done before)


def _placeholder(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = []  # type: ignore[attr-defined]  # a package, so "import matplotlib.pyplot" resolves

    def missing(attribute: str) -> Any:
        raise AttributeError(f"{name}.{attribute}: matplotlib was not loaded with mediapipe "
                             "(import matplotlib.pyplot before mediapipe to plot with mediapipe's drawing_utils)")

    module.__getattr__ = missing  # type: ignore[method-assign]
    return module


def import_mediapipe() -> Any:
    """The ``mediapipe`` module, imported without loading matplotlib.

    Thread-safe: a thread that asks while another imports waits for the whole import (``sys.modules`` has the
    module from the import's first line, so checking it would hand out a half-initialised mediapipe)."""
    global _imported
    if _imported is not None:
        return _imported
    with _LOCK:
        if _imported is not None:
            return _imported
        if "matplotlib" in sys.modules or "mediapipe" in sys.modules:
            import mediapipe
        else:
            stubs = {"matplotlib": _placeholder("matplotlib"),
                     "matplotlib.pyplot": _placeholder("matplotlib.pyplot")}
            sys.modules.update(stubs)
            try:
                import mediapipe
            finally:
                for name, stub in stubs.items():
                    if sys.modules.get(name) is stub:
                        del sys.modules[name]
        _imported = mediapipe
        return mediapipe
