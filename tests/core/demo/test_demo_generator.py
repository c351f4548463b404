"""``generate_demo`` end to end: what lands in the store and on disk, reproducibly, and what it refuses."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from dyadlab.core.demo import generate_demo
from dyadlab.core.demo.emotions import EMOTIONS
from dyadlab.core.demo.generator import build_corpus
from dyadlab.core.demo.timeline import plan_session
from dyadlab.core.errors import DyadLabError, ProjectError
from dyadlab.core.progress import Cancelled
from dyadlab.core.project import open_project


def _gold(root: Path) -> list[tuple[str, str, str, int, int, str | None, float | None]]:
    """Every gold segment as (session, participant, tier, start, end, value, score)."""
    with open_project(root) as project, project.store.transaction() as tx:
        rows = []
        for session in tx.sessions.list():
            codes = {p.id: p.code for p in tx.participants.list(session.id)}
            for tier in tx.tiers.list(session.id):
                who = codes[tier.participant_id]
                rows += [(session.name, who, tier.name, s.start_us, s.end_us, s.value, s.score)
                         for s in tx.segments.list(tier.id)]
        return rows


def _first_frame(path: Path, read_frames) -> np.ndarray:
    return next(iter(read_frames(path)))[1]


def test_store_holds_sessions_participants_views_and_audio(tiny_demo: Path) -> None:
    with open_project(tiny_demo) as project, project.store.transaction() as tx:
        sessions = tx.sessions.list()
        assert [(s.name, s.group, s.duration_us) for s in sessions] == [
            ("demo01", "Session1", 6_000_000), ("demo02", "Session2", 6_000_000)]
        speakers = set()
        fps_seen = set()
        for session in sessions:
            people = tx.participants.list(session.id)
            assert [p.code for p in people] == ["A", "B"]
            assert sorted(p.role for p in people) == ["left", "right"]
            assert all(20 <= p.age <= 70 and p.gender in {"F", "M"} for p in people)
            speakers |= {p.speaker for p in people}
            for p in people:
                assert (tiny_demo / p.attributes["render_geometry"]).is_file()
            views = tx.views.list(session.id)
            assert sorted(v.participant_id for v in views) == sorted(p.id for p in people)
            for v in views:
                assert not Path(v.path).is_absolute() and (tiny_demo / v.path).is_file()
                assert (v.width, v.height, v.offset_us, v.crop) == (640, 480, 0, None)
                assert abs(v.frame_count - 6.0 * v.fps) <= 1
                assert abs(v.duration_us - 6_000_000) <= 40_000
                fps_seen.add(round(v.fps, 2))
            tracks = {t.name: t for t in tx.audio.list(session.id)}
            ids = {p.code: p.id for p in people}
            assert {n: (t.sample_rate, t.channels, t.channel_participants) for n, t in tracks.items()} == {
                "A": (16000, 1, (ids["A"],)), "B": (16000, 1, (ids["B"],)),
                "mix": (16000, 2, (ids["A"], ids["B"]))}
            assert all(t.duration_us == 6_000_000 for t in tracks.values())
        assert fps_seen == {25.0, 29.97}
        assert len(speakers) == 4
        assert [(a.name, a.kind) for a in tx.annotators.list()] == [("gold", "gold")]


def test_gold_tiers_cover_each_session_and_hold_every_class(tiny_demo: Path) -> None:
    with open_project(tiny_demo) as project, project.store.transaction() as tx:
        schemes = {s.id: s.name for s in tx.schemes.list()}
        classes = Counter()
        for session in tx.sessions.list():
            for p in tx.participants.list(session.id):
                tiers = {t.name: t for t in tx.tiers.list(session.id, participant_id=p.id)}
                assert set(tiers) == {"emotion", "valence", "arousal", "dominance"}
                emotion = tiers["emotion"]
                assert (schemes[emotion.scheme_id], emotion.kind) == ("emotion-4class", "categorical")
                segs = tx.segments.list(emotion.id)
                assert segs[0].start_us == 0 and segs[-1].end_us == session.duration_us
                assert all(a.end_us == b.start_us for a, b in zip(segs, segs[1:], strict=False))
                classes.update(s.value for s in segs)
                utterances = tx.utterances.list(session.id, participant_id=p.id)
                assert utterances
                for name in ("valence", "arousal", "dominance"):
                    assert (schemes[tiers[name].scheme_id], tiers[name].kind) == ("vad", "dimensional")
                    rated = tx.segments.list(tiers[name].id)
                    assert [(s.start_us, s.end_us) for s in rated] == [(u.start_us, u.end_us) for u in utterances]
                    assert all(1.0 <= s.score <= 5.0 for s in rated)
                for u in utterances:
                    assert 0 <= u.start_us < u.end_us <= session.duration_us and u.text
                    inside = [s for s in segs if s.start_us <= u.start_us and u.end_us <= s.end_us]
                    assert len(inside) == 1, f"{u.name} crosses an emotion boundary"
                    assert u.attributes["emotion"] == inside[0].value
        assert set(classes) == set(EMOTIONS)


def test_videos_decode_with_exact_timestamps_and_the_stored_frame_count(tiny_demo: Path, read_frames) -> None:
    with open_project(tiny_demo) as project, project.store.transaction() as tx:
        views = tx.views.list()
    for view in views:
        pts = [p for p, _ in read_frames(tiny_demo / view.path)]
        assert len(pts) == view.frame_count
        step = 512 if round(view.fps) == 25 else 1001  # MP4 time bases 1/12800 and 1/30000
        assert pts == [i * step for i in range(len(pts))]


def test_geometry_matches_the_video(tiny_demo: Path) -> None:
    with open_project(tiny_demo) as project, project.store.transaction() as tx:
        view = tx.views.list()[0]
        person = tx.participants.get(view.participant_id)
    g = np.load(tiny_demo / person.attributes["render_geometry"])
    assert len(g["pts_us"]) == view.frame_count
    assert np.all(np.abs(g["face_x"] - 320) <= 60) and np.all(np.abs(g["roll_deg"]) <= 15)
    dx, dy = g["pupil_right_x"] - g["pupil_left_x"], g["pupil_right_y"] - g["pupil_left_y"]
    eye_line = np.degrees(np.arctan2(dy, dx))
    assert np.allclose(eye_line, g["roll_deg"], atol=0.01)
    assert list(g["emotions"]) == list(EMOTIONS)


def test_same_seed_same_corpus_and_another_seed_differs(tmp_path: Path, tiny_demo: Path, read_frames) -> None:
    again = generate_demo(tmp_path / "again", sessions=1, seconds=6.0, seed=3)
    again.close()
    other = generate_demo(tmp_path / "other", sessions=1, seconds=6.0, seed=4)
    other.close()
    first = [row for row in _gold(tiny_demo) if row[0] == "demo01"]
    assert _gold(tmp_path / "again") == first
    assert _gold(tmp_path / "other") != first
    video = Path("media/demo01/A.mp4")
    reference = _first_frame(tiny_demo / video, read_frames)
    assert np.array_equal(_first_frame(tmp_path / "again" / video, read_frames), reference)
    assert not np.array_equal(_first_frame(tmp_path / "other" / video, read_frames), reference)
    mix = Path("media/demo01/mix.wav")
    assert (tmp_path / "again" / mix).read_bytes() == (tiny_demo / mix).read_bytes()


def test_split_screen_session_feeds_both_views_from_one_file(tmp_path: Path, read_frames) -> None:
    plan = plan_session(3, 5.0, 1)
    assert plan.layout == "split_screen" and plan.fps == Fraction(25)
    build_corpus(tmp_path / "split", [plan], voice_backend="formant").close()
    root = tmp_path / "split"
    with open_project(root) as project, project.store.transaction() as tx:
        views = tx.views.list()
        people = {p.id: p for p in tx.participants.list()}
        assert tx.sessions.list()[0].attributes["voice_backend"] == "formant"
    assert len(views) == 2 and len({v.path for v in views}) == 1
    frame = _first_frame(root / views[0].path, read_frames)
    assert frame.shape == (480, 1280, 3)
    for view in views:
        person = people[view.participant_id]
        assert (view.width, view.height) == (1280, 480)
        assert (view.crop.x, view.crop.y, view.crop.width, view.crop.height) == (
            0 if person.role == "left" else 640, 0, 640, 480)
        g = np.load(root / person.attributes["render_geometry"])
        # The pupils the geometry names (in view pixels) are dark in that view's crop of the frame.
        crop = frame[view.crop.y:view.crop.y + 480, view.crop.x:view.crop.x + 640]
        for side in ("left", "right"):
            x, y = g[f"pupil_{side}_x"][0], g[f"pupil_{side}_y"][0]
            assert crop[int(round(y)), int(round(x))].mean() < 60


def test_an_empty_folder_is_used_and_progress_rises_to_its_total(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    calls: list[tuple[float, float, str]] = []
    project = generate_demo(tmp_path / "empty", sessions=1, seconds=5.0,
                            progress=lambda d, t, m: calls.append((d, t, m)))
    with project, project.store.transaction() as tx:
        assert [s.name for s in tx.sessions.list()] == ["demo01"]
    done = [d for d, _, _ in calls]
    assert done == sorted(done) and len(calls) > 5
    assert calls[-1][0] == calls[-1][1]
    assert any("frame" in m for _, _, m in calls)


def test_a_cancelled_run_leaves_no_project(tmp_path: Path) -> None:
    def cancel(done: float, total: float, message: str) -> None:
        if "frame" in message:
            raise Cancelled

    with pytest.raises(Cancelled):
        generate_demo(tmp_path / "gone", sessions=1, seconds=5.0, progress=cancel)
    assert not (tmp_path / "gone").exists()


def test_an_existing_folder_with_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ProjectError, match="not empty"):
        generate_demo(tmp_path / "busy", sessions=1, seconds=5.0)
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(("kwargs", "needle"), [({"sessions": 0}, "at least 1 session"),
                                                ({"seconds": 3.0}, "at least 5 s")])
def test_bad_settings_create_nothing(tmp_path: Path, kwargs: dict, needle: str) -> None:
    with pytest.raises(DyadLabError, match=needle):
        generate_demo(tmp_path / "nothing", **kwargs)
    assert not (tmp_path / "nothing").exists()

