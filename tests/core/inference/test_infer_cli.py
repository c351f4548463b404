"""``dyadlab infer``: fills the prediction cache for whole sessions, writes utterance segments and exports."""

from __future__ import annotations

import pandas as pd

from dyadlab.core.cli.main import main
from dyadlab.core.inference.export import EXPORT_COLUMNS
from dyadlab.core.inference.predictions import PredictionCache


def test_infer_fills_the_cache_and_exports_long_format_probabilities(project, ids, audio_model, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    code = main(["infer", str(project.root), "--model", str(audio_model), "--sessions", "demo01", "--export",
                 str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "400 frames computed" in printed and "utterance segments" in printed
    table = pd.read_csv(out)
    assert list(table.columns) == EXPORT_COLUMNS
    assert len(table) == 2 * 200 * 4  # participants x frames x classes
    assert set(table["session"]) == {"demo01"} and set(table["participant"]) == {"A", "B"}
    assert set(table["status"]) == {"predicted"} and table["model_id"].eq(audio_model).all()
    sums = table.groupby(["participant", "frame"])["probability"].sum()
    assert ((sums - 1.0).abs() < 1e-4).all()
    first = table[(table.participant == "A") & (table.frame == 1)]
    assert first["time_s"].iloc[0] == 0.04 and list(first["class"]) == ["neutral", "happy", "sad", "angry"]
    with PredictionCache(project, audio_model) as cache:
        assert cache.read(ids["demo01"], ids["demo01/B"]).known.all()
    again = main(["infer", str(project.root), "--model", str(audio_model), "--sessions", "demo01", "--export",
                  str(tmp_path / "p.parquet"), "--quiet"])
    assert again == 0 and "0 frames computed" in capsys.readouterr().out
    assert len(pd.read_parquet(tmp_path / "p.parquet")) == len(table)


def test_infer_reports_an_unknown_model_cleanly(project, capsys):
    assert main(["infer", str(project.root), "--model", "4242", "--quiet"]) == 1
    assert "no model 4242" in capsys.readouterr().err
