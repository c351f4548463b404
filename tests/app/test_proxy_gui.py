"""Proxies from the GUI: a session whose view is a long-GOP file shows the status-bar hint; Media ▸ Make proxies
for this session runs ``dyadlab proxy`` as a real background job, and when it ends the view decodes the proxy
(exact frames, same time) and the hint is gone. A short-GOP session shows no hint and offers no action.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from dyadlab.app.docks.jobs_dock import job_progress
from dyadlab.core.media.proxy import SLOW_SEEK_GOP
from dyadlab.core.media.synthetic import read_code, regular_pts, write_test_video

pytestmark = pytest.mark.gui

FRAMES = 150


@pytest.fixture
def proxy_project(tmp_path: Path) -> Path:
    """Session "long": one view with a keyframe every 150 frames; session "short": GOP 12."""
    from dyadlab.core.project import create_project

    root = tmp_path / "project"
    with create_project(root) as project:
        write_test_video(root / "long.mp4", regular_pts(FRAMES, 1), Fraction(1, 25), gop=FRAMES, bframes=2)
        write_test_video(root / "short.mp4", regular_pts(50, 1), Fraction(1, 25), gop=12)
        with project.store.transaction() as tx:
            long = tx.sessions.add("long")
            tx.views.add(long.id, "wide", "long.mp4")
            short = tx.sessions.add("short")
            tx.views.add(short.id, "close", "short.mp4")
    return root


def _session_id(window, name: str) -> int:
    with window.project.store.transaction() as tx:
        return next(s.id for s in tx.sessions.list() if s.name == name)


def _decoder(window):
    media = window.bench.media
    return media.decoder(media.views[0].id).decoder


def test_long_gop_view_hint_then_proxy_job_reopens_the_view_on_the_proxy(qtbot, open_window, proxy_project):
    window = open_window(proxy_project, session_id=None)
    window.open_session(_session_id(window, "long"))
    advisor = window.proxies
    assert FRAMES > SLOW_SEEK_GOP
    qtbot.waitUntil(lambda: advisor.hint.isVisible())
    assert f"Seeking in wide is slow (GOP {FRAMES})" in advisor.hint.text() and "Make proxy" in advisor.hint.text()
    assert not _decoder(window).using_proxy and advisor.action.isEnabled()
    media_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Media")
    assert advisor.action in media_menu.actions()

    window.bench.playback.seek(2_000_000)  # frame 50: the view must come back at the same time
    advisor.action.trigger()
    job_id = advisor.job_id
    assert job_id is not None and not advisor.action.isEnabled() and "Making proxies" in advisor.hint.text()
    qtbot.waitUntil(lambda: advisor.job_id is None, timeout=90_000)  # the Jobs dock polls the real process

    job = window.jobs.get(job_id)
    assert (job.kind, job.state) == ("proxy", "succeeded"), window.jobs.log_tail(job_id)
    progress = [e for e in window.jobs.events(job_id) if e.get("event") == "progress"]
    assert progress and progress[-1]["done"] == progress[-1]["total"] == FRAMES
    assert job_progress(progress[:1]).fraction == progress[0]["done"] / FRAMES  # the Jobs dock's bar
    decoder = _decoder(window)
    assert decoder.using_proxy and decoder.index.all_intra
    assert window.bench.playback.now_us == 2_000_000
    assert read_code(decoder.get_frame(FRAMES - 1)) == FRAMES - 1
    assert not advisor.hint.isVisible() and not advisor.action.isEnabled()
    assert list((proxy_project / "cache" / "proxies").glob("long-*.mp4"))


def test_short_gop_session_shows_no_hint(qtbot, open_window, proxy_project):
    window = open_window(proxy_project, session_id=None)
    window.open_session(_session_id(window, "short"))
    assert not window.proxies.hint.isVisible() and not window.proxies.action.isEnabled()
    window.open_session(_session_id(window, "long"))  # and the hint follows the session
    assert window.proxies.hint.isVisible()
