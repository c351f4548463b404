"""The demo experiment's bars (``bench/demo_experiment.py``'s core): slow, about ten minutes on 2 cores.

The benchmark's corpus (5 sessions × 30 s: shorter sessions leave the audio models too few speech frames of
too few utterances to learn from — at 16 s the raw-audio CNN scores 0.5) with smaller face crops (32 px
instead of the benchmark's 64) runs every thesis experiment through ``dyadlab train`` and checks each bar.
The ComParE MLP meets its bar through its speaker-invariant feature selection (``model.select`` in the
shipped config; see the README's Training section); with every ComParE dimension it scored ~0.8.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400),
              pytest.mark.filterwarnings("ignore::dyadlab.trainer.metrics.MissingClassWarning")]
BENCH = Path(__file__).resolve().parents[2] / "bench" / "demo_experiment.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_experiment", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bars(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    bench = _bench()
    result = bench.run_experiment(tmp_path_factory.mktemp("demo_experiment"), sessions=5, seconds=30.0,
                                  face_size=32, threads=1, log=lambda message: None)
    print(bench.format_report(result, bench.check_bars(result)))
    return {bar.model: bar for bar in bench.check_bars(result)}


@pytest.mark.parametrize("model", ["raw_audio_cnn", "compare_mlp", "face_cnn"])
def test_single_modality_models_reach_utterance_ua_090(bars, model: str) -> None:
    bar = bars[model]
    assert bar.passed, f"{bar.name}: {bar.value:.3f}"


def test_late_fusion_is_at_least_the_best_branch(bars) -> None:
    bar = bars["fusion_late"]
    assert bar.passed, f"{bar.name}: {bar.value:.3f} < {bar.threshold:.3f}"


@pytest.mark.parametrize("model", ["raw_audio_cnn_lstm", "compare_mlp_lstm", "face_cnn_lstm"])
def test_recurrent_models_match_their_frame_models_at_frame_level(bars, model: str) -> None:
    bar = bars[model]
    assert bar.passed, f"{bar.name}: {bar.value:.3f} < {bar.threshold:.3f}"
