"""The Agreement dock on the demo project with two extra annotators (bob, carol) who partly disagree:
its matrix shows the same kappa as ``core.agreement.cohen_kappa`` on independently discretised labels,
the pair's confusion table covers every unit, and Merge gold… writes the gold annotator's segments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

S = 1_000_000
STEP_US = 40_000
# annotator -> participant -> [(start_s, end_s, value)] (the same in both demo sessions)
SPANS = {
    "bob": {"A": [(0, 4, "happy"), (4, 9, "sad"), (9, 12, "neutral")], "B": [(0, 6, "angry"), (6, 12, "happy")]},
    "carol": {"A": [(0, 3, "happy"), (3, 9, "sad")], "B": [(0, 5, "angry"), (5, 8, "neutral"), (8, 12, "happy")]},
}
VALENCE = {"bob": [(0, 6, 2.0), (6, 12, 4.0)], "carol": [(0, 5, 2.5), (5, 12, 4.5)]}
pytestmark = pytest.mark.gui


@pytest.fixture
def rated_copy(demo_project_copy: Path) -> Path:
    """The demo copy plus bob's and carol's emotion tiers in every session."""
    from dyadlab.core.project import open_project

    with open_project(demo_project_copy) as project, project.store.transaction() as tx:
        scheme = tx.schemes.by_name("emotion-4class")
        for name, by_participant in SPANS.items():
            who = tx.annotators.add(name)
            for session in tx.sessions.list():
                codes = {p.code: p.id for p in tx.participants.list(session.id)}
                for code, spans in by_participant.items():
                    tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=who.id,
                                        kind="categorical", participant_id=codes[code])
                    for start, end, value in spans:
                        tx.segments.add(tier.id, start * S, end * S, value, annotator_id=who.id)
                vad = tx.schemes.by_name("vad")
                tier = tx.tiers.add(session.id, "valence", scheme_id=vad.id, annotator_id=who.id,
                                    kind="dimensional", participant_id=codes["A"])
                for start, end, score in VALENCE[name]:
                    tx.segments.add(tier.id, start * S, end * S, None, annotator_id=who.id, score=score)
    return demo_project_copy


def _independent_labels(db, annotator: str) -> list[str | None]:
    """Frame labels at 40 ms straight from the database rows, sessions and participants in id order."""
    from dyadlab.core.labels.timeline import categorical_per_unit, frame_units
    from dyadlab.core.model import Segment

    labels: list[str | None] = []
    for session_id, duration in db("SELECT id, duration_us FROM sessions ORDER BY id"):
        units = frame_units(duration, STEP_US)
        for (tier_id,) in db("SELECT t.id FROM tiers t JOIN annotators a ON a.id = t.annotator_id "
                                        "WHERE t.session_id = ? AND t.name = 'emotion' AND a.name = ? "
                                        "ORDER BY t.participant_id", session_id, annotator):
            rows = db("SELECT id, start_us, end_us, value FROM segments WHERE tier_id = ?", tier_id)
            segments = [Segment(id=i, tier_id=tier_id, start_us=a, end_us=b, value=v, annotator_id=0)
                        for i, a, b, v in rows]
            labels += categorical_per_unit(segments, units).tolist()
    return labels


def _panel(window):
    panel = window.docks["Agreement"].widget()
    window.docks["Agreement"].show()
    window.docks["Agreement"].raise_()
    return panel


def test_matrix_kappa_matches_core_and_confusion_covers_every_unit(open_window, rated_copy: Path, db) -> None:
    from dyadlab.core.agreement import cohen_kappa

    window = open_window(rated_copy)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.docks["Agreement"].toggleViewAction() in view_menu.actions()
    panel = _panel(window)
    assert panel.tier.currentText() == "emotion"
    checked = [panel.annotators.item(i).text() for i in range(panel.annotators.count())
               if panel.annotators.item(i).checkState() == Qt.CheckState.Checked]
    assert checked == ["bob", "carol"]  # the demo's gold (a merge result) starts unchecked
    panel.set_choices(tier="emotion", unit="frames", step_ms=40, sessions=["demo01", "demo02"],
                      annotators=["bob", "carol"])
    bob, carol = _independent_labels(db, "bob"), _independent_labels(db, "carol")
    expected = cohen_kappa(bob, carol)
    assert 0 < expected < 1  # they partly disagree
    names = panel.result.annotators
    assert names == ["bob", "carol"] and panel.result.scope == "all"
    assert panel.matrix.item(0, 1).text() == f"{expected:.3f}" == panel.matrix.item(1, 0).text()
    assert panel.result.pair("bob", "carol").kappa == pytest.approx(expected, abs=1e-12)
    assert "Krippendorff" in panel.overall.text()

    panel.select_pair("bob", "carol")
    counts = panel.confusion_counts()
    assert sum(counts.values()) == len(bob) == panel.result.n_units == 2 * 2 * 300
    both = sum(n for (r, c), n in counts.items() if "(none)" not in (r, c))
    assert both == panel.result.pair("bob", "carol").n_units
    agree = sum(n for (r, c), n in counts.items() if r == c and r != "(none)")
    assert agree == sum(1 for x, y in zip(bob, carol, strict=True) if x is not None and x == y)
    assert "bob (rows) × carol (columns)" in panel.pair_label.text()


def test_merge_gold_previews_ties_then_writes_gold_segments(open_window, rated_copy: Path, db) -> None:
    from dyadlab.app.errors import reporter

    window = open_window(rated_copy)
    panel = _panel(window)
    panel.set_choices(tier="emotion", sessions=["demo01", "demo02"], annotators=["bob", "carol"])
    gold_before = db("SELECT s.id FROM segments s JOIN annotators a ON a.id = s.annotator_id "
                                      "WHERE a.name = 'gold'")
    panel.open_merge()
    dialog = panel.dialog
    assert dialog is not None and dialog.previewed is not None and dialog.previewed.ties  # they disagree
    assert "tie(s) to review" in dialog.preview_text.toPlainText() and dialog.apply_button.isEnabled()
    assert db("SELECT COUNT(*) FROM segments s JOIN annotators a ON a.id = s.annotator_id "
                               "WHERE a.name = 'gold'") == [(len(gold_before),)]  # the preview wrote nothing
    dialog.apply()
    assert dialog.result is not None and dialog.result.segments_written > 0
    rows = db("SELECT s.id, s.value, s.provenance FROM segments s JOIN tiers t ON t.id = s.tier_id "
                               "JOIN annotators a ON a.id = s.annotator_id WHERE a.name = 'gold' AND t.name = 'emotion'")
    assert len(rows) == dialog.result.segments_written
    assert not {r[0] for r in rows} & {r[0] for r in gold_before}  # the demo's gold emotion was replaced
    for _id, value, provenance in rows:
        data = json.loads(provenance) if isinstance(provenance, str) else provenance
        assert data["method"] == "majority" and data["annotators"] == ["bob", "carol"] and value
    # the view refreshed: the window shows the new gold segments, the panel lists gold (unchecked)
    gold_ids = {t.id for t in window.ws.data.tiers if window.ws.data.annotators[t.annotator_id].name == "gold"
                and t.name == "emotion"}
    shown = {s.id for tid in gold_ids for s in window.ws.segments(tid)}
    assert shown and shown <= {r[0] for r in rows}
    listed = [panel.annotators.item(i).text() for i in range(panel.annotators.count())]
    assert "gold" in listed and panel.result is not None and panel.result.annotators == ["bob", "carol"]
    assert reporter.last.startswith("gold 'gold':") and not any("Unexpected" in h for h in reporter.history)
    # the merge is one step on the undo stack: undo brings the demo's gold back, with its ids; redo re-merges
    stack = window.ws.undo_stack
    assert stack.undoText() == "Merge gold"
    stack.undo()
    restored = db("SELECT s.id FROM segments s JOIN annotators a ON a.id = s.annotator_id WHERE a.name = 'gold'")
    assert sorted(restored) == sorted(gold_before)
    stack.redo()
    assert len(db("SELECT s.id FROM segments s JOIN tiers t ON t.id = s.tier_id JOIN annotators a "
                  "ON a.id = s.annotator_id WHERE a.name = 'gold' AND t.name = 'emotion'")) == len(rows)


def test_dimensional_tier_shows_ccc_and_icc(open_window, rated_copy: Path) -> None:
    from dyadlab.core.agreement import agreement_report
    from dyadlab.core.project import open_project

    window = open_window(rated_copy)
    panel = _panel(window)
    panel.set_choices(tier="valence", sessions=["demo01"], annotators=["bob", "carol"])
    with open_project(rated_copy) as project:
        (pair,) = agreement_report(project, tier="valence", sessions=["demo01"], annotators=["bob", "carol"]).pairs
    assert panel.result.numeric and panel.result.scope == "demo01"
    assert panel.matrix.item(0, 1).text() == f"{pair.ccc:.3f}" and 0 < pair.ccc < 1
    assert "ICC(2,1)" in panel.overall.text()
    panel.select_pair("carol", "bob")
    assert f"CCC {pair.ccc:.3f}" in panel.pair_label.text() and panel.confusion.rowCount() == 0


def test_a_trace_recorded_with_the_rating_keys_is_compared_with_gold_valence(open_window, demo_project_copy: Path,
                                                                              driver_for, db, qtbot) -> None:
    """alice rates valence with its keys while the video plays across the end of the demo's gold valence
    segment (participant A, 1.74–3.61 s); the Agreement dock then lists her for valence and compares her
    trace with gold frame by frame, over the frames where both have a value."""
    import krippendorff

    window = open_window(demo_project_copy)
    drive = driver_for(window)
    rater = drive.bench.rater
    assert "valence" in [d.name for d in rater.dims]
    drive.bench.playback.seek(3 * S)
    drive.key(Qt.Key.Key_R)
    drive.key(Qt.Key.Key_Space)
    qtbot.wait(150)
    for _ in range(4):  # valence up with its scheme key while the video runs
        drive.key(Qt.Key.Key_Q)
        qtbot.wait(120)
    qtbot.wait(300)
    drive.key(Qt.Key.Key_Space)
    drive.key(Qt.Key.Key_R)
    assert not rater.recording

    panel = _panel(window)
    panel.tier.setCurrentIndex(panel.tier.findText("valence"))
    panel.tier.activated.emit(panel.tier.currentIndex())  # as a user's pick in the box
    listed = {panel.annotators.item(i).text(): panel.annotators.item(i) for i in range(panel.annotators.count())}
    assert "alice" in listed and listed["alice"].checkState() == Qt.CheckState.Checked
    listed["gold"].setCheckState(Qt.CheckState.Checked)  # gold starts unchecked: the user ticks it
    for i in range(panel.sessions.count()):
        item = panel.sessions.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.text() == "demo01" else Qt.CheckState.Unchecked)
    qtbot.mouseClick(panel.compute_button, Qt.MouseButton.LeftButton)

    # independently: alice's trace and gold's segments, read from the file, at the centres of 40 ms frames
    (trace_id, samples_per_s), = db(
        "SELECT s.id, s.sample_rate_hz FROM series s JOIN tiers t ON t.id = s.tier_id JOIN annotators a "
        "ON a.id = t.annotator_id JOIN participants p ON p.id = t.participant_id JOIN sessions n "
        "ON n.id = t.session_id WHERE s.kind = 'trace' AND t.name = 'valence' AND a.name = 'alice' "
        "AND p.code = 'A' AND n.name = 'demo01'")
    blocks = db("SELECT block, n_frames, data FROM series_blocks WHERE series_id = ? ORDER BY block", trace_id)
    trace = np.concatenate([np.frombuffer(d, "<f4") for _b, _n, d in blocks]).astype(float)
    gold_segments = db("SELECT g.start_us, g.end_us, g.score FROM segments g JOIN tiers t ON t.id = g.tier_id "
                       "JOIN annotators a ON a.id = t.annotator_id JOIN participants p ON p.id = t.participant_id "
                       "JOIN sessions n ON n.id = t.session_id WHERE t.name = 'valence' AND a.name = 'gold' "
                       "AND p.code = 'A' AND n.name = 'demo01'")
    centres = np.arange(300) * STEP_US + STEP_US // 2
    index = (centres * samples_per_s // S).astype(int)
    alice = np.where(index < len(trace), trace[np.minimum(index, len(trace) - 1)], np.nan)
    gold = np.full(300, np.nan)
    for start, end, score in gold_segments:
        gold[(centres >= start) & (centres < end)] = score
    both = ~np.isnan(alice) & ~np.isnan(gold)
    assert 8 <= both.sum() < (~np.isnan(alice)).sum()  # the trace runs on past the end of gold's segment
    x, y = alice[both], gold[both]
    ccc = 2 * np.mean((x - x.mean()) * (y - y.mean())) / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)

    result = panel.result
    assert result is not None and result.numeric and result.annotators == ["alice", "gold"]
    pair = result.pair("alice", "gold")
    assert pair.n_units == both.sum()
    assert float(panel.matrix.item(0, 1).text()) == pytest.approx(ccc, abs=5e-4)
    assert pair.alpha == pytest.approx(krippendorff.alpha(reliability_data=[alice, gold],
                                                          level_of_measurement="interval"), abs=1e-9)
    panel.select_pair("alice", "gold")
    assert f"{pair.n_units} of 600 units rated by both" in panel.pair_label.text()  # 2 participants × 300 frames
    assert "ICC(2,1)" in panel.pair_label.text() and not panel.confusion.isVisible()


def test_the_panel_needs_only_a_workspace_and_lists_a_new_rater_as_the_trace_is_recorded(qtbot,
                                                                                          demo_project_copy: Path):
    """Built from the workspace alone (no main window), the open panel picks up a trace recorded meanwhile."""
    from dyadlab.app.docks.agreement_dock import AgreementPanel
    from dyadlab.app.editing.trace_rater import TraceRater
    from dyadlab.app.workspace import Workspace
    from dyadlab.core.project import open_project

    project = open_project(demo_project_copy)
    try:
        with project.store.transaction() as tx:
            erin = tx.annotators.add("erin")
            session = next(s for s in tx.sessions.list() if s.name == "demo01")
        ws = Workspace(project, erin)
        rater = TraceRater(ws, lambda *_: None)
        ws.open_session(session.id)
        panel = AgreementPanel(ws)
        qtbot.addWidget(panel)
        panel.show()
        panel.set_choices(tier="valence", sessions=["demo01"], annotators=["erin", "gold"])

        def listed() -> list[str]:
            return [panel.annotators.item(i).text() for i in range(panel.annotators.count())]

        assert listed() == ["gold"] and panel.result is None
        rater.set_recording(True)
        for i in range(20):  # 3.0–3.76 s: across the end of gold's segment for A (3.61 s)
            rater.on_time(3 * S + i * STEP_US, True)
        rater.set_recording(False)
        qtbot.waitUntil(lambda: "erin" in listed() and panel.result is not None, timeout=3000)
        pair = panel.result.pair("erin", "gold")
        assert pair is not None and pair.n_units == 15  # frame centres 3.02–3.58 s: both have a value
        assert panel.matrix.item(0, 1).text() != "—"
    finally:
        project.close()
