"""Analysis status per session: not analysed → analysed after ``analyze`` → stale once an offset moves."""

from __future__ import annotations

from dyadlab.core.analysis_status import DONE, MISSING, STALE, analysis_status
from dyadlab.core.edits.media_setup import UpdateMediaItem
from dyadlab.core.features.pipeline import analyze_project
from dyadlab.core.project import open_project


def test_missing_then_analysed_then_stale_after_an_offset_change(demo_project_copy):
    with open_project(demo_project_copy) as project:
        before = analysis_status(project, ["audio"])
        assert [s.state for s in before] == [MISSING, MISSING]
        first = before[0]
        analyze_project(project, sessions=[first.name], what=["audio"])
        after = {s.name: s for s in analysis_status(project, ["audio"])}
        assert after[first.name].state == DONE and after[first.name].missing == 0
        assert after[before[1].name].state == MISSING
        with project.store.transaction() as tx:
            track = tx.audio.list(first.session_id)[0]
        UpdateMediaItem("audio", track.id, offset_us=track.offset_us + 40_000).do(project.store)
        moved = analysis_status(project, ["audio"], sessions=[first.name])
        assert [s.state for s in moved] == [STALE]
        assert "stale" in moved[0].describe()
