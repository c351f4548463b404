"""File ▸ Import ▸ Labels with an ELAN tier that codes laughter, not emotion ("Speaker B laughs"): the mapping
step guesses "new scheme for this tier" (before, the tier sat on *(automatic)*, which put it on the emotion
scheme and offered to add "laugh" there), the import makes a scheme named after the tier with its labels as
classes, the emotion scheme is untouched, and the palette offers the new classes as buttons although they
have no key yet (before, a class without a key had no button)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from dyadlab.app.dialogs import choosers
from dyadlab.app.dialogs.tier_mapping_dialog import NEW_SCHEME_TEXT, TierMappingDialog
from dyadlab.app.docks.palette_dock import PalettePanel

from .modal_driver import answer_next_modal
from .test_tier_mapping_dialog import _run_job, _write_eaf

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton
TIERS = {"Speaker B laughs": [(1000, 1400, "laugh"), (2000, 2600, "giggle"), (4000, 4700, "laugh")],
         "Mood A": [(500, 900, "happy"), (3000, 3500, "sad")]}


def test_a_laughter_tier_gets_its_own_scheme_and_its_classes_show_in_the_palette(drive, qtbot, db, monkeypatch,
                                                                                tmp_path):
    win = drive.window
    source = _write_eaf(tmp_path / "interview.eaf", TIERS)
    monkeypatch.setattr(choosers, "choose_file", lambda *_a, **_k: str(source))
    emotion_before = db("SELECT definition FROM label_schemes WHERE name = 'emotion-4class'")
    seen: dict[str, object] = {}

    def map_tiers(dialog: TierMappingDialog) -> None:
        tiers = dialog.tiers
        rows = {tiers.item(r, 1).text(): r for r in range(tiers.rowCount())}
        laughs, mood = rows["Speaker B laughs"], rows["Mood A"]
        seen["laughs"] = [tiers.cellWidget(laughs, c).currentText() for c in (3, 4, 5, 6)]
        seen["mood"] = tiers.cellWidget(mood, 6).currentText()  # happy, sad: emotions, the automatic scheme
        seen["unknown"] = dialog.labels.rowCount()  # nothing for the emotion scheme to decide about
        seen["grab"] = dialog.grab()
        seen["arguments"] = dialog.arguments()
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), LEFT)

    answer_next_modal(map_tiers, kind=TierMappingDialog)
    workspace = win.ws
    _run_job(qtbot, win, win.file_actions.import_labels)
    seen["grab"].save(str(tmp_path / "mapping.png"))
    assert seen["laughs"] == ["B", "speaker_laughs", "alice", NEW_SCHEME_TEXT]
    assert seen["mood"] == "(automatic)" and seen["unknown"] == 0
    assert "Speaker B laughs=B/speaker_laughs/alice@+new" in seen["arguments"]
    (definition,) = db("SELECT definition FROM label_schemes WHERE name = 'speaker_laughs'")[0]
    assert [c["name"] for c in json.loads(definition)["classes"]] == ["laugh", "giggle"]
    assert db("SELECT definition FROM label_schemes WHERE name = 'emotion-4class'") == emotion_before
    assert db("SELECT count(*) FROM label_schemes WHERE name = 'emotion-4class-project'") == [(0,)]

    def reopened() -> bool:  # the window reopens the project once the import job has ended
        return win.ws is not None and win.ws is not workspace and "speaker_laughs" in [
            t.tier.name for t in drive.timeline.tier_tracks.values()]

    qtbot.waitUntil(reopened, timeout=20_000)
    track = drive.tier_track("B", "speaker_laughs")
    drive.ws.set_active_tier(track.tier.id)
    palette = win.docks["Palette"].widget()
    assert isinstance(palette, PalettePanel) and palette.title.text() == "<b>B · speaker_laughs</b>"
    assert {name: button.text() for name, button in palette.buttons.items()} == {"laugh": "laugh",
                                                                                 "giggle": "giggle"}
    first = drive.ws.segments(track.tier.id)[0]
    drive.ws.select(first)
    qtbot.mouseClick(palette.buttons["giggle"], LEFT)  # a class with no key labels with a click
    assert db("SELECT value FROM segments WHERE id = ?", first.id) == [("giggle",)]
