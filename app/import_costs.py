"""Three import-time costs of the GUI's libraries that DyadLab does not need, removed before any widget loads.

All three were found profiling ``MainWindow.open_project`` on the 100-session bench project (bench/large_project.py),
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
* pyqtgraph 0.14's ``pyqtgraph.Qt`` fills its ``QtCore``/``QtGui``/``QtWidgets`` shim modules by copying
  every name of PySide6's modules (``_copy_attrs``: ``dir`` then ``getattr`` of each). PySide6 creates its
  ~720 wrapped types lazily, on first access, so that copy built all of them: ~0.2 s, most never used.
  ``LazyPyqtgraphQt`` runs ``pyqtgraph.Qt`` with a ``dir`` that, for those three PySide modules only,
  gives the shim a PEP 562 ``__getattr__`` forwarding (and caching) each name on its first use and lists
  nothing to copy. pyqtgraph sees the same names with the same values; only unused types stay unbuilt.

``install()`` is idempotent and runs when ``dyadlab.app`` is imported. Where a future PySide6 no longer
has the hook's helper, nothing is changed.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

CUDA_MODULE = "cuda.bindings.runtime"
PYQTGRAPH_ASKER = "pyqtgraph.widgets.RawImageWidget"
PYQTGRAPH_QT = "pyqtgraph.Qt"
QT_SHIMS = {f"PySide6.{name}": f"{PYQTGRAPH_QT}.{name}" for name in ("QtCore", "QtGui", "QtWidgets")}
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


def forward_lazily(shim: ModuleType, source: ModuleType) -> None:
    """Give ``shim`` every attribute of ``source`` it lacks, each looked up (and kept) on first use."""

    def __getattr__(name: str) -> Any:  # noqa: N807 (PEP 562 module hook)
        value = getattr(source, name)
        setattr(shim, name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(shim.__dict__) | set(builtins.dir(source)))

    shim.__getattr__ = __getattr__
    shim.__dir__ = __dir__


def _shim_aware_dir(*args: Any) -> list[str]:
    """``dir`` as pyqtgraph.Qt's ``_copy_attrs`` sees it: nothing to copy from a PySide module whose shim
    now forwards lazily; the builtin answer for anything else."""
    if len(args) == 1 and isinstance(args[0], ModuleType):
        shim = sys.modules.get(QT_SHIMS.get(args[0].__name__, ""))
        if shim is not None:
            forward_lazily(shim, args[0])
            return []
    return builtins.dir(*args)


class _LazyShimLoader(importlib.abc.Loader):
    """Runs pyqtgraph.Qt through its own loader, with ``_shim_aware_dir`` in its namespace as ``dir``."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):  # noqa: ANN001, ANN201 (importlib protocol)
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.dir = _shim_aware_dir
        try:
            self.loader.exec_module(module)
        finally:
            module.__dict__.pop("dir", None)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, is_package … for tools asking
        return getattr(self.loader, name)


class LazyPyqtgraphQt(importlib.abc.MetaPathFinder):
    """Finds ``pyqtgraph.Qt`` as the path finder does and wraps its loader in ``_LazyShimLoader``."""

    def find_spec(self, fullname: str, path=None, target=None):  # noqa: ANN001 (importlib protocol)
        if fullname != PYQTGRAPH_QT:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _LazyShimLoader(spec.loader)
        return spec


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    if "pyqtgraph" not in sys.modules:
        sys.meta_path[:0] = [SkipPyqtgraphCuda(), LazyPyqtgraphQt()]
    import PySide6.QtCore  # noqa: F401  (loads shiboken's support package and its import hook)

    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        feature._mod_uses_pyside = quicker_feature_check
