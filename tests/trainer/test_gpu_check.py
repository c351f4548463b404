"""``make gpu-check`` (bench/gpu_check.py) on a machine without CUDA: it must run to completion in its dry mode.

The script is meant for a lent GPU machine that has Python and torch but not this project installed, so the
test runs it the same way: ``python -S`` (site-packages on the path, but not the editable install's hook, so
``dyadlab`` is importable only through the script's own mapping of the repository) with CUDA hidden.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]


def test_gpu_check_dry_mode_runs_to_completion_without_cuda(tmp_path):
    site = str(Path(torch.__file__).resolve().parent.parent)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": site}
    out = tmp_path / "gpu-check"
    result = subprocess.run([sys.executable, "-S", str(REPO / "bench" / "gpu_check.py"), "--out", str(out),
                             "--live-seconds", "0.05", "--wheels", str(tmp_path / "none")],
                            env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "no CUDA device: dry mode" in result.stdout
    assert (out / "pkg" / "dyadlab" / "trainer").is_dir()  # imported through the script's own mapping
    report = json.loads((out / "gpu_check.json").read_text())
    status = {r["step"]: r["status"] for r in report["rows"]}
    assert report["mode"] == "dry (no CUDA device)"
    assert [s for s, v in status.items() if v == "skipped"] == [
        "train tiny (cuda, bf16)", "train face-cnn (cuda, bf16)", "torchrun nccl (1 GPU, tiny)"]
    live = [s for s in status if s.startswith("live ")]
    assert len(live) == 5 and all(status[s] == "dry" for s in live)
    assert status["onnx export + onnxruntime (toy, cpu)"] == "dry"
    assert "FAILED" not in status.values()


def test_carried_pure_wheels_are_imported_from_the_folder_and_installed_ones_left_alone(tmp_path, monkeypatch):
    import importlib.util
    import zipfile

    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "bench" / "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gpu_check", gpu_check)
    spec.loader.exec_module(gpu_check)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "carried_probe-1.0-py3-none-any.whl", "w") as z:
        z.writestr("carried_probe/__init__.py", "ANSWER = 42\n")
    (wheels / "numpy-2.4.0-cp312-cp312-manylinux_2_28_x86_64.whl").write_bytes(b"installed here: never opened")
    monkeypatch.setattr(sys, "path", list(sys.path))
    env: dict[str, str] = {}
    done = gpu_check.carried_wheels(wheels, tmp_path / "out", env)
    assert done == ["carried_probe from carried_probe-1.0-py3-none-any.whl"]
    assert env["PYTHONPATH"].startswith(str(wheels / "carried_probe-1.0-py3-none-any.whl"))
    assert importlib.import_module("carried_probe").ANSWER == 42
    del sys.modules["carried_probe"]
