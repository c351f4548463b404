"""Fixtures for the inference tests: one analysed demo corpus and tiny models trained on its features.

The corpus (2 sessions × 8 s: demo01 at 25 fps, demo02 at 29.97 fps) is generated and analysed for faces
and audio once per test run (~35 s on one core). Models are trained here through the trainer's Python API
on the cached features (``ProjectFrameSource``) — a raw-audio CNN (a few epochs) and a face CNN + LSTM on 32 px crops (one epoch) —
and registered with ``ModelRepository.add`` + ``model_record_fields`` (``register_checkpoint``). Tests write
predictions, so each one that needs a clean cache registers its own copy of a model (a new model id).
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

DEMO = {"sessions": 2, "seconds": 8.0, "seed": 3}
FACE_SIZE = 32
_versions = itertools.count(1)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dyadlab.core.demo import generate_demo
    from dyadlab.core.features import analyze_project

    root = tmp_path_factory.mktemp("inference") / "project"
    with generate_demo(root, **DEMO) as project:
        summary = analyze_project(project, what=("faces", "audio"), workers=1)
        assert not summary.failed
    return root


@pytest.fixture(scope="session")
def project(demo_root: Path):
    from dyadlab.core.project import open_project

    p = open_project(demo_root)
    yield p
    p.close()


def feature_table(project, modalities: list[str], face_size: int = FACE_SIZE):
    """The trainer's ``FrameTable`` of the project (gold labels), face crops scaled to ``face_size`` px."""
    import cv2

    from dyadlab.trainer.project_source import ProjectFrameSource

    table = ProjectFrameSource(project.root).load(modalities)
    if "face" in modalities:
        crops = table.inputs["face"]
        table.inputs["face"] = np.stack([cv2.resize(np.asarray(crops[i]), (face_size, face_size),
                                                    interpolation=cv2.INTER_AREA) for i in range(len(table))])
    return table


def train_checkpoint(table, config, path: Path, *, epochs: int, name: str, every: int = 1) -> Path:
    """Train ``config`` on every ``every``-th labelled frame of ``table`` and save a DyadLab checkpoint."""
    from dyadlab.trainer.augment import Augmenter
    from dyadlab.trainer.checkpoint import input_spec, normalization_metadata, save_checkpoint, sequence_spec
    from dyadlab.trainer.config import AugmentConfig
    from dyadlab.trainer.datasets import FrameDataset, SequenceDataset, make_loader
    from dyadlab.trainer.distributed import DistInfo
    from dyadlab.trainer.engine import recalibrate_batchnorm, train_one_epoch
    from dyadlab.trainer.models import build_model

    torch.manual_seed(0)
    cpu = torch.device("cpu")
    modalities = config.modalities()
    model = build_model(config, len(table.classes), {m: table.sample_shape(m) for m in modalities})
    rows = np.arange(0, len(table), every)
    seq = config.sequence
    dataset = (SequenceDataset(table, rows, modalities, seq.steps, seq.stride, seq.start) if seq.cell != "none"
               else FrameDataset(table, rows, modalities))
    loader = make_loader(dataset, 32, train=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        train_one_epoch(model, loader, optimizer=optimizer, loss_fn=torch.nn.CrossEntropyLoss(), device=cpu,
                        amp_dtype=None, scaler=torch.amp.GradScaler("cpu", enabled=False),
                        augmenter=Augmenter(AugmentConfig()), info=DistInfo())
    recalibrate_batchnorm(model, loader, device=cpu, amp_dtype=None, info=DistInfo(), max_batches=20)
    meta = {"name": name, "kind": "emotion-classifier", "model": dataclasses.asdict(config),
            "classes": list(table.classes), "scheme": table.scheme, "inputs": input_spec(table, modalities),
            "sequence": sequence_spec(config), "normalization": normalization_metadata(model), "metrics": {}}
    return save_checkpoint(path, model.eval(), meta)


@pytest.fixture(scope="session")
def audio_checkpoint(project) -> Path:
    from dyadlab.trainer.config import ModelConfig

    table = feature_table(project, ["audio_raw"])
    return train_checkpoint(table, ModelConfig(kind="raw_audio_cnn", input="audio_raw"),
                            project.root / "models" / "audio.pt", epochs=3, name="audio-cnn", every=2)


@pytest.fixture(scope="session")
def face_lstm_checkpoint(project) -> Path:
    from dyadlab.trainer.config import ModelConfig, SequenceConfig

    table = feature_table(project, ["face"])
    config = ModelConfig(kind="face_cnn", input="face", embedding_dim=32,
                         sequence=SequenceConfig(cell="lstm", hidden=16, steps=10, stride=2))
    return train_checkpoint(table, config, project.root / "models" / "face_lstm.pt", epochs=1, name="face-lstm",
                            every=4)


def register(project, checkpoint: Path, **kwargs) -> int:
    """A new registration of ``checkpoint`` (its own model id, so its own prediction cache)."""
    from dyadlab.core.inference.loader import register_checkpoint

    return register_checkpoint(project, checkpoint, version=kwargs.pop("version", f"v{next(_versions)}"),
                               **kwargs).id


@pytest.fixture
def register_model(project):
    """``register_model(checkpoint, **kwargs) -> model id`` in the shared project."""
    return lambda checkpoint, **kwargs: register(project, checkpoint, **kwargs)


@pytest.fixture
def audio_model(project, audio_checkpoint) -> int:
    return register(project, audio_checkpoint)


@pytest.fixture
def face_model(project, face_lstm_checkpoint) -> int:
    return register(project, face_lstm_checkpoint)


@pytest.fixture(scope="session")
def nan_checkpoint(audio_checkpoint) -> Path:
    """The audio model with a NaN in its classifier: every output is NaN."""
    from dyadlab.trainer.checkpoint import read_checkpoint

    payload = read_checkpoint(audio_checkpoint)
    payload["model_state"]["classifier.bias"][0] = float("nan")
    path = audio_checkpoint.with_name("nan.pt")
    torch.save(payload, path)
    return path


@pytest.fixture(scope="session")
def ids(project) -> dict[str, int]:
    """Ids of the demo's sessions and participants: ``{"demo01": id, "demo01/A": id, ...}``."""
    out = {}
    with project.store.transaction() as tx:
        for s in tx.sessions.list():
            out[s.name] = s.id
            for p in tx.participants.list(s.id):
                out[f"{s.name}/{p.code}"] = p.id
    return out
