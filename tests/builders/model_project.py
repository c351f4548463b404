"""A small analysed demo project with a registered audio model trained on its gold: what the GUI tests of
live inference, proposals and the annotation-day scenario open.

Why one builder: the live-inference tests and the annotation-day scenario need the same thing (a model the
Proposals and Live panels can run), built with the inference tests' own recipe (``tests/core/inference/
conftest.py``: ``feature_table``, ``train_checkpoint``, ``register``), loaded by path so the recipe lives in
one place. Import it relatively (``from ..builders.model_project import build_model_project``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def inference_recipes() -> ModuleType:
    path = Path(__file__).parents[1] / "core" / "inference" / "conftest.py"
    spec = importlib.util.spec_from_file_location("inference_model_recipes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_model_project(root: Path, *, sessions: int, seconds: float, seed: int,
                        what: tuple[str, ...] = ("faces", "audio"), epochs: int = 6) -> int:
    """Generate the demo corpus at ``root``, analyse it, train a raw-audio CNN on its gold and register it;
    returns the model id."""
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project
    from dyadlab.trainer.config import ModelConfig

    recipes = inference_recipes()
    with generate_demo(root, sessions=sessions, seconds=seconds, seed=seed) as project:
        assert not analyze_project(project, what=what, workers=1).failed
        table = recipes.feature_table(project, ["audio_raw"])
        checkpoint = recipes.train_checkpoint(table, ModelConfig(kind="raw_audio_cnn", input="audio_raw"),
                                              root / "models" / "audio.pt", epochs=epochs, name="audio-cnn")
        return recipes.register(project, checkpoint, version="v1")
