"""Frame-centred audio windows and their features, on the demo corpus and on media with known samples."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.features import FeatureStore
from dyadlab.core.features.audio_features import SmileFunctionals
from dyadlab.core.features.audio_windows import cut_windows
from dyadlab.core.features.voice_activity import EnergyVad
from dyadlab.core.media.frame_index import FrameIndex
from dyadlab.core.project import open_project


def _demo_participants(root):
    with open_project(root) as project, project.store.transaction() as tx:
        return [(p, next(v for v in tx.views.list(p.session_id) if v.participant_id == p.id),
                 tx.utterances.list(p.session_id, participant_id=p.id)) for p in tx.participants.list()]


def test_one_window_per_frame_centred_on_the_frame_time(analysed_demo) -> None:
    import wave

    root, _ = analysed_demo
    store = FeatureStore(root)
    for p, view, _ in _demo_participants(root):
        index = FrameIndex.build(root / view.path)
        windows, valid, times = store.load(p.session_id, p.id, "audio_windows")
        assert windows.shape == (len(index), 1600) and windows.dtype == np.float32
        np.testing.assert_array_equal(times, index.pts_us)
        with wave.open(str(root / f"media/demo01/{p.code}.wav")) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        centre = np.rint(times * 16000 / 1e6).astype(np.int64)  # the sample at each frame time
        np.testing.assert_array_equal(windows, cut_windows(pcm, centre - 800, 1600))
        assert valid.all()
        assert np.all(windows[0, :800] == 0)  # frame 0 at t=0: the first half is padding


def test_features_are_finite_with_documented_dimensions(analysed_demo) -> None:
    root, summary = analysed_demo
    store = FeatureStore(root)
    for p, _, utterances in _demo_participants(root):
        n = len(store.load(p.session_id, p.id, "audio_windows").valid)
        for kind, dim in (("compare", 6373), ("egemaps", 88)):
            values, valid, _ = store.load(p.session_id, p.id, kind)
            assert values.shape == (n, dim) and values.dtype == np.float32
            assert np.isfinite(values).all() and valid.all()
            per_utt, utt_valid, starts = store.load(p.session_id, p.id, f"{kind}_utterances")
            assert per_utt.shape == (len(utterances), dim) and utt_valid.all()
            np.testing.assert_array_equal(starts, [u.start_us for u in utterances])
        logmel, _, _ = store.load(p.session_id, p.id, "logmel")
        mfcc, _, _ = store.load(p.session_id, p.id, "mfcc")
        assert logmel.shape == (n, 64, 11) and mfcc.shape == (n, 40, 11)
        assert np.isfinite(logmel).all() and np.isfinite(mfcc).all()
        assert [u["name"] for u in store.utterances(p.session_id, p.id)] == [u.name for u in utterances]
        result = summary.result("demo01", p.code, "audio")
        assert result.stats["opensmile_max_offset_ms"] <= 5.0  # windows quantised to openSMILE's 10 ms hop
        vad, _, times = store.load(p.session_id, p.id, "vad")
        speaking = np.zeros(n, bool)
        for u in utterances:
            speaking |= (times >= u.start_us) & (times < u.end_us)
        assert vad[speaking].mean() > 0.6 and vad[~speaking].mean() < 0.3


def test_listed_smile_windows_equal_one_call_per_window() -> None:
    """The one-call list mode gives what openSMILE gives for each window cut out on its own."""
    import opensmile

    rng = np.random.default_rng(0)
    t = np.arange(16000 * 3) / 16000
    signal = (0.3 * np.sin(2 * np.pi * 200 * t * (1 + t)) + 0.02 * rng.standard_normal(len(t))).astype(np.float32)
    starts = np.array([4000, 9600, 20480, 35200])  # on the 10 ms grid
    values, used = SmileFunctionals("egemaps").run(signal, 16000, starts, np.full(4, 1600))
    np.testing.assert_array_equal(used, starts)
    single = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                             feature_level=opensmile.FeatureLevel.Functionals)
    for k, s in enumerate(starts):
        alone = single.process_signal(signal[s:s + 1600], 16000).to_numpy()[0]
        assert np.corrcoef(alone, values[k])[0, 1] > 0.99


def test_utterances_share_the_windows_pass(analysed_demo, analysed_demo_copy, monkeypatch) -> None:
    """eGeMAPS and ComParE windows and utterances come from one openSMILE pass per set (2 passes per
    participant, not 4: the low-level descriptors of the whole signal are most of a pass): every cached
    utterance vector is that pass's row, and for eGeMAPS also exactly what a pass of its own gives."""
    from dyadlab.core.features import analyze_project, audio_features
    from dyadlab.core.features.audio_windows import load_participant_signal

    root, _ = analysed_demo
    store = FeatureStore(root)
    p, _, utterances = _demo_participants(root)[0]
    signal = load_participant_signal(root / "media" / "demo01" / f"{p.code}.wav", None, 0, 16000)
    first = np.array([round(u.start_us * 16000 / 1e6) for u in utterances])
    count = np.array([round(u.end_us * 16000 / 1e6) for u in utterances]) - first
    _, _, times = store.load(p.session_id, p.id, "audio_windows")
    starts = np.rint(times * 16000 / 1e6).astype(np.int64) - 800
    for kind in ("egemaps", "compare"):
        cached, valid, _ = store.load(p.session_id, p.id, f"{kind}_utterances")
        one_pass, _ = SmileFunctionals(kind).run(signal.samples, 16000, np.concatenate([starts, first]),
                                                 np.concatenate([np.full(len(starts), 1600), count]))
        assert valid.all()
        np.testing.assert_array_equal(cached, one_pass[len(starts):])
        if kind == "egemaps":
            np.testing.assert_array_equal(cached, SmileFunctionals(kind).run(signal.samples, 16000, first, count)[0])

    passes: list[int] = []
    real = audio_features.SmileFunctionals.run
    monkeypatch.setattr(audio_features.SmileFunctionals, "run",
                        lambda self, *a: passes.append(len(a[2])) or real(self, *a))
    with open_project(analysed_demo_copy) as project:  # another window length: computed again, not cached
        analyze_project(project, sessions=["demo01"], what=("audio",), params={"audio": {"window": 1064}})
    assert len(passes) == 2 * 2  # two participants


def test_audio_cached_by_an_older_code_version_is_recomputed_and_replaced_with_a_message(
        analysed_demo_copy, monkeypatch) -> None:
    """Results of audio code version 1 (their manifests say no version) are recomputed by the current code,
    which says so and deletes them: the project never serves version-1 values beside new ones."""
    import json
    import shutil

    from dyadlab.core.features import analyze_project, cache

    features = analysed_demo_copy / "cache" / "features"
    for folder in features.glob("s*/p*/audio"):
        shutil.rmtree(folder)
    monkeypatch.setitem(cache.CODE_VERSIONS, "audio", 1)  # as the code before the bump computed them
    with open_project(analysed_demo_copy) as project:
        assert len(analyze_project(project, what=("audio",)).computed) == 2
    old = sorted(features.glob("s*/p*/audio/*/manifest.json"))
    for manifest in old:  # version 1 wrote no code_version
        data = json.loads(manifest.read_text())
        assert data.pop("code_version") == 1
        manifest.write_text(json.dumps(data))
    monkeypatch.setitem(cache.CODE_VERSIONS, "audio", 2)
    with open_project(analysed_demo_copy) as project:
        summary = analyze_project(project, what=("audio", "faces"))
    assert len(summary.computed) == 2 and len(summary.cached) == 2  # the faces were not touched
    said = [str(w) for w in summary.warnings if w.code == "old_cache"]
    assert len(said) == 2 and all("audio code version 1 was recomputed by version 2" in s for s in said)
    assert all("ComParE" in s for s in said)
    assert not any(m.exists() for m in old)
    now = sorted(features.glob("s*/p*/audio/*/manifest.json"))
    assert len(now) == 2 and all(json.loads(m.read_text())["code_version"] == 2 for m in now)


def test_energy_vad_marks_bursts_and_bridges_short_gaps() -> None:
    rng = np.random.default_rng(1)
    frames = np.full(100, 0.001)
    frames[20:40] = 0.3
    frames[42:60] = 0.3  # a 2-frame pause inside speech
    frames[80] = 0.3  # an isolated click
    windows = (frames[:, None] * rng.standard_normal((100, 400))).astype(np.float32)
    vad = EnergyVad()
    speech = vad.decide(vad.levels_db(windows))
    assert speech[20:60].all() and not speech[:18].any() and not speech[62:].any()


@pytest.mark.parametrize("start", [-900, -5, 0, 3, 990])
def test_cut_windows_pads_with_zeros(start: int) -> None:
    x = np.arange(1, 1001, dtype=np.float32)
    w = cut_windows(x, np.array([start]), 64)[0]
    for k in range(64):
        j = start + k
        assert w[k] == (x[j] if 0 <= j < 1000 else 0)
