"""Switching sessions as an annotator does it: a double-click in the Project panel, with the playhead
anywhere, playing or paused, another view focused. Issue 18, item 1: this raised
"KeyError: 'view 1 is not in session 2'" (the clock's time reached views of the old session) and the error
dialog then swallowed the next key press.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from dyadlab.app.docks.project_dock import SESSION_ROLE, ProjectBrowser
from dyadlab.app.errors import reporter

pytestmark = pytest.mark.gui
S = 1_000_000


def double_click_session(drive, session_id: int) -> None:
    """Double-click the session's row in the Project panel with the mouse."""
    browser = drive.window.findChild(ProjectBrowser)
    item = next(browser.topLevelItem(i) for i in range(browser.topLevelItemCount())
                if browser.topLevelItem(i).data(0, SESSION_ROLE) == session_id)
    browser.scrollToItem(item)
    drive.widget_click(browser.viewport(), browser.visualItemRect(item).center(), double=True)
    drive.qtbot.wait(20)


def assert_no_error(drive) -> None:
    assert reporter.dialog is None, reporter.last
    assert not [h for h in reporter.history if "Unexpected" in h or "Error" in h], reporter.history


def assert_shows_session(drive, session_id: int) -> None:
    bench = drive.bench
    assert drive.ws.session.id == session_id
    assert bench.grid.views and all(v.view.session_id == session_id for v in bench.grid.views)
    drive.wait_frames()
    drive.qtbot.waitUntil(lambda: all(w.source is not None for w in drive.timeline.waveforms.values()), timeout=15000)


@pytest.mark.parametrize("playing", [False, True], ids=["paused", "playing"])
def test_switching_sessions_mid_way_opens_the_other_one_without_an_error(drive, playing: bool) -> None:
    first = drive.ws.session.id
    other = next(s for s in drive.window._session_ids() if s != first)
    pb = drive.bench.playback
    pb.seek(5 * S)
    drive.key(Qt.Key.Key_V)  # the second view has the focus
    assert drive.bench.grid.focused is drive.bench.grid.views[1]
    if playing:
        drive.key(Qt.Key.Key_Space)
        drive.qtbot.wait(200)
    double_click_session(drive, other)
    assert_no_error(drive)
    assert_shows_session(drive, other)
    assert pb.now_us == 0 and not pb.playing  # a session not visited before opens at its start, paused
    drive.key(Qt.Key.Key_Space)  # the next key goes to the player, not to an error dialog
    drive.qtbot.waitUntil(lambda: pb.now_us > 0, timeout=3000)
    drive.key(Qt.Key.Key_Space)
    assert_no_error(drive)


def test_a_session_reopens_where_the_annotator_left_it(drive) -> None:
    first = drive.ws.session.id
    other = next(s for s in drive.window._session_ids() if s != first)
    pb = drive.bench.playback
    pb.seek(7 * S)
    left_at = pb.now_us
    double_click_session(drive, other)
    pb.seek(3 * S)
    double_click_session(drive, first)
    assert_no_error(drive)
    assert_shows_session(drive, first)
    assert pb.now_us == left_at
    double_click_session(drive, other)
    assert pb.now_us == pytest.approx(3 * S, abs=50_000)  # snapped to a frame of that session
