"""The player on a truncated video: it plays the frames the file holds and its title bar says the file is
shorter than its header declares, naming the file (found on a real AVI cut to 600 kB)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dyadlab.core.io import run_import
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.project import create_project

from ..hardening.damaged_media import encode_avi, truncate

S = 1_000_000


@pytest.fixture
def truncated_project(tmp_path: Path) -> tuple[Path, int]:
    full = encode_avi(tmp_path / "full.avi", 270, audio=False)
    source = tmp_path / "recordings" / "pair01"
    source.mkdir(parents=True)
    truncate(full, source / "alice.avi", full.stat().st_size // 2)
    shutil.copy(full, source / "bob.avi")
    with create_project(tmp_path / "project") as project:
        run_import("folder", project, source.parent)
    return tmp_path / "project", len(FrameIndex.build(source / "alice.avi"))


def test_the_view_title_warns_of_a_truncated_file_and_plays_what_it_holds(open_window, driver_for, qtbot,
                                                                          truncated_project):
    root, held = truncated_project
    drive = driver_for(open_window(root))
    views = {v.view.name: v for v in drive.bench.grid.views}
    alice, bob = views["alice"], views["bob"]
    message = f"alice.avi: header says 270 frames, the file holds {held}: truncated or damaged?"
    assert alice.media_problem == message and bob.media_problem is None
    assert alice.status_text().startswith(f"⚠ {message}")
    assert alice.toolTip().endswith(f"alice.avi: header says 270 frames, the file holds {held}: truncated or "
                                    "damaged?") and alice.toolTip() != message  # the file's path, not only its name
    drive.bench.playback.seek((held - 1) * 40_000 + 1)  # the last frame the file holds
    drive.wait_frames()
    assert alice.shown_frame == held - 1 and alice.status_text().endswith(f"frame {held - 1}")
    drive.bench.playback.seek(8 * S)  # past the end of what alice's file holds, inside bob's
    drive.wait_frames()
    assert alice.image is None and alice.blank == "outside this view's recording"
    assert bob.shown_frame == 200
