"""``dyadlab infer --export FILE --per utterance``: one row per utterance x class, each the mean of the
utterance's frame probabilities (checked against the per-frame export of the same run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.inference.export import EXPORT_COLUMNS, UTTERANCE_COLUMNS


def test_per_utterance_export_is_the_mean_of_each_utterances_frames(project, audio_model, tmp_path, capsys):
    frames_file, utterances_file = tmp_path / "frames.csv", tmp_path / "utterances.parquet"
    args = ["infer", str(project.root), "--model", str(audio_model), "--sessions", "demo01", "--quiet"]
    assert main([*args, "--export", str(frames_file)]) == 0
    assert main([*args, "--export", str(utterances_file), "--per", "utterance"]) == 0
    assert "exported per-utterance probabilities" in capsys.readouterr().out
    frames, utterances = pd.read_csv(frames_file), pd.read_parquet(utterances_file)
    assert list(frames.columns) == EXPORT_COLUMNS and list(utterances.columns) == UTTERANCE_COLUMNS
    with project.store.transaction() as tx:
        session = next(s for s in tx.sessions.list() if s.name == "demo01")
        codes = {p.id: p.code for p in tx.participants.list(session.id)}
        stored = [(codes[u.participant_id], u.name) for u in tx.utterances.list(session.id)]
    assert stored and sorted(set(zip(utterances.participant, utterances.utterance, strict=True))) == sorted(stored)
    classes = ["neutral", "happy", "sad", "angry"]
    for (who, _name), rows in utterances.groupby(["participant", "utterance"]):
        assert list(rows["class"]) == classes
        start, end = rows["start_s"].iloc[0], rows["end_s"].iloc[0]
        own = frames[(frames.participant == who) & (frames.status == "predicted")
                     & (frames.time_s >= start - 1e-9) & (frames.time_s < end - 1e-9)]
        assert rows["n_frames"].iloc[0] == len(own) // len(classes) > 0
        expected = own.groupby("class")["probability"].mean().reindex(classes).to_numpy()
        np.testing.assert_allclose(rows["probability"].to_numpy(), expected, atol=1e-6)


def test_export_refuses_an_unknown_level_and_writes_nothing(project, ids, audio_model, tmp_path):
    from dyadlab.core.inference.errors import InferenceError
    from dyadlab.core.inference.export import export_predictions
    from dyadlab.core.inference.predictions import PredictionCache

    out = tmp_path / "x.csv"
    with PredictionCache(project, audio_model) as cache, pytest.raises(InferenceError, match="per 'word'"):
        export_predictions(cache, [ids["demo01"]], out, per="word")
    assert not out.exists()
