"""``dyadlab infer --export FILE`` refuses a file it could not write before it computes any prediction.

It computed every frame of the sessions (minutes on a corpus) and only then said the suffix was wrong (U9-1).
The rule is ``check_export_path``, which ``export_predictions`` applies too: one rule for both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.inference.predictions import PredictionCache


def _nothing_predicted(project, ids, model_id: int) -> bool:
    with PredictionCache(project, model_id) as cache:
        return not any(cache.read(ids["demo01"], ids[f"demo01/{who}"]).known.any() for who in "AB")


@pytest.mark.parametrize(("name", "says"), [
    ("out.xyz", "cannot export predictions as .xyz (name the file .csv or .parquet)"),
    ("out", "cannot export predictions as a file without suffix (name the file .csv or .parquet)"),
    ("taken.txt/out.csv", "is a file, not a folder"),
    ("folder.csv", "is a folder, not a file"),
])
def test_a_file_the_export_cannot_write_is_refused_before_any_prediction(project, ids, audio_model, tmp_path: Path,
                                                                          capsys, name: str, says: str) -> None:
    (tmp_path / "taken.txt").write_text("not a folder", encoding="utf-8")
    (tmp_path / "folder.csv").mkdir()
    out = tmp_path / name
    code = main(["infer", str(project.root), "--model", str(audio_model), "--sessions", "demo01", "--export",
                 str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith(f"dyadlab infer: error: {out}: ") and says in captured.err, captured.err
    assert "frames computed" not in captured.out and "Traceback" not in captured.err
    assert _nothing_predicted(project, ids, audio_model)  # refused at once: the model never ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.csv", "taken.txt"]  # and nothing written
