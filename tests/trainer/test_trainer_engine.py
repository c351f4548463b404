"""The inner loops: NaN guard, stop requests, mixed-precision choice, BatchNorm recalibration."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch

from dyadlab.trainer.augment import Augmenter
from dyadlab.trainer.config import AugmentConfig, ModelConfig
from dyadlab.trainer.datasets import FrameDataset, make_loader
from dyadlab.trainer.distributed import DistInfo
from dyadlab.trainer.engine import predict, recalibrate_batchnorm, resolve_amp, train_one_epoch
from dyadlab.trainer.errors import ConfigError
from dyadlab.trainer.interrupt import GracefulStop
from dyadlab.trainer.models import build_model

CPU = torch.device("cpu")


def _setup(tiny_table, kind="raw_audio_cnn", modality="audio_raw"):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, input=modality), 4, {modality: tiny_table.sample_shape(modality)})
    dataset = FrameDataset(tiny_table, np.flatnonzero(tiny_table.group != "Session3"), [modality])
    loader = make_loader(dataset, 32, train=True)
    return model, loader, torch.optim.AdamW(model.parameters(), lr=1e-3)


def _epoch(model, loader, optimizer, **kwargs):
    return train_one_epoch(model, loader, optimizer=optimizer, loss_fn=torch.nn.CrossEntropyLoss(), device=CPU,
                           amp_dtype=None, scaler=torch.amp.GradScaler("cpu", enabled=False),
                           augmenter=Augmenter(AugmentConfig()), info=DistInfo(), **kwargs)


def test_one_epoch_lowers_the_loss_and_reports_steps(tiny_table):
    model, loader, optimizer = _setup(tiny_table)
    steps = []
    first = _epoch(model, loader, optimizer, on_step=lambda s, loss, rate: steps.append(s))
    second = _epoch(model, loader, optimizer)
    assert first.stop is None and first.steps == len(loader) == len(steps) and first.samples == len(loader.dataset)
    assert second.loss < first.loss


def test_a_nan_loss_stops_before_the_weights_change(tiny_table):
    model, loader, optimizer = _setup(tiny_table, "feature_mlp", "compare")
    with torch.no_grad():
        model.classifier.bias.fill_(float("nan"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = _epoch(model, loader, optimizer)
    assert result.stop == "nan" and result.steps == 1
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) or torch.isnan(before[k]).any() for k in before)


def test_a_stop_request_ends_the_epoch_after_the_current_step(tiny_table):
    model, loader, optimizer = _setup(tiny_table)
    result = _epoch(model, loader, optimizer, stop_requested=lambda: True)
    assert result.stop == "signal" and result.steps == 1


def test_mixed_precision_choice():
    assert resolve_amp("auto", CPU) is None and resolve_amp("none", CPU) is None
    assert resolve_amp("bf16", CPU) == torch.bfloat16
    with pytest.raises(ConfigError, match="CUDA"):
        resolve_amp("fp16", CPU)


def test_batchnorm_recalibration_makes_eval_mode_agree_with_train_mode(tiny_table):
    model, loader, optimizer = _setup(tiny_table)
    _epoch(model, loader, optimizer)
    recalibrate_batchnorm(model, loader, device=CPU, amp_dtype=None, info=DistInfo(), max_batches=100)
    bn = model.features[1]
    batch = torch.from_numpy(tiny_table.inputs["audio_raw"][loader.dataset.rows])
    with torch.no_grad():
        activations = model.features[0](batch.unsqueeze(1))
    assert torch.allclose(bn.running_mean, activations.mean(dim=(0, 2)), atol=1e-3)
    assert bn.momentum == 0.1  # restored


def test_predict_returns_sorted_rows_and_probabilities(tiny_table):
    model, loader, _ = _setup(tiny_table)
    dataset = FrameDataset(tiny_table, np.flatnonzero(tiny_table.group == "Session3"), ["audio_raw"])
    rows, probs = predict(model, make_loader(dataset, 50, train=False), device=CPU, amp_dtype=None, info=DistInfo())
    assert np.array_equal(rows, dataset.rows) and probs.shape == (len(rows), 4)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)


def test_graceful_stop_turns_the_first_signal_into_a_request():
    before = signal.getsignal(signal.SIGTERM)
    with GracefulStop() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signum == signal.SIGTERM
    with GracefulStop() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.signum == signal.SIGINT
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C is not polite any more
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before
