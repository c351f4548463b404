"""Building the ``dyadlab`` parser stays cheap: every call, ``dyadlab gui`` included, builds all of it.

Issue #12: ``dyadlab gui`` took three times as long as ``python -m dyadlab.app`` to show its window because
building the parser imported the project store (SQLAlchemy, NumPy) for two tuples of format names. These
tests check what gets imported, not how long it takes, so they are deterministic on a loaded machine.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from dyadlab.core.cli.main import COMMAND_MODULES, main

HEAVY = ("sqlalchemy", "numpy", "torch", "av", "pandas", "PySide6", "pyqtgraph", "cv2", "mediapipe", "alembic")
# DyadLab modules that pull one of the above (or a whole subsystem) in: never needed to build a parser.
HEAVY_OWN = ("dyadlab.core.project", "dyadlab.core.store", "dyadlab.core.io", "dyadlab.app")


def _imported_by(code: str) -> list[str]:
    """Top-level names of HEAVY packages and HEAVY_OWN modules in sys.modules after ``code`` runs, in a
    fresh interpreter (this test process has long imported them all)."""
    probe = (f"import json, sys\n{code}\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules if m.split('.')[0] in {HEAVY!r}}})"
             f" + sorted(m for m in sys.modules if m.startswith({HEAVY_OWN!r}))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_building_the_parser_imports_no_heavy_package() -> None:
    assert _imported_by("from dyadlab.core.cli.main import build_parser\nbuild_parser()") == []


def test_the_probe_does_see_a_heavy_import() -> None:
    """The check above would pass vacuously if the probe could not see an import; here it must."""
    assert "sqlalchemy" in _imported_by("import dyadlab.core.io.label_files.label_formats")
    assert "dyadlab.core.store" in _imported_by("import dyadlab.core.io.label_files.label_formats")


@pytest.mark.parametrize("module_name", COMMAND_MODULES)
def test_every_command_parses_its_help(module_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module(module_name)
    with pytest.raises(SystemExit) as exit_:
        main([module.NAME, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: dyadlab {module.NAME}") and module.HELP in " ".join(out.split())


def test_label_format_choices_are_the_ones_the_io_layer_knows() -> None:
    """The CLI's ``--format`` choices come from the light registry (``core.formats``); the reader/writer
    module must still expose (and so check against) the very same lists."""
    from dyadlab.core import formats
    from dyadlab.core.io.label_files import label_formats

    assert label_formats.IMPORT_FORMATS is formats.IMPORT_FORMATS
    assert label_formats.EXPORT_FORMATS is formats.EXPORT_FORMATS


def test_usage_error_names_the_bad_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "P", "--format", "docx"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'docx'" in err and "iemocap" in err
