"""A video cut short (a copy that stopped half way) still declares its full length in its header.

Found on a real IEMOCAP AVI cut to 600 kB: ``dyadlab info`` showed the header's "270 frames" while the file
held 130. What the user sees — the import, ``dyadlab info``, the player — must come from the frame index,
and the disagreement must be a visible warning naming the file. And a folder with several bad files is
reported in one error listing each of them, with nothing imported.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dyadlab.core.errors import ImportFormatError, MediaError
from dyadlab.core.io import run_import
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.media.probe import count_frames, probe

from ..builders.corpora import table_counts
from .damaged_media import encode_avi, truncate


@pytest.fixture(scope="module")
def avi_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("truncated")
    full = encode_avi(folder / "full.avi", 270)
    cut = truncate(full, folder / "cut.avi", full.stat().st_size // 2)
    return {"full": full, "cut": cut, "held": len(FrameIndex.build(cut))}


def test_the_frame_index_counts_what_the_file_holds_and_says_the_header_disagrees(avi_files):
    held = avi_files["held"]
    assert 100 < held < 170
    info = count_frames(probe(avi_files["cut"]))
    assert probe(avi_files["cut"]).video.frame_count == 270  # what the header says
    assert (info.video.frame_count, info.video.header_frame_count) == (held, 270)
    assert info.video.duration_us == held * 40_000
    assert info.video.problem == f"header says 270 frames, the file holds {held}: truncated or damaged?"
    whole = count_frames(probe(avi_files["full"]))
    assert (whole.video.frame_count, whole.video.problem) == (270, None)


def test_import_and_info_show_the_frames_the_file_holds_with_a_warning_naming_it(avi_files, project, tmp_path):
    source = tmp_path / "recordings" / "pair01"
    source.mkdir(parents=True)
    shutil.copy(avi_files["cut"], source / "alice.avi")
    shutil.copy(avi_files["full"], source / "bob.avi")
    report = run_import("folder", project, source.parent)
    held = avi_files["held"]
    message = f"header says 270 frames, the file holds {held}: truncated or damaged?"
    assert [w for w in report.warnings if "header says" in w] == [f"{source / 'alice.avi'}: {message}"]
    with project.store.transaction() as tx:
        views = {v.name: (v.frame_count, v.duration_us) for v in tx.views.list()}
    assert views == {"alice": (held, held * 40_000), "bob": (270, 10_800_000)}
    project.close()
    done = subprocess.run([sys.executable, "-m", "dyadlab.core.cli", "info", str(project.root)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = {line.split(":", 1)[0]: line for line in done.stdout.splitlines() if line.startswith("- view ")}
    assert f", {held} frames, " in lines["- view alice (alice)"] and ", 270 frames, " in lines["- view bob (bob)"]
    warnings = done.stdout.split("## Media warnings", 1)[1].strip().splitlines()
    assert warnings == [f"- ⚠ {source / 'alice.avi'}: {message}"]


def test_a_folder_with_several_bad_files_names_them_all_and_imports_nothing(avi_files, project, tmp_path):
    source = tmp_path / "recordings"
    for session in ("pair01", "pair02"):
        (source / session).mkdir(parents=True)
        shutil.copy(avi_files["full"], source / session / "alice.avi")
    (source / "pair01" / "bob.avi").write_bytes(b"")  # empty
    (source / "pair02" / "carol.wav").write_bytes(b"RIFF not really a wave file")  # not media
    shutil.copy(avi_files["full"], source / "pair02" / "dave.avi")
    shutil.copy(avi_files["full"], source / "pair02" / "dave.mkv")  # two videos for one participant
    before = table_counts(project.db_file)
    with pytest.raises(ImportFormatError) as info:
        run_import("folder", project, source)
    error = info.value
    assert error.path == source
    assert [type(e) for e in error.errors] == [MediaError, MediaError, ImportFormatError]
    text = str(error)
    assert text.startswith(f"{source}: 3 files cannot be imported, so nothing was:")
    for bad in (source / "pair01" / "bob.avi", source / "pair02" / "carol.wav"):
        assert f"\n  - {bad}: " in text
    assert "two video files for 'dave'" in text
    assert table_counts(project.db_file) == before
