"""DyadLab as users install it: ``pip install .`` (not editable) and the PyInstaller bundle.

Why: the editable install every test runs under hides packaging mistakes — a label scheme or migration
script missing from the wheel, a subcommand PyInstaller cannot see, a CUDA library dragged into the CPU
bundle. These tests install or build the app the way a user gets it and run it as a user would.

* default suite: the source tree is installed non-editable into a fresh virtual environment that reuses
  this one's third-party packages (no download), and the ``dyadlab`` entry point creates and describes a
  project from the installed copy alone;
* slow (``make package-test``): the PyInstaller one-folder bundle runs offscreen — ``--version``, a tiny
  ``demo``, ``info``, ``gui --headless``, ``backup`` and ``report`` — and holds no CUDA library in the CPU
  variant; and it analyses a demo (faces and audio) and predicts with the shipped model and with a model
  trained and registered here, batch (``infer``) and live (``core.inference.live_check``), giving torch's
  probabilities within 1e-4 — without torch when the bundle has none (the CPU build from a CUDA torch). ``DYADLAB_PACKAGE_DIR`` names an existing build (``make package-test`` passes ``dist/dyadlab``);
  otherwise the test builds one (many minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
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


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle under test: ``DYADLAB_PACKAGE_DIR`` (``make package-test``), else one built here, once."""
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


def _bundle_command(exe: Path, home: Path) -> Callable[..., str]:
    """``dyadlab(*args, timeout=900) -> stdout``: the bundle run in a clean environment (no virtual environment,
    no PYTHONPATH, only the bundle), from ``home``; a non-zero exit fails the test with its output."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "DYADLAB_LOG_DIR": str(home / "logs"),
           "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}

    def dyadlab(*args: str | Path, timeout: float = 900) -> str:
        done = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=home)
        assert done.returncode == 0, f"dyadlab {args}: {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    return dyadlab


@pytest.mark.slow
@pytest.mark.timeout(4000)
def test_bundle_runs_offscreen_without_a_python_environment(tmp_path: Path, bundle: Path) -> None:
    exe = bundle / "dyadlab"
    assert exe.is_file(), f"no built binary at {exe}"
    size = sum(f.lstat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"bundle: {bundle} ({size / 1e9:.2f} GB)")
    if os.environ.get("DYADLAB_VARIANT", "cpu") == "cpu":
        cuda = [f.name for f in bundle.rglob("*") if f.name.startswith(("libcudart", "libcublas", "libcudnn", "libnccl"))
                or "nvidia" in f.relative_to(bundle).parts]
        assert not cuda, f"CUDA libraries in the CPU bundle: {cuda[:10]}"
    dyadlab = _bundle_command(exe, tmp_path)
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


# A model trained here (torch) on the bundle's demo; registering it exports it to ONNX (the bundle runs that).
TRAIN = ["--config", "tiny", "--threads", "1", "--quiet", "--set", 'split.train_groups=["Session1"]',
         "--set", 'split.test_groups=["Session2"]', "--set", "train.epochs=2", "--set", 'split.validation="none"',
         "--name", "bundle-audio", "--audio-frames", "all"]


def _torch_probabilities(root: Path, model_id: int, session: str, participant: str, frames) -> tuple:
    """(probabilities, valid) of ``frames`` computed here with torch (the reference)."""
    from dyadlab.core.inference.loader import load_model
    from dyadlab.core.inference.runner import predict_frames
    from dyadlab.core.project import open_project

    with open_project(root) as project:
        with project.store.transaction() as tx:
            s = next(x for x in tx.sessions.list() if x.name == session)
            p = next(x for x in tx.participants.list(s.id) if x.code == participant)
        loaded = load_model(project, model_id, runtime="torch", device="cpu")
        got = predict_frames(loaded, s.id, p.id, frames)
    return got.probs, got.valid


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_bundle_analyses_audio_and_predicts_live_and_batch_as_torch_does(tmp_path: Path, bundle: Path) -> None:
    import numpy as np
    import pandas as pd
    import torch
    import torchaudio

    from dyadlab.core.features import FeatureStore
    from dyadlab.core.project import open_project

    without_torch = not any((bundle / "_internal").glob("torch/lib/libtorch*.so*"))
    dyadlab = _bundle_command(bundle / "dyadlab", tmp_path)
    demo = tmp_path / "demo"
    dyadlab("demo", demo, "--sessions", "2", "--seconds", "6", "--quiet")
    started = time.perf_counter()
    dyadlab("analyze", demo, "--what", "faces,audio", "--quiet")  # audio: numpy log-mel/MFCC, no torchaudio
    print(f"bundle analyze faces+audio: {time.perf_counter() - started:.0f} s (torch in bundle: {not without_torch})")

    # The bundle's audio features are torchaudio's (within the cache's storage precision).
    with open_project(demo) as project, project.store.transaction() as tx:
        streams = [(s.id, s.name, p.id, p.code) for s in tx.sessions.list() for p in tx.participants.list(s.id)]
        models = {m.name: m.id for m in tx.models.list()}
    store = FeatureStore(demo)
    sid, _, pid, _ = streams[0]
    windows = np.asarray(store.load(sid, pid, "audio_windows").data, np.float32)
    logmel = np.asarray(store.load(sid, pid, "logmel").data, np.float32)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=512, win_length=400, hop_length=160,
                                               n_mels=64, power=2.0)
    with torch.inference_mode():
        want = torch.log(mel(torch.from_numpy(windows)).clamp_min(1e-10)).numpy()
    loud = want > want.max(axis=(1, 2), keepdims=True) - np.log(1e6)  # within 60 dB of the window's peak
    assert np.abs(logmel - want)[loud].max() < 1e-2 * max(1.0, float(np.abs(want).max()))

    # A model trained and registered with torch (here): registration exports it to ONNX beside the checkpoint.
    train = subprocess.run([sys.executable, "-m", "dyadlab.core.cli", "train", str(demo), *TRAIN], capture_output=True,
                           text=True, timeout=900, env={**os.environ, "DYADLAB_EXPORT_ON_REGISTER": "1"})
    assert train.returncode == 0, train.stderr[-3000:]
    with open_project(demo) as project, project.store.transaction() as tx:
        models = {m.name: m.id for m in tx.models.list()}
    shipped, trained = models["face-expression-fer2013"], models["bundle-audio"]

    for model_id in (shipped, trained):
        out = tmp_path / f"batch{model_id}.csv"
        said = dyadlab("infer", demo, "--model", model_id, "--export", out, "--quiet")
        assert "on cpu" in said, said
        table = pd.read_csv(out)
        for (_, session, _, code) in streams:
            rows = table[(table["session"] == session) & (table["participant"] == code)]
            frames = np.sort(rows["frame"].unique())
            probs, valid = _torch_probabilities(demo, model_id, session, code, frames)
            predicted = rows[rows["status"] == "predicted"]
            got = predicted.pivot(index="frame", columns="class", values="probability")
            assert valid.sum() == len(got) > len(frames) // 2, (model_id, session, code)
            classes = list(dict.fromkeys(rows["class"]))
            want = pd.DataFrame(probs[valid], index=frames[valid], columns=classes)
            assert np.abs(got[classes].to_numpy() - want.loc[got.index].to_numpy()).max() <= 1e-4

    # Live, as playback asks: every 3rd frame of the first session, both models, both participants.
    live = tmp_path / "live.npz"
    said = dyadlab("-m", "dyadlab.core.inference.live_check", demo, "--model", shipped, "--model", trained,
                   "--session", streams[0][1], "--step", "3", "--out", live)
    print(said)
    if without_torch:
        assert said.count("onnxruntime") == 2, said
    got = np.load(live)
    for (_, session, pid, code) in streams:
        if session != streams[0][1]:
            continue
        for model_id in (shipped, trained):
            frames = got[f"m{model_id}_p{pid}_frames"]
            probs, valid = _torch_probabilities(demo, model_id, session, code, frames)
            np.testing.assert_array_equal(got[f"m{model_id}_p{pid}_valid"], valid)
            assert valid.sum() > len(frames) // 2
            assert np.abs(got[f"m{model_id}_p{pid}_probs"][valid] - probs[valid]).max() <= 1e-4
