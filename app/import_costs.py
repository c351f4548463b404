"""Two import-time costs of the GUI's libraries that DyadLab does not need, removed before any widget loads.

Both were found profiling ``MainWindow.open_project`` on the 100-session bench project (bench/large_project.py),
where first-use imports were over half of the 2 s budget:

* PySide6 6.12 wraps ``__import__`` to learn, for every module imported after it, whether that module
  may use ``from __feature__ import ...``; it asks ``inspect.getsource(module)`` (linecache, encoding
  detection, splitting into lines) just to search the text for "PySide6". Over the ~600 modules the
  window imports that was ~0.2 s. ``quicker_feature_check`` keeps the question and its answer but reads
  the file's bytes directly.
* pyqtgraph 0.14 imports ``cuda.bindings.runtime`` at import time (for CUDA interop in
  ``RawImageGLWidget``, which DyadLab never uses); with the CUDA build of torch installed that package
  is present and its import took ~0.15 s. ``SkipPyqtgraphCuda`` refuses that one import when, and only
  when, pyqtgraph's widget module asks (pyqtgraph then falls back as on a machine without it); torch
  and anything else still import it normally.

``install()`` is idempotent and runs when ``dyadlab.app`` is imported. Where a future PySide6 no longer
has the hook's helper, nothing is changed.
"""

from __future__ import annotations

import importlib.abc
import sys
from pathlib import Path
from types import ModuleType

CUDA_MODULE = "cuda.bindings.runtime"
PYQTGRAPH_ASKER = "pyqtgraph.widgets.RawImageWidget"
_installed = False


def quicker_feature_check(module: ModuleType) -> bool:
    """What PySide's ``_mod_uses_pyside`` answers (does the module's source mention PySide6?), by reading
    its file instead of going through ``inspect.getsource``; False where there is no readable source."""
    path = getattr(module, "__file__", None)
    if not path or not str(path).endswith(".py"):
        return False
    try:
        return b"PySide6" in Path(path).read_bytes()
    except OSError:
        return False


class SkipPyqtgraphCuda(importlib.abc.MetaPathFinder):
    """Makes ``from cuda.bindings import runtime`` fail inside pyqtgraph's RawImageWidget only."""

    def find_spec(self, fullname: str, path=None, target=None):  # noqa: ANN001 (importlib protocol)
        if fullname != CUDA_MODULE:
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__") == PYQTGRAPH_ASKER:
                raise ModuleNotFoundError(f"{CUDA_MODULE} is not loaded for pyqtgraph (DyadLab uses no CUDA "
                                          "interop in its plots)", name=fullname)
            frame = frame.f_back
        return None


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    if "pyqtgraph" not in sys.modules:
        sys.meta_path.insert(0, SkipPyqtgraphCuda())
    import PySide6.QtCore  # noqa: F401  (loads shiboken's support package and its import hook)

    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        feature._mod_uses_pyside = quicker_feature_check
