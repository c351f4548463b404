"""``dyadlab infer`` on Dask workers: the same predictions as in this process, each worker loads the model
once for all its chunks, and only the client writes the store."""

from __future__ import annotations

import numpy as np

from dyadlab.core.cli.main import main
from dyadlab.core.engine import EngineSpec, open_engine
from dyadlab.core.inference.batch import fill_sessions
from dyadlab.core.inference.predictions import PredictionCache

from .conftest import register


def test_a_local_cluster_predicts_what_the_in_process_path_predicts(project, ids, audio_checkpoint) -> None:
    here, there = register(project, audio_checkpoint), register(project, audio_checkpoint)
    session = ids["demo01"]
    with PredictionCache(project, here) as cache:
        assert cache.fill(session) == 400
    with PredictionCache(project, there) as cache, open_engine(EngineSpec("local-cluster", 2)) as engine:
        progress: list[float] = []
        computed = fill_sessions(cache, [session], engine, chunk_frames=50,
                                 progress=lambda done, total, message: progress.append(done / total))
        loads = engine.client.run(lambda: __import__("dyadlab.core.engine.worker_cache", fromlist=["x"]).loads)
        assert computed == 400 and progress[-1] == 1.0
        assert fill_sessions(cache, [session], engine) == 0  # everything cached: nothing sent
    runner_loads = [n for per_worker in loads.values() for key, n in per_worker.items() if key[0] == "runner"]
    assert runner_loads and set(runner_loads) == {1}  # 8 chunks, the model loaded once per worker
    for who in ("demo01/A", "demo01/B"):
        with PredictionCache(project, here) as a, PredictionCache(project, there) as b:
            ra, rb = a.read(session, ids[who]), b.read(session, ids[who])
        assert rb.known.all() and np.array_equal(ra.valid, rb.valid)
        np.testing.assert_allclose(rb.probs[rb.valid], ra.probs[ra.valid], atol=1e-6)


def test_infer_takes_the_engine_options(project, audio_model, capsys) -> None:
    code = main(["infer", str(project.root), "--model", str(audio_model), "--sessions", "demo02", "--workers", "2",
                 "--scheduler", "tcp://127.0.0.1:1", "--quiet"])
    assert code == 1 and "choose one of --scheduler / --workers" in capsys.readouterr().err
