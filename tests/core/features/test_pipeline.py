"""``analyze_project`` on deliberately bad media, in worker processes: flags and warnings, never a crash."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.features import CacheMiss, FeatureStore, analyze_project
from dyadlab.core.features.alignment import AlignmentSpec, apply_affine
from dyadlab.core.features.faces import FaceFlag
from dyadlab.core.project import open_project


@pytest.fixture(scope="module")
def bad_run(bad_media):
    with open_project(bad_media.root) as project:
        summary = analyze_project(project, what=("faces", "audio"), workers=2)
        with project.store.transaction() as tx:
            ids = {p.code: (p.session_id, p.id) for p in tx.participants.list()}
    return bad_media, summary, ids


def _codes(summary, participant: str, task: str) -> set[str]:
    return {w.code for w in summary.warnings if w.participant == participant and w.task == task}


def test_every_problem_is_reported_and_nothing_fails(bad_run) -> None:
    _, summary, _ = bad_run
    assert not summary.failed
    assert len(summary.computed) == 19
    assert "no_face" in _codes(summary, "blank", "faces")
    assert "silent" in _codes(summary, "blank", "audio")
    assert "multiple_faces" in _codes(summary, "two", "faces")
    assert "clipped" in _codes(summary, "two", "audio")
    assert "resampled" in _codes(summary, "k8", "audio") and "resampled" in _codes(summary, "k44", "audio")
    assert "length_mismatch" in _codes(summary, "short", "audio")
    assert "truncated" in _codes(summary, "trunc", "faces")
    for quiet in ("offset", "k44"):
        assert not _codes(summary, quiet, "faces")
    assert _codes(summary, "noview", "faces") == {"no_view"}
    assert _codes(summary, "noview", "audio") == {"no_view", "mix_audio"}  # a 25 fps grid over the mix
    assert _codes(summary, "left", "audio") == {"mix_audio"} and not _codes(summary, "left", "faces")


def test_a_blank_view_has_no_face_and_zero_crops(bad_run) -> None:
    bad, _, ids = bad_run
    store = FeatureStore(bad.root)
    crops, valid, _ = store.load(*ids["blank"], "faces")
    flags, _, _ = store.load(*ids["blank"], "face_flags")
    assert not valid.any() and not np.asarray(crops).any()
    assert np.all(flags & FaceFlag.NO_FACE)
    for kind in ("compare", "egemaps", "logmel", "mfcc"):
        assert np.isfinite(store.load(*ids["blank"], kind).data).all()
    assert not store.load(*ids["blank"], "vad").data.any()


def test_with_two_faces_the_tracked_one_is_cropped(bad_run) -> None:
    bad, _, ids = bad_run
    store = FeatureStore(bad.root)
    _, valid, _ = store.load(*ids["two"], "faces")
    affine, _, _ = store.load(*ids["two"], "face_affine")
    flags, _, _ = store.load(*ids["two"], "face_flags")
    assert valid.all() and np.all(flags & FaceFlag.MULTIPLE_FACES)
    big = bad.views["two"].pupils[:, 0]  # the larger face, drawn first
    mid = np.array([apply_affine(affine[i], big[i]).mean(0) for i in range(len(affine))])
    assert np.hypot(*(mid - AlignmentSpec().canonical_eyes().mean(0)).T).max() < 5.0


def test_split_screen_crops_give_each_participant_their_own_face(bad_run) -> None:
    bad, _, ids = bad_run
    store = FeatureStore(bad.root)
    canonical = AlignmentSpec().canonical_eyes().mean(0)
    for side, code in enumerate(("left", "right")):
        _, valid, _ = store.load(*ids[code], "faces")
        affine, _, _ = store.load(*ids[code], "face_affine")
        boxes, _, _ = store.load(*ids[code], "face_boxes")
        pupils = bad.views["split"].pupils[:, side] - np.array([320.0 * side, 0.0])  # view (crop) pixels
        mid = np.array([apply_affine(affine[i], pupils[i]).mean(0) for i in range(len(affine))])
        assert valid.all() and np.hypot(*(mid - canonical).T).max() < 5.0
        assert np.all(boxes[:, 0] + boxes[:, 2] <= 320)  # boxes in the crop's own coordinates


def test_windows_follow_frame_times_across_view_and_track_offsets(bad_run) -> None:
    """29.97 fps view at +40 ms, audio track at +70 ms: each window is centred on its frame's session time."""
    from dyadlab.core.features.audio_windows import cut_windows

    bad, _, ids = bad_run
    windows, valid, times = FeatureStore(bad.root).load(*ids["offset"], "audio_windows")
    pcm = bad.audio["offset"].astype(np.float32) / 32768
    centre = np.rint((times - bad.audio_offset_us) * 16000 / 1e6).astype(np.int64)
    assert times[0] == bad.view_offset_us and times[1] - times[0] in (33366, 33367)
    inside = (centre >= 0) & (centre < len(pcm))
    np.testing.assert_array_equal(valid, inside)
    assert not inside[0]  # the first frame plays 30 ms before the audio starts
    np.testing.assert_array_equal(windows[inside], cut_windows(pcm, centre[inside] - 800, 1600))
    assert not windows[~inside].any()


def test_resampled_short_and_truncated_media_keep_frame_alignment(bad_run) -> None:
    bad, summary, ids = bad_run
    store = FeatureStore(bad.root)
    for code in ("k8", "k44"):
        windows, valid, _ = store.load(*ids[code], "audio_windows")
        assert windows.shape == (len(bad.views[code].pupils), 1600) and valid.all()
        assert summary.result("bad", code, "audio").stats["original_rate"] == bad.audio_rate[code]
    windows, valid, times = store.load(*ids["short"], "audio_windows")
    assert valid[times < 990_000].all() and not valid[times >= 1_000_000].any()
    assert not windows[~valid].any()
    crops, valid, _ = store.load(*ids["trunc"], "faces")
    assert 0 < len(crops) < 50 and valid.mean() > 0.8
    assert store.load(*ids["trunc"], "audio_windows").data.shape[0] == len(crops)


def test_a_participant_without_view_gets_windows_on_a_regular_grid(bad_run) -> None:
    bad, _, ids = bad_run
    windows, valid, times = FeatureStore(bad.root).load(*ids["noview"], "audio_windows")
    assert windows.shape == (50, 1600) and valid.all()
    np.testing.assert_array_equal(np.diff(times), 40_000)
    with pytest.raises(CacheMiss, match="analysed"):
        FeatureStore(bad.root).load(*ids["noview"], "faces")


def test_analyze_cli_prints_the_table_and_warnings(bad_media, capsys) -> None:
    assert main(["analyze", str(bad_media.root), "--what", "faces", "--quiet"]) == 0  # all cached by now
    out = capsys.readouterr().out
    assert "faces %" in out and "cached" in out and "[no_face]" in out and "[multiple_faces]" in out


def test_help_stays_light() -> None:
    code = ("import sys\nfrom dyadlab.core.cli.main import build_parser\nimport dyadlab.core.features\n"
            "text = build_parser().format_help()\nassert 'analyze' in text and 'cache' in text\n"
            "print([m for m in ('torch', 'mediapipe', 'cv2', 'opensmile', 'av') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
