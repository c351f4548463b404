"""The session media dialog flags a truncated video in its row (its header promises frames it lacks)."""

from __future__ import annotations

import pytest

from dyadlab.core.media.synthetic_scene import Recorder, write_scene
from dyadlab.core.project_setup import import_creating_project
from tests.hardening.damaged_media import encode_avi, truncate

pytestmark = pytest.mark.gui


def test_a_truncated_video_is_flagged_in_its_row(tmp_path, open_window):
    media = tmp_path / "media" / "pair01"
    write_scene(media, [Recorder("mix", 0.0, 12.0)], seed=4)
    full = encode_avi(tmp_path / "full.avi")
    truncate(full, media / "A.avi", full.stat().st_size // 2)
    import_creating_project("folder", tmp_path / "p", media)
    win = open_window(tmp_path / "p")
    dialog = win.file_actions.open_session_media()
    row = next(i for i, (k, item) in enumerate(dialog.rows()) if (k, item.name) == ("view", "A"))
    note = dialog.table.cellWidget(row, 5).text()
    assert note.startswith("⚠") and "frames" in note
    mix = next(i for i, (k, item) in enumerate(dialog.rows()) if (k, item.name) == ("audio", "mix"))
    assert dialog.table.cellWidget(mix, 5).text() == ""
    dialog.close()
