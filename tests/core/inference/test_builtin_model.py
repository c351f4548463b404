"""The shipped face-expression model is registered read-only in every project and runs wherever a registered
model runs: batch ``dyadlab infer``, the live worker, the inspector and proposals.

It needs ``make setup``'s converted file (``resources/models/face_expression_fer2013.pt``). The test suite
switches builtin registration off (tests/conftest.py); these tests switch it on.
"""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.errors import ModelRegistryError
from dyadlab.core.inference.builtin import BUILTIN_ENV, builtin_models
from dyadlab.core.project import create_project, open_project


@pytest.fixture
def builtin_on(monkeypatch):
    monkeypatch.setenv(BUILTIN_ENV, "1")


def _builtin_records(project):
    with project.store.transaction() as tx:
        return [r for r in tx.models.list() if r.kind == "pretrained"]


@pytest.fixture
def builtin_model(project, builtin_on) -> int:
    """The shared analysed demo project reopened with builtin registration on: the shipped model's id."""
    with open_project(project.root) as reopened:
        (record,) = _builtin_records(reopened)
    return record.id


def test_every_new_project_lists_the_pretrained_model_once_and_read_only(tmp_path, builtin_on, capsys):
    from dyadlab.core.inference.registry import plan_deletion, rename_model

    assert builtin_models()[0].path.is_file(), "run `make setup`: it installs the pretrained model"
    with create_project(tmp_path / "fresh") as project:
        (record,) = _builtin_records(project)
    with open_project(tmp_path / "fresh") as project:  # opening again adds nothing
        assert _builtin_records(project) == [record]
        with project.store.transaction() as tx:
            assert tx.schemes.get(record.scheme_id).name == "emotion-4class"
        with pytest.raises(ModelRegistryError, match="read-only"):
            rename_model(project, record.id, "mine")
        with pytest.raises(ModelRegistryError, match="read-only"):
            plan_deletion(project, record.id)
    assert main(["models", str(tmp_path / "fresh")]) == 0
    listed = capsys.readouterr().out
    assert "face-expression-fer2013" in listed and "(missing)" not in listed and "pretrained on FER2013" in listed


def test_switched_off_no_model_is_registered(tmp_path, monkeypatch):
    monkeypatch.setenv(BUILTIN_ENV, "0")
    with create_project(tmp_path / "plain") as project:
        assert _builtin_records(project) == []


def test_batch_infer_live_inspector_and_proposals_run_it(project, ids, builtin_model, capsys):
    from dyadlab.core.inference.assist import propose
    from dyadlab.core.inference.inspect import inspect_model
    from dyadlab.core.inference.live import LiveInferenceWorker
    from dyadlab.core.inference.predictions import PredictionCache

    code = main(["infer", str(project.root), "--model", str(builtin_model), "--sessions", "demo01", "--quiet"])
    assert code == 0, capsys.readouterr()
    with PredictionCache(project, builtin_model) as cache:
        rows = cache.read(ids["demo01"], ids["demo01/A"])
    assert rows.known.all()
    valid = np.isfinite(rows.probs).all(axis=1)
    assert valid.mean() > 0.9  # the demo's drawn faces are found on (nearly) every frame
    assert np.allclose(rows.probs[valid].sum(axis=1), 1.0, atol=1e-4)

    results, errors = [], []
    with LiveInferenceWorker(project, ids["demo02"], [builtin_model], on_result=results.append,
                             on_error=lambda m, e: errors.append(e)) as worker:
        worker.submit(2_000_000)
        assert worker.wait_idle(120)
    assert errors == [] and results
    assert {p.label for p in results[0].predictions} <= {"neutral", "happy", "sad", "angry"}
    assert all(p.probs is not None for p in results[0].predictions)

    inspection = inspect_model(project, builtin_model, sessions=[ids["demo01"]])
    assert inspection.frame.confusion.shape == (4, 4) and inspection.frame.confusion.sum() > 0
    assert propose(project, builtin_model, ids["demo01"], "carol")


def test_an_installation_without_the_shipped_files_opens_projects_without_it(tmp_path, builtin_on, monkeypatch):
    from dyadlab.core.inference import builtin

    monkeypatch.setattr(builtin, "models_dir", lambda: tmp_path / "no-models")  # a bundle built without them
    assert builtin.builtin_models() == []
    with create_project(tmp_path / "bare") as project:
        assert _builtin_records(project) == []
