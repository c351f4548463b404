"""A registered audio model trained on an analysed demo project's gold: what the GUI tests of live inference,
proposals, prediction export and the annotation-day scenario open.

Why one recipe: those tests need the same thing (a model the Proposals and Live panels can run), built with the
inference tests' own recipe (``tests/core/inference/conftest.py``: ``feature_table``, ``train_checkpoint``,
``register``), loaded by path so the recipe lives in one place. The analysed corpora it is trained on are
session fixtures of ``tests/conftest.py`` (built once per run, copied before training). Import it relatively
(``from ..builders.model_project import train_audio_model``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

# The corpus of ``audio_analysed_pair`` (tests/conftest.py): the trainer's project tests check the labels they
# read against its timeline plan.
AUDIO_PAIR = {"sessions": 2, "seconds": 8.0, "seed": 5}


def inference_recipes() -> ModuleType:
    path = Path(__file__).parents[1] / "core" / "inference" / "conftest.py"
    spec = importlib.util.spec_from_file_location("inference_model_recipes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_audio_model(root: Path, *, epochs: int) -> int:
    """Train a raw-audio CNN on the gold of the analysed project at ``root`` and register it; returns the model
    id."""
    from dyadlab.core.project import open_project
    from dyadlab.trainer.config import ModelConfig

    recipes = inference_recipes()
    with open_project(root) as project:
        table = recipes.feature_table(project, ["audio_raw"])
        checkpoint = recipes.train_checkpoint(table, ModelConfig(kind="raw_audio_cnn", input="audio_raw"),
                                              root / "models" / "audio.pt", epochs=epochs, name="audio-cnn")
        return recipes.register(project, checkpoint, version="v1")

