"""The two import-time shortcuts of ``dyadlab.app.import_costs`` answer what the originals answered."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from dyadlab.app import import_costs, main_window


@pytest.mark.parametrize("module", [main_window, json, inspect, pytest])
def test_the_feature_check_gives_pysides_answer_without_inspect(module) -> None:
    try:
        expected = "PySide6" in inspect.getsource(module)
    except (OSError, TypeError):
        expected = False
    assert import_costs.quicker_feature_check(module) is expected


def test_the_feature_check_is_installed_in_pysides_hook() -> None:
    feature = sys.modules["shibokensupport.feature"]
    assert feature._mod_uses_pyside is import_costs.quicker_feature_check


def _ask_for_cuda_as(module_name: str):
    namespace = {"__name__": module_name, "finder": import_costs.SkipPyqtgraphCuda()}
    exec("def ask():\n    return finder.find_spec('cuda.bindings.runtime')", namespace)  # noqa: S102
    return namespace["ask"]


def test_cuda_is_refused_to_pyqtgraphs_widget_module_only() -> None:
    with pytest.raises(ModuleNotFoundError, match="cuda.bindings.runtime"):
        _ask_for_cuda_as(import_costs.PYQTGRAPH_ASKER)()
    assert _ask_for_cuda_as("torch.cuda._utils")() is None  # left to the normal finders
    assert import_costs.SkipPyqtgraphCuda().find_spec("json") is None


def test_pyqtgraph_loads_without_cuda_and_cuda_still_loads_for_others() -> None:
    script = (
        "import sys, importlib.util\n"
        "import dyadlab.app, pyqtgraph\n"
        "from pyqtgraph.widgets import RawImageWidget\n"
        "assert RawImageWidget.cudart is None\n"
        "assert 'cuda.bindings.runtime' not in sys.modules\n"
        "available = importlib.util.find_spec('cuda') is not None\n"
        "if available:\n"
        "    import cuda.bindings.runtime\n"
        "print('ok', available)\n"
    )
    assert _fresh_python(script).startswith("ok")


def _fresh_python(script: str) -> str:
    """Standard output of ``script`` run by a new interpreter (nothing imported yet), which must succeed."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def _types_built_after_pyqtgraph(with_dyadlab: bool) -> dict:
    script = (
        "import json, sys\n"
        + ("import dyadlab.app\n" if with_dyadlab else "")
        + "import pyqtgraph\n"
        "import PySide6.QtCore as C, PySide6.QtWidgets as W\n"
        "from pyqtgraph.Qt import QtCore, QtGui, QtWidgets\n"
        "built = len(W.__dict__)\n"
        "same = (QtWidgets.QGraphicsView is W.QGraphicsView and QtCore.Signal is C.Signal\n"
        "        and QtGui.QFileSystemModel is W.QFileSystemModel and 'QCalendarWidget' in dir(QtWidgets))\n"
        "print(json.dumps({'built': built, 'same': same, 'version': pyqtgraph.Qt.VERSION_INFO,\n"
        "                  'missing': hasattr(QtCore, 'NoSuchQtName')}))\n"
    )
    return json.loads(_fresh_python(script).strip().splitlines()[-1])


def test_pyqtgraphs_qt_shims_forward_lazily_and_answer_as_before() -> None:
    lazy, eager = _types_built_after_pyqtgraph(True), _types_built_after_pyqtgraph(False)
    assert lazy["same"] and eager["same"]  # the names pyqtgraph reads are PySide's own objects, either way
    assert lazy["version"] == eager["version"] and not lazy["missing"] and not eager["missing"]
    # pyqtgraph's own import built every QtWidgets type (~200); forwarded on first use, only a few are
    assert eager["built"] > 150 and lazy["built"] < eager["built"] / 2, (lazy, eager)
