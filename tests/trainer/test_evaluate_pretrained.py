"""``dyadlab evaluate PROJECT --model ID`` on the shipped FER2013 model every project lists (found by a new user,
U9-4: its ``builtin:`` registry path was read as a file of the project, "checkpoint not found").

The shipped model predicts the thesis' 4 classes, mapped from FER2013's 7: it is scored by class name against the
project's labels (a project whose scheme lists the classes in another order gets the same score), and refused
with a sentence saying why when the labels' scheme has a class it does not predict. Needs ``make setup``'s
converted file; the corpus is the suite's analysed 1-session demo (``analysed_demo``), copied.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dyadlab.core.cli.main import main as dyadlab
from dyadlab.core.inference.builtin import BUILTIN_ENV, builtin_models
from dyadlab.core.project import open_project
from dyadlab.trainer.errors import DataError
from dyadlab.trainer.evaluation import evaluate_model, format_report

pytestmark = pytest.mark.filterwarnings("ignore::dyadlab.trainer.metrics.MissingClassWarning")  # an 8 s session


@pytest.fixture
def shipped(analysed_demo, tmp_path: Path, monkeypatch) -> tuple[Path, int]:
    """A copy of the analysed demo reopened with builtin registration on, and the shipped model's id."""
    assert builtin_models()[0].path.is_file(), "run `make setup`: it installs the pretrained model"
    root = tmp_path / "demo"
    shutil.copytree(analysed_demo[0], root)
    monkeypatch.setenv(BUILTIN_ENV, "1")
    with open_project(root) as project, project.store.transaction() as tx:
        (record,) = [r for r in tx.models.list() if r.kind == "pretrained"]
    return root, record.id


def _edit_classes(root: Path, edit: Callable[[list[dict]], list[dict]]) -> None:
    """Replace the project's emotion-4class classes (their definitions: name, key, colour) by ``edit``'s."""
    with open_project(root) as project, project.store.transaction() as tx:
        scheme = tx.schemes.by_name("emotion-4class")
        tx.schemes.update(scheme.id, definition={**scheme.definition, "classes": edit(scheme.definition["classes"])})


def _by_name(report: str) -> dict[str, object]:
    """A printed report keyed by names: each level's metrics row, and each confusion cell by (true, predicted)."""
    lines = report.splitlines()
    metrics = {line.split()[0]: line.split()[1:] for line in lines if line.startswith(("frame ", "utterance "))}
    cells = {}
    for k, line in enumerate(lines):
        if line.startswith("confusion, "):
            predicted = lines[k + 1].split()
            for row in lines[k + 2:k + 2 + len(predicted)]:
                true, *counts = row.split()
                cells.update({(line, true, p): int(n) for p, n in zip(predicted, counts, strict=True)})
    assert len(metrics) == 2 and len(cells) == 2 * 4 * 4, report
    return {"metrics": metrics, "confusion": cells}


def test_the_shipped_model_is_scored_on_the_projects_labels_by_class_name(shipped, capsys) -> None:
    root, model_id = shipped
    assert dyadlab(["evaluate", str(root), "--model", str(model_id)]) == 0
    heading, report = capsys.readouterr().out.split("\n\n", 1)
    assert f"model #{model_id} face-expression-fer2013" in heading and "face_expression_fer2013.pt" in heading
    assert "(all sessions: the model names no test groups); labels: gold/emotion (emotion-4class)" in heading
    assert report.splitlines()[1].split()[0] == "frame" and report.count("confusion,") == 2

    # the project's scheme lists the same classes in another order: the same score, class by class
    _edit_classes(root, lambda defined: defined[::-1])
    reordered = evaluate_model(root, model_id)
    printed_order = report.split("confusion, frame level")[1].splitlines()[1].split()
    assert reordered.result["frame"]["classes"] == printed_order[::-1]  # the matrices are in the new order...
    again = format_report(reordered.result)
    assert _by_name(again) == _by_name(report)  # ...with every score and count the same


def test_labels_with_a_class_the_model_does_not_predict_are_refused_saying_why(shipped) -> None:
    root, model_id = shipped
    _edit_classes(root, lambda defined: [*defined[:-1], {**defined[-1], "name": "bored"}])
    with pytest.raises(DataError, match=r"pretrained model whose own classes \['angry', 'disgust'.*"
                                        r"labels' scheme has .*'bored'"):
        evaluate_model(root, model_id)
