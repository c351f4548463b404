"""Start-up time of the workstation: time until the main window is first painted.

Reported as a ratio to a bare ``python -c "import PySide6.QtWidgets"`` measured in the same run, on
the same machine, so the number means something on a slow CI box as on a laptop. The window is
opened on a demo project (built once in a temporary folder, or ``--project``); the probe
(``DYADLAB_STARTUP_PROBE=1``) makes the app print when its window is first painted and exit. Also
reported: the time until the project's first session is loaded (``--full``), which happens after the
window is shown. Budget: window shown in under 2 s.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 2.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def time_bare(env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], env=env, check=True)
    return time.perf_counter() - t0


ROUTES = {"python -m dyadlab.app": ["-m", "dyadlab.app"], "dyadlab gui": ["-m", "dyadlab.core.cli.main", "gui"]}


def time_window(project: Path, env: dict[str, str], route: list[str]) -> float:
    """Seconds from process start to the window's first paint (printed by the app as a wall time)."""
    env = {**env, "DYADLAB_STARTUP_PROBE": "1"}
    start = time.time()
    out = subprocess.run([sys.executable, *route, str(project), "--annotator", "bench"],
                         env=env, capture_output=True, text=True, timeout=120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("window-shown")), None)
    if line is None:
        raise RuntimeError(f"the app did not report its window:\n{out.stdout}\n{out.stderr}")
    return float(line.split()[1]) - start


def time_session_loaded(project: Path, env: dict[str, str]) -> float:
    """Seconds until the window is built *and* the first session is loaded (offscreen, no paint)."""
    code = ("import time,sys; t=time.perf_counter();"
            "from PySide6.QtWidgets import QApplication; app=QApplication([]);"
            "from dyadlab.app.main_window import MainWindow; w=MainWindow(); w.show();"
            f"w.open_project(__import__('pathlib').Path({str(project)!r}), annotator='bench', read_only=True);"
            "app.processEvents(); print(time.perf_counter()-t); w.close()")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env={**env, "QT_QPA_PLATFORM": "offscreen"}, check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="project to open (default: a small generated demo)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also time until the first session is loaded")
    args = parser.parse_args()
    # DyadLab's own bytecode, as an installed copy has it (pip and PyInstaller compile; an editable checkout
    # under PYTHONDONTWRITEBYTECODE=1 would recompile ~100 modules in every timed process instead)
    for package in ("app", "core", "trainer"):
        compileall.compile_dir(Path(__file__).resolve().parents[1] / package, quiet=1, workers=0)
    env = _env()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project
        if project is None:
            from dyadlab.core.demo import generate_demo

            project = Path(tmp) / "demo"
            generate_demo(project, sessions=1, seconds=6.0, seed=1).close()
        for route in ROUTES.values():  # warm the OS file cache for every measurement
            time_window(project, env, route)
        time_bare(env)
        bare = statistics.median(time_bare(env) for _ in range(args.runs))
        print(f"bare 'import PySide6.QtWidgets':        {bare:.3f} s")
        for name, route in ROUTES.items():
            t = statistics.median(time_window(project, env, route) for _ in range(args.runs))
            print(f"{name + ', window shown:':39s} {t:.3f} s   ratio {t / bare:.2f}x   "
                  f"({'within' if t < BUDGET_S else 'OVER'} the {BUDGET_S:.0f} s budget)")
        if args.full:
            loaded = statistics.median(time_session_loaded(project, env) for _ in range(max(1, args.runs // 2)))
            print(f"{'window + first session loaded:':39s} {loaded:.3f} s   ratio {loaded / bare:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
