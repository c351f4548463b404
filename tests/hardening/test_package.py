"""DyadLab as users install it: ``pip install .`` (not editable) and the PyInstaller bundle.

Why: the editable install every test runs under hides packaging mistakes — a label scheme or migration
script missing from the wheel, a subcommand PyInstaller cannot see, a CUDA library dragged into the CPU
bundle. These tests install or build the app the way a user gets it and run it as a user would.

* default suite: the source tree is installed non-editable into a fresh virtual environment that reuses
  this one's third-party packages (no download), and the ``dyadlab`` entry point creates and describes a
  project from the installed copy alone;
* slow (``make package-test``): the PyInstaller one-folder bundle runs offscreen — ``--version``, a tiny
  ``demo``, ``info``, ``gui --headless``, ``backup`` and ``report`` — and holds no CUDA library in the CPU
  variant. ``DYADLAB_PACKAGE_DIR`` names an existing build (``make package-test`` passes ``dist/dyadlab``);
  otherwise the test builds one (many minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from dyadlab.core import __version__

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "app", "core", "trainer", "resources")


def _run(argv: list[str | Path], *, timeout: float = 300, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})})
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.timeout(300)
def test_pip_install_of_the_source_tree_gives_a_working_dyadlab_command(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:  # a copy, so the build leaves no build/ or egg-info in the shared tree
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(item, source / name)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # This environment's packages (torch, PySide6, ... and pip/setuptools) serve the new one, read-only:
    # a plain path in a .pth does not run this environment's editable-install hook, so dyadlab is not seen.
    (site / "reuse_dyadlab_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    started = time.perf_counter()
    _run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "--quiet", source], cwd=tmp_path)
    installed_in = time.perf_counter() - started

    where = _run([python, "-c", "import dyadlab.core; print(dyadlab.core.__file__)"], cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(site), f"dyadlab imported from {where}, not from the installed copy"
    dyadlab = venv / "bin" / "dyadlab"
    assert _run([dyadlab, "--version"], cwd=tmp_path).stdout.strip() == f"dyadlab {__version__}"
    project = tmp_path / "project"
    created = _run([python, "-c", f"from dyadlab.core import create_project\n"
                    f"p = create_project({str(project)!r}); print(p.store.revision); p.close()"], cwd=tmp_path)
    assert created.stdout.strip(), "no schema revision: the Alembic migrations were not installed"
    info = _run([dyadlab, "info", project], cwd=tmp_path, env={"DYADLAB_LOG_DIR": str(tmp_path / "logs")}).stdout
    assert "0 session" in info or "sessions" in info.lower(), info
    schemes = _run([python, "-c", "from dyadlab.core.labels import shipped_scheme_files as f; "
                    "print(len(f()))"], cwd=tmp_path).stdout.strip()
    assert int(schemes) >= 5, "the shipped label schemes are missing from the wheel"
    print(f"pip install . took {installed_in:.1f} s")


# -- the PyInstaller bundle -------------------------------------------------------------------------------


def _bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("DYADLAB_PACKAGE_DIR")
    if given:
        return Path(given).resolve()
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed: run `make package-test`")
    out = tmp_path_factory.mktemp("bundle")
    started = time.perf_counter()
    _run(["nice", "-n", "10", sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
          "--distpath", out / "dist", "--workpath", out / "build", ROOT / "packaging" / "dyadlab.spec"], timeout=3600)
    print(f"PyInstaller build took {time.perf_counter() - started:.0f} s")
    return out / "dist" / "dyadlab"


@pytest.mark.slow
@pytest.mark.timeout(4000)
def test_bundle_runs_offscreen_without_a_python_environment(tmp_path: Path,
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    bundle = _bundle(tmp_path_factory)
    exe = bundle / "dyadlab"
    assert exe.is_file(), f"no built binary at {exe}"
    size = sum(f.lstat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"bundle: {bundle} ({size / 1e9:.2f} GB)")
    if os.environ.get("DYADLAB_VARIANT", "cpu") == "cpu":
        cuda = [f.name for f in bundle.rglob("*") if f.name.startswith(("libcudart", "libcublas", "libcudnn", "libnccl"))
                or "nvidia" in f.relative_to(bundle).parts]
        assert not cuda, f"CUDA libraries in the CPU bundle: {cuda[:10]}"
    # A clean environment: no virtual environment, no PYTHONPATH, only the bundle.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DYADLAB_LOG_DIR": str(tmp_path / "logs"),
           "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}

    def dyadlab(*args: str | Path, timeout: float = 600) -> str:
        done = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=tmp_path)
        assert done.returncode == 0, f"dyadlab {args}: {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    assert dyadlab("--version").strip() == f"dyadlab {__version__}"
    demo = tmp_path / "demo"
    dyadlab("demo", demo, "--sessions", "1", "--seconds", "5", "--quiet")
    assert "fps" in dyadlab("info", demo)
    dyadlab("analyze", demo, "--what", "faces,pose", "--quiet")  # mediapipe's bundled models load
    dyadlab("gui", demo, "--headless")
    assert (demo / "report.md").is_file()
    assert "backed up" in dyadlab("backup", demo)
    report = dyadlab("report")
    assert "PyInstaller bundle" in report, report
    versions = {line.split()[0]: line.split(None, 1)[1] for line in report.split("\nLog")[0].splitlines()[3:] if line}
    for name in ("PySide6", "av", "numpy", "sqlalchemy", "mediapipe"):
        assert versions.get(name, "not installed") != "not installed", f"{name} version missing from the report"
