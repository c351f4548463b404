"""Live faces against the analysis: what a model sees live must be what it was trained on.

Live inference computes faces from the media frame after frame, skipping face mesh on most frames
(``faces.LandmarkFlow`` carries the landmarks by the head's motion); training used the crops of
``dyadlab analyze`` (face mesh on one frame in ``faces.ANALYSIS_MESH_EVERY``, starting from a detection at each
chunk; its flow against meshing every frame: tests/core/features/test_face_tracking.py). On the analysed demo
both must find the face on the same frames and put the eyes — which place the crop — at the same place.
"""

from __future__ import annotations

import numpy as np

from dyadlab.core.features.alignment import AlignmentSpec, apply_affine
from dyadlab.core.features.cache import FeatureStore
from dyadlab.core.inference.inputs import InputProvider
from dyadlab.core.inference.loader import ModelInput


def eyes_in_view(affine: np.ndarray) -> np.ndarray:
    """[n, 2 eyes, 2] view pixels of the crop's canonical eyes under each view -> crop transform."""
    canonical = AlignmentSpec().canonical_eyes()
    out = np.empty((len(affine), 2, 2))
    for k, m in enumerate(affine):
        inverse = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
        out[k] = apply_affine(inverse, canonical)
    return out


def test_live_crops_are_placed_where_the_analysis_placed_them_with_the_mesh_skipped_on_most_frames(project, ids):
    from dyadlab.core.features import faces

    sid = ids["demo01"]
    spec = ModelInput("face", "image", (224, 224, 3))
    with InputProvider(project, use_cache=False) as live:
        for code in ("A", "B"):
            pid = ids[f"demo01/{code}"]
            inputs = live.participant(sid, pid)
            n = len(inputs.timeline)
            valid = np.zeros(n, bool)
            affine = np.zeros((n, 2, 3))
            for f in range(n):  # one frame at a time, as playback asks
                _, ok = inputs.inputs(spec, np.array([f]))
                valid[f] = ok[0]
                affine[f] = inputs._lru.take(("face", f)).affine
            stored = FeatureStore(project)
            analysed = stored.load(sid, pid, "faces").valid
            assert valid.tolist() == np.asarray(analysed).tolist()  # faces found on the same frames
            assert valid.all()  # the demo's faces are always found
            cached = np.asarray(stored.load(sid, pid, "face_affine").data)
            error = np.abs(eyes_in_view(affine) - eyes_in_view(cached)).max(axis=(1, 2))
            assert np.mean(error <= 2.0) >= 0.99, f"{code}: eyes off by > 2 px on frames {np.flatnonzero(error > 2)}"
            assert error.max() <= 4.0
            finder = inputs._finder
            assert finder.mesh_every == faces.DEFAULT_FACE_PARAMS["mesh_every"] > 1  # not analysed: the default
            assert finder.carried > 0.5 * n  # most frames went without a face mesh
            assert finder.detections <= n // faces.TRACK_REDETECT_FRAMES + 3


def test_live_faces_mesh_as_often_as_the_projects_analysis_did(tmp_path):
    """A project analysed with face param ``mesh_every`` 1 (``dyadlab analyze --mesh-every 1``) meshes every
    frame live too: live crops are computed with the analysis's parameters (here because a view was moved
    after the analysis, so its cached crops no longer fit the frame times)."""
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project

    with generate_demo(tmp_path / "project", sessions=1, seconds=5.0, seed=5) as project:
        analyze_project(project, what=("faces",), params={"faces": {"mesh_every": 1}}, workers=1)
        with project.store.transaction() as tx:
            session = tx.sessions.list()[0]
            views = [v for v in tx.views.list(session.id) if v.participant_id is not None]
            for view in views:
                tx.views.update(view.id, offset_us=view.offset_us + 40_000)
        spec = ModelInput("face", "image", (64, 64, 3))
        with InputProvider(project) as live:
            inputs = live.participant(session.id, views[0].participant_id)
            for f in range(8):
                inputs.inputs(spec, np.array([f]))
            assert inputs.stats["face:computed"] == 8 and not inputs.stats["face:cache"]
            assert inputs._finder.mesh_every == 1
            assert inputs._finder.carried == 0  # face mesh on every frame, as analysed


def test_a_participants_faces_are_found_by_one_thread_at_a_time_while_the_next_frame_is_prefetched(
        project, ids, face_model, monkeypatch):
    """A recurrent model's step asks for earlier frames while the worker looks for the next frame's faces in
    the background: both use the participant's face mesh and track, which take one frame at a time."""
    import threading
    import time

    from dyadlab.core.features.faces import ParticipantFaceFinder
    from dyadlab.core.inference.live import LiveInferenceWorker

    inside: dict[int, int] = {}
    overlaps, guard = [], threading.Lock()
    observe = ParticipantFaceFinder.observe

    def one_at_a_time(self, rgb, frame=None):
        with guard:
            inside[id(self)] = inside.get(id(self), 0) + 1
            overlaps.append(inside[id(self)] > 1)
        try:
            time.sleep(0.005)  # widen the window in which a second thread could come in
            return observe(self, rgb, frame)
        finally:
            with guard:
                inside[id(self)] -= 1

    monkeypatch.setattr(ParticipantFaceFinder, "observe", one_at_a_time)
    sid, results, errors = ids["demo01"], [], []
    with InputProvider(project, use_cache=False) as provider, \
            LiveInferenceWorker(project, sid, [face_model], on_result=results.append,
                                on_error=lambda mid, message: errors.append(message), use_cache=False,
                                device="cpu", runtime="torch", provider=provider) as worker:
        for t in (k * 40_000 for k in (60, 61, 62, 120)):  # a recurrent step needs 9 earlier frames each time
            worker.submit(t)
            assert worker.wait_idle(60)
    assert errors == [] and len(results) == 4
    assert all(p.valid for r in results for p in r.predictions)
    assert len(overlaps) > 40 and not any(overlaps)


def test_a_frame_already_found_is_served_while_another_thread_finds_the_next(project, ids, monkeypatch):
    """The live step reads its own frame (found first) while the background search is in the next one."""
    import threading

    from dyadlab.core.features.faces import ParticipantFaceFinder

    sid, pid = ids["demo01"], ids["demo01/A"]
    spec = ModelInput("face", "image", (64, 64, 3))
    with InputProvider(project, use_cache=False) as provider:
        inputs = provider.participant(sid, pid)
        inputs.inputs(spec, np.array([10]))
        inside, release, timed_out = threading.Event(), threading.Event(), []
        observe = ParticipantFaceFinder.observe

        def held(self, rgb, frame=None):
            inside.set()
            timed_out.append(not release.wait(20))  # until the main thread has its frame: it must not wait for us
            return observe(self, rgb, frame)

        monkeypatch.setattr(ParticipantFaceFinder, "observe", held)
        search = threading.Thread(target=inputs.inputs, args=(spec, np.array([11])))
        search.start()
        assert inside.wait(20)
        crops, valid = inputs.inputs(spec, np.array([10]))
        boxes = inputs.boxes(np.array([10, 11]))
        release.set()
        search.join(30)
        assert timed_out == [False]
        assert valid[0] and crops[0].any() and np.isfinite(boxes[0]).all()
        assert np.isfinite(inputs.boxes(np.array([11]))).all()  # found by the other thread meanwhile
