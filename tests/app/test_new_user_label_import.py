"""Labels imported from outside the window (the File ▸ Import ▸ Labels job, or ``dyadlab import-labels`` in a
terminal) while the project is open: an ELAN tier "Speaker B laughs" whose labels the import adds to a project
copy of the scheme reaches the timeline through the window's change poll. Its tier then names a scheme the
window had not loaded: the timeline and the palette raised ``KeyError`` on every rebuild (issue 20, found by a
new user)."""

from __future__ import annotations

import pytest
from pympi.Elan import Eaf, to_string

from dyadlab.app.docks.palette_dock import PalettePanel
from dyadlab.core.cli.main import main as dyadlab

pytestmark = pytest.mark.gui


def test_a_tier_imported_meanwhile_onto_a_new_scheme_shows_without_an_error(drive, qtbot, demo_project_copy, tmp_path):
    eaf = Eaf(author="another lab")
    eaf.remove_tier("default")
    eaf.add_tier("Speaker B laughs")
    for start, end in ((1000, 1400), (4000, 4700)):
        eaf.add_annotation("Speaker B laughs", start, end, "laugh")
    source = tmp_path / "interview.eaf"
    source.write_text(to_string(eaf), encoding="utf-8")
    session = drive.ws.session.name
    assert dyadlab(["import-labels", str(demo_project_copy), str(source), "--session", session,
                    "--map", "Speaker B laughs=B/laughs/alice", "--scheme", "emotion-4class",
                    "--unknown", "laugh=add"]) == 0

    def shown() -> bool:
        return "laughs" in [t.tier.name for t in drive.timeline.tier_tracks.values()]

    qtbot.waitUntil(shown, timeout=6000)  # the change poll picks it up (every 2 s)
    track = drive.tier_track("B", "laughs")
    scheme = drive.ws.scheme(track.tier)
    assert scheme.name == "emotion-4class-project" and "laugh" in scheme.classes
    assert [s.value for s in drive.ws.segments(track.tier.id)] == ["laugh", "laugh"]
    drive.ws.set_active_tier(track.tier.id)  # the palette rebuilds on the new scheme (it raised KeyError too)
    assert drive.window.findChild(PalettePanel).title.text() == "<b>B · laughs</b>"
