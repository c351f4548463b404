"""``dyadlab analyze --mesh-every N``: the face param that lets analysis skip face mesh (issue 23).

The option must reach the result key (1, the exact per-frame meshing, is a different cached result from the
default's optical flow between meshes) and a value out of range must be one clear error with nothing run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.cli.main import main


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dyadlab.core.demo import generate_demo

    root = tmp_path_factory.mktemp("mesh_every") / "project"
    with generate_demo(root, sessions=1, seconds=5.0, seed=5):
        pass
    return root


def test_mesh_every_one_is_its_own_cached_result_and_meshes_every_frame(tiny_demo: Path) -> None:
    from dyadlab.core.features import analyze_project
    from dyadlab.core.project import open_project

    assert main(["analyze", str(tiny_demo), "--what", "faces", "--quiet", "--mesh-every", "1"]) == 0
    with open_project(tiny_demo) as project:
        exact = analyze_project(project, what=("faces",), params={"faces": {"mesh_every": 1}})
        assert len(exact.cached) == 2  # what the CLI computed with --mesh-every 1
        flowed = analyze_project(project, what=("faces",))  # the default (4) is another result
    assert len(flowed.computed) == 2
    for r in flowed.computed:
        assert r.stats["carried"] > 0.5 * r.frames and r.valid_frames == r.frames


def test_an_out_of_range_mesh_every_is_a_clear_error(tiny_demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tiny_demo), "--what", "faces", "--quiet", "--mesh-every", "0"]) == 1
    assert "--mesh-every must be between 1 and 25 frames, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("window", ["-3", "100"])
def test_an_audio_window_shorter_than_a_log_mel_frame_is_refused_before_any_work(
        tiny_demo: Path, capsys: pytest.CaptureFixture[str], window: str) -> None:
    """``--window -3`` ran the whole analysis and then failed every audio item (found by the new-user
    walkthrough, U9-5): it is now one error naming the option and its range, and nothing is computed."""
    cache = tiny_demo / "cache"
    before = sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []
    assert main(["analyze", str(tiny_demo), "--what", "audio", "--quiet", "--window", window]) == 1
    assert f"--window must be between 400 and 160000 samples, got {window}" in capsys.readouterr().err
    after = sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []
    assert after == before
