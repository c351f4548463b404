"""Project browser: per-tier progress of the open and the expanded sessions, from one grouped query."""

from __future__ import annotations

import pytest

from dyadlab.app.docks.project_dock import ANALYSIS_ROLE, FRACTION_ROLE, SESSION_ROLE, ProjectBrowser
from dyadlab.core.edits import CreateSegment, tier_progress

pytestmark = pytest.mark.gui
S = 1_000_000


def _rows(browser: ProjectBrowser, session_id: int) -> dict[tuple[str, str], tuple[str, float]]:
    item = next(browser.topLevelItem(i) for i in range(browser.topLevelItemCount())
                if browser.topLevelItem(i).data(0, SESSION_ROLE) == session_id)
    return {(item.child(j).text(0), item.child(j).text(1)): (item.child(j).text(2), item.child(j).data(2, FRACTION_ROLE))
            for j in range(item.childCount()) if item.child(j).data(0, ANALYSIS_ROLE) is None}  # tiers only


def _expected(window, session_id: int) -> dict[tuple[str, str], tuple[str, float]]:
    with window.project.store.transaction() as tx:
        progress = tier_progress(tx, tx.sessions.get(session_id))
    return {(f"{p.participant} · {p.tier.name}" if p.participant else p.tier.name, p.annotator):
            (f"{p.segments} seg · {p.fraction * 100:.0f} %", p.fraction) for p in progress}


def test_browser_shows_progress_of_open_and_expanded_sessions_and_follows_edits(window, qtbot) -> None:
    browser = window.findChild(ProjectBrowser)
    ws = window.ws
    current = ws.session.id
    assert browser.topLevelItemCount() >= 2
    shown = _rows(browser, current)
    assert shown == _expected(window, current)
    assert any(fraction > 0 for _, fraction in shown.values()), "the demo session should have labels"

    other = next(browser.topLevelItem(i) for i in range(browser.topLevelItemCount())
                 if browser.topLevelItem(i).data(0, SESSION_ROLE) != current)
    assert other.childCount() == 0  # not read until expanded
    other.setExpanded(True)
    other_id = other.data(0, SESSION_ROLE)
    assert _rows(browser, other_id) == _expected(window, other_id)

    tier = next(t for t in ws.data.tiers if t.annotator_id == ws.annotator.id and t.kind == "categorical")
    before = _expected(window, current)
    ws.push(CreateSegment(tier.id, 0, 3 * S, "happy", annotator_id=ws.annotator.id))
    qtbot.waitUntil(lambda: _rows(browser, current) != before, timeout=3000)  # refreshed after the edit
    after = _rows(browser, current)
    assert after == _expected(window, current)
    assert _rows(browser, other_id) == _expected(window, other_id)  # still expanded after the refresh
