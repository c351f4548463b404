"""Bad input: missing media, a read-only or locked database, a bug in a slot — never a crash, never
a silent loss, and the undo history never claims an edit that is not in the file."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import event

pytestmark = pytest.mark.gui
S = 1_000_000
CTRL = Qt.KeyboardModifier.ControlModifier


def count_segments(db) -> int:
    """Segments of annotator alice (the demo's gold segments are there from the start)."""
    return db("SELECT COUNT(*) FROM segments s JOIN annotators a ON a.id = s.annotator_id "
              "WHERE a.name = 'alice'")[0][0]


@pytest.fixture
def reporter():
    from dyadlab.app.errors import reporter

    yield reporter
    if reporter.dialog is not None:
        reporter.dialog.close()


def test_missing_media_shows_error_in_its_view_and_labelling_goes_on(open_window, demo_project_copy, db,
                                                                     driver_for):
    (demo_project_copy / "media" / "demo01" / "B.mp4").unlink()
    drive = driver_for(open_window(demo_project_copy))
    a, b = drive.bench.grid.views
    assert a.error is None and "not found" in b.error
    drive.wait_frames()
    assert a.shown_frame == 0 and b.shown_frame is None
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("B", "emotion")
    drive.drag(track, 1.0, 2.0)
    drive.key(Qt.Key.Key_3)
    assert db("SELECT start_us, end_us, value FROM segments WHERE tier_id = ?", track.tier.id) == [(S, 2 * S, "sad")]
    drive.key(Qt.Key.Key_Space)  # playing still works (the clock does not need that view)
    drive.qtbot.wait(200)
    drive.key(Qt.Key.Key_Space)
    assert drive.bench.playback.now_us > 0


def make_read_only(store) -> None:
    """What a read-only file does to SQLite writes (chmod does not stop root, who runs these tests)."""
    event.listen(store.engine, "connect", lambda con, _record: con.execute("PRAGMA query_only=ON"))
    store.engine.dispose()


def test_read_only_database_reports_and_records_nothing(drive, db, reporter, qtbot):
    drive.show_range(0.0, 12.0)
    track = drive.tier_track("A", "emotion")
    drive.drag(track, 1.0, 2.0)  # one good edit first
    assert count_segments(db) == 1 and drive.ws.undo_stack.count() == 1
    make_read_only(drive.window.project.store)
    drive.drag(track, 4.0, 5.0)
    assert count_segments(db) == 1
    assert drive.ws.undo_stack.count() == 1
    assert reporter.dialog is not None and "read-only" in reporter.dialog.text()
    reporter.dialog.close()
    drive.key(Qt.Key.Key_Z, CTRL)  # undo cannot commit either: the stack goes back to the truth
    qtbot.waitUntil(lambda: drive.ws.undo_stack.index() == 1)
    assert count_segments(db) == 1
    assert "read-only" in reporter.last
    assert len(drive.ws.segments(track.tier.id)) == 1


def test_locked_database_reports_and_recovers(drive, db, reporter, demo_project_copy):
    store = drive.window.project.store
    event.listen(store.engine, "connect", lambda con, _record: con.execute("PRAGMA busy_timeout=200"))
    store.engine.dispose()
    other = sqlite3.connect(demo_project_copy / "dyadlab.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        drive.show_range(0.0, 12.0)
        track = drive.tier_track("A", "emotion")
        drive.drag(track, 1.0, 2.0)
        assert drive.ws.undo_stack.count() == 0
        assert "locked" in reporter.last
    finally:
        other.execute("ROLLBACK")
        other.close()
    drive.drag(track, 1.0, 2.0)  # the other program let go: the same gesture now saves
    assert count_segments(db) == 1 and drive.ws.undo_stack.count() == 1


def test_exception_in_a_slot_is_shown_and_the_app_goes_on(drive, db, reporter, monkeypatch):
    from dyadlab.app.commands import segment_actions

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(segment_actions, "split_at", broken)
    drive.key(Qt.Key.Key_B)
    assert reporter.last.startswith("Unexpected error: RuntimeError: simulated bug")
    assert reporter.dialog is not None and reporter.dialog.detailedText()
    reporter.dialog.close()
    drive.show_range(0.0, 12.0)
    drive.drag(drive.tier_track("A", "emotion"), 1.0, 2.0)
    assert count_segments(db) == 1


def test_exception_escaping_to_the_event_loop_is_caught(drive, reporter, qtbot):
    import sys

    from dyadlab.app.errors import install_excepthook

    previous = sys.excepthook
    install_excepthook()
    try:
        try:
            raise ValueError("escaped")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = previous
    assert "ValueError: escaped" in reporter.last
    assert drive.window.isVisible()


def test_guarded_slot_keeps_its_name_and_never_reads_the_docstring(reporter):
    """A guarded slot is often a PySide method: reading its ``__doc__`` made PySide load its whole signature
    database (~0.1 s of every project open). The wrapper keeps the name and still reports what the slot
    raises."""
    from dyadlab.app.errors import guarded

    class Slot:
        __name__ = __qualname__ = "slot"

        @property
        def __doc__(self):
            raise AssertionError("guarded read the slot's docstring")

        def __call__(self):
            raise RuntimeError("slot failed")

    wrapped = guarded("Slot")(Slot())
    assert wrapped.__name__ == "slot"
    assert wrapped() is None
    assert reporter.last.startswith("Unexpected error: RuntimeError: slot failed")
