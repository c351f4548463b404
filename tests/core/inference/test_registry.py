"""The model registry's rename and delete rules, shared by ``dyadlab models`` and the Models dock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dyadlab.core.errors import ModelRegistryError
from dyadlab.core.inference.registry import delete_model, model_files, plan_deletion, rename_model
from dyadlab.core.project import Project, create_project


@pytest.fixture
def project(tmp_path: Path):
    """An empty project (this folder's conftest ``project`` trains models: far more than these tests need)."""
    p = create_project(tmp_path / "registry")
    yield p
    p.close()

def _register(project: Project, name: str, version: str = "1", *, run_dir: str | None = None) -> int:
    with project.store.transaction() as tx:
        return tx.models.add(name, version, "audio-cnn", config={"run_dir": run_dir} if run_dir else {}).id


def _with_predictions(project: Project, model_id: int) -> None:
    """One frame-level prediction series and one utterance tier of the model's annotator, as inference writes."""
    with project.store.transaction() as tx:
        record = tx.models.get(model_id)
        session = tx.sessions.add("S1", duration_us=1_000_000)
        tx.series.add("prediction", session.id, f"model:{record.name}:{record.version}", ["happy", "sad"],
                      model_id=model_id)
        annotator = tx.annotators.add(f"{record.name} {record.version}", kind="model")
        scheme = tx.schemes.by_name("emotion-4class")
        assert scheme is not None
        tier = tx.tiers.add(session.id, f"model:{record.name}", scheme_id=scheme.id, annotator_id=annotator.id,
                            kind="categorical")
        tx.segments.add(tier.id, 0, 500_000, "happy", annotator_id=annotator.id)


def test_rename_strips_and_returns_both_records(project: Project) -> None:
    model_id = _register(project, "audio")
    before, after = rename_model(project, model_id, "  audio-final ")
    assert (before.name, after.name, after.id) == ("audio", "audio-final", model_id)
    with project.store.transaction() as tx:
        assert tx.models.get(model_id).name == "audio-final"


@pytest.mark.parametrize(("name", "message"), [("   ", "the new name is empty"), ("x" * 201, "longer than 200"),
                                               ("taken", "a model named 'taken' with version 1 is already")])
def test_rename_refuses_bad_names_and_changes_nothing(project: Project, name: str, message: str) -> None:
    model_id = _register(project, "audio")
    _register(project, "taken")
    _register(project, "other", "2")
    with pytest.raises(ModelRegistryError, match=message):
        rename_model(project, model_id, name)
    with project.store.transaction() as tx:
        assert tx.models.get(model_id).name == "audio"


def test_rename_onto_a_name_with_another_version_is_fine(project: Project) -> None:
    model_id = _register(project, "audio")
    _register(project, "taken", "2")
    assert rename_model(project, model_id, "taken")[1].name == "taken"


def test_unknown_model_ids_are_refused(project: Project) -> None:
    for call in (lambda: rename_model(project, 99, "x"), lambda: plan_deletion(project, 99)):
        with pytest.raises(ModelRegistryError, match="no model #99 in this project"):
            call()


def test_delete_cascades_predictions_keeps_utterance_tiers_and_removes_run_folder(project: Project) -> None:
    run_dir = project.root / "models" / "audio-1"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({}), encoding="utf-8")
    (run_dir / "fold0.pt").write_bytes(b"weights")
    model_id = _register(project, "audio", run_dir="models/audio-1")
    keep = _register(project, "keep")
    _with_predictions(project, model_id)

    plan = plan_deletion(project, model_id)
    assert (plan.predictions, plan.kept_tiers, plan.files) == (1, 1, run_dir.resolve())
    assert plan.describe() == (f"model #{model_id} audio version 1, its 1 prediction series, its files in "
                               f"{run_dir.resolve()}; its 1 utterance prediction tier(s) (annotator 'audio 1') "
                               "are kept")
    assert run_dir.is_dir()  # planning changes nothing

    delete_model(project, plan)
    assert not run_dir.exists()
    with project.store.transaction() as tx:
        assert [r.id for r in tx.models.list()] == [keep]
        assert tx.series.list(model_id=model_id) == []
        assert tx.series.list() == []  # the cascade removed the prediction series row itself
        (tier,) = tx.tiers.list()
        assert [s.value for s in tx.segments.list(tier.id)] == ["happy"]


def test_delete_twice_is_refused_and_files_outside_the_project_are_left(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.pt"
    outside.write_bytes(b"weights")
    with project.store.transaction() as tx:
        model_id = tx.models.add("external", "1", "audio-cnn", path=str(outside)).id
    plan = plan_deletion(project, model_id)
    assert plan.files is None and model_files(project, plan.record) is None
    assert plan.describe() == f"model #{model_id} external version 1, no files (none inside the project)"
    delete_model(project, plan)
    assert outside.is_file()
    with pytest.raises(ModelRegistryError, match=f"no model #{model_id}"):
        delete_model(project, plan)  # a stale plan: another window deleted it already
