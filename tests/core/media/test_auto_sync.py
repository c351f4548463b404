"""Automatic sync: known offsets come back within 1 ms (sound) / one frame (a camera's own sound); unrelated
recordings are reported as unsure; ``dyadlab sync`` stores the sure proposals as undoable edits."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.edits.media_setup import UpdateMediaItem
from dyadlab.core.errors import DyadLabError
from dyadlab.core.media.auto_sync import estimate_lag, propose_session_offsets, sync_items
from dyadlab.core.media.synthetic_scene import Recorder, room_sound, write_scene, write_sound
from dyadlab.core.project import create_project

RATE = 16_000
US = 1_000_000


def _recorded(sound: np.ndarray, start_s: float, seconds: float, *, gain: float, noise: float, seed: int):
    start = int(round(start_s * RATE))
    rng = np.random.default_rng(seed)
    return gain * sound[start:start + int(seconds * RATE)] + noise * rng.standard_normal(int(seconds * RATE))


@pytest.mark.parametrize("b_start_s", [0.0, 0.0213, 2.5, 11.33337])
def test_known_offsets_within_a_millisecond(b_start_s):
    sound = room_sound(40, seed=3)
    a = _recorded(sound, 5.0, 30, gain=1.0, noise=0.02, seed=1)
    b = _recorded(sound, 5.0 + b_start_s, 20, gain=0.4, noise=0.02, seed=2)
    est = estimate_lag(a, b, RATE)
    # the sound at A's time t is at B's time t - b_start: lag = +b_start
    assert abs(est.lag_us - b_start_s * US) <= 1000
    assert est.sure and est.confidence > 0.8


def test_b_starting_before_a_and_at_another_rate():
    sound = room_sound(40, rate=48_000, seed=4)
    a = sound[int(6.0 * 48_000):int(36 * 48_000)]
    b = 0.7 * sound[int(1.2345 * 48_000):int(21.2345 * 48_000)]
    est = estimate_lag(a, b, 48_000)
    assert abs(est.lag_us - (1.2345 - 6.0) * US) <= 1000


def test_loud_microphone_noise_still_syncs():
    sound = room_sound(40, seed=5)
    a = _recorded(sound, 0.0, 30, gain=1.0, noise=0.25, seed=6)  # noise as loud as the voices
    b = _recorded(sound, 3.21, 30, gain=0.5, noise=0.25, seed=7)
    est = estimate_lag(a, b, RATE)
    assert abs(est.lag_us - 3.21 * US) <= 1000
    assert est.sure


def test_unrelated_recordings_are_unsure():
    a = room_sound(30, seed=10)
    b = room_sound(25, seed=11)
    est = estimate_lag(a, b, RATE)
    assert not est.sure and est.confidence < 0.3
    noise = np.random.default_rng(12)
    est = estimate_lag(noise.standard_normal(30 * RATE), noise.standard_normal(30 * RATE), RATE)
    assert not est.sure


def test_too_short_to_sync_is_an_error():
    with pytest.raises(DyadLabError, match="too little sound"):
        estimate_lag(np.ones(100), room_sound(5), RATE)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """Two cameras and a wide shot (25 fps, AAC), a room recorder and an unrelated file, offsets known."""
    root = tmp_path_factory.mktemp("scene")
    truth = {"room": 0.0, "cam_a": 0.84, "cam_b": 2.3, "wide": 1.46}
    files = write_scene(root / "media", [
        Recorder("room", truth["room"], 14.0),
        Recorder("cam_a", truth["cam_a"], 10.0, fps=25, gain=0.8),
        Recorder("cam_b", truth["cam_b"], 10.0, fps=25, gain=0.5, noise=0.05),
        Recorder("wide", truth["wide"], 11.0, fps=25, gain=0.3),
    ], seed=20)
    files["other"] = write_sound(root / "media" / "other.wav", room_sound(8, seed=99))
    return root, files, truth


def _project(root, files, name):
    project = create_project(root / name)
    with project.store.transaction() as tx:
        s = tx.sessions.add("s1")
        a, b = tx.participants.add(s.id, "A"), tx.participants.add(s.id, "B")
        tx.audio.add(s.id, "room", str(files["room"]), channels=1, channel_participants=[None])
        tx.views.add(s.id, "cam_a", str(files["cam_a"]), participant_id=a.id)
        tx.views.add(s.id, "cam_b", str(files["cam_b"]), participant_id=b.id)
        tx.views.add(s.id, "wide", str(files["wide"]))
        tx.audio.add(s.id, "other", str(files["other"]), channels=1, channel_participants=[None])
    return project, s.id


def test_session_proposals_match_the_truth(scene, tmp_path):
    root, files, truth = scene
    project, session_id = _project(tmp_path, files, "p")
    with project:
        proposals = {p.item.name: p for p in propose_session_offsets(project, session_id)}
    assert set(proposals) == {"cam_a", "cam_b", "wide", "other"}
    for name in ("cam_a", "cam_b", "wide"):  # against the room recorder (the first audio track, offset 0)
        assert proposals[name].sure
        assert abs(proposals[name].offset_us - truth[name] * US) <= 40_000  # one frame at 25 fps
    assert not proposals["other"].sure
    assert "LOW CONFIDENCE" in proposals["other"].describe()


def test_audio_against_audio_within_a_millisecond(scene, tmp_path):
    root, files, truth = scene
    split = write_sound(tmp_path / "late.wav", _recorded(room_sound(14.0, seed=20), 3.125, 9.0, gain=0.6,
                                                         noise=0.02, seed=30).astype(np.float32))
    project = create_project(tmp_path / "q")
    with project, project.store.transaction() as tx:
        s = tx.sessions.add("s")
        tx.audio.add(s.id, "room", str(files["room"]), offset_us=500_000)
        tx.audio.add(s.id, "late", str(split))
    with project:
        (proposal,) = propose_session_offsets(project, s.id)
    assert abs(proposal.offset_us - (500_000 + 3.125 * US)) <= 1000


def test_cli_applies_sure_offsets_and_names_the_unsure(scene, tmp_path, capsys):
    root, files, truth = scene
    project, session_id = _project(tmp_path, files, "cli")
    project.close()
    assert main(["sync", str(tmp_path / "cli"), "s1", "--apply"]) == 1  # "other" shares no sound
    out = capsys.readouterr().out
    assert "view cam_b" in out and "audio other" in out and "LOW CONFIDENCE" in out
    assert "applied 3, left 1 unsure" in out
    from dyadlab.core.project import open_project

    with open_project(tmp_path / "cli") as project, project.store.transaction() as tx:
        views = {v.name: v.offset_us for v in tx.views.list(session_id)}
        other = [t for t in tx.audio.list(session_id) if t.name == "other"][0]
    assert abs(views["cam_b"] - truth["cam_b"] * US) <= 40_000
    assert other.offset_us == 0


def test_cli_unknown_reference_names_what_exists(scene, tmp_path, capsys):
    root, files, truth = scene
    _project(tmp_path, files, "ref")[0].close()
    assert main(["sync", str(tmp_path / "ref"), "s1", "--reference", "nope"]) == 1
    assert "view cam_a" in capsys.readouterr().err


def test_offset_edit_undoes(scene, tmp_path):
    root, files, truth = scene
    project, session_id = _project(tmp_path, files, "undo")
    with project:
        item = next(i for i in sync_items(project, session_id) if i.name == "other")
        edit = UpdateMediaItem("audio", item.id, offset_us=1234)
        edit.do(project.store)
        with project.store.transaction() as tx:
            assert tx.audio.get(item.id).offset_us == 1234
        edit.undo(project.store)
        with project.store.transaction() as tx:
            assert tx.audio.get(item.id).offset_us == 0
