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
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
