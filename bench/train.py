"""Training and inference throughput of every thesis model on synthetic data of the real shapes.

Why: to know what a training run costs before starting one (and to catch a slow data path). For each
model it measures, in the same run:

* ``compute``  — forward + backward + optimizer step on one batch already on the device (the reference:
  what the model itself costs);
* ``train``    — the trainer's real epoch loop (``engine.train_one_epoch``: dataset fetch, loader,
  augmentation, NaN guard) over ``--steps`` batches; ``ratio`` = train / compute throughput, i.e. the
  share of time the model computes (1.0 = the data path is free);
* ``infer``    — ``engine.predict`` (eval mode, softmax, gathering) over the same frames.

Inputs have the thesis's shapes: 1600-sample audio windows, 6373-d ComParE vectors, 224×224×3 uint8
face crops; sequence models read 10 frames every 2nd frame. Counts are small so it runs on a laptop CPU:

    python bench/train.py                 # CPU, torch's default thread count
    python bench/train.py --device cuda   # a GPU (bf16 autocast when --amp auto)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from dyadlab.trainer.augment import Augmenter
from dyadlab.trainer.config import AugmentConfig, BranchConfig, ModelConfig, SequenceConfig
from dyadlab.trainer.data import FrameTable, SyntheticFrameSource
from dyadlab.trainer.datasets import make_loader
from dyadlab.trainer.distributed import DistInfo
from dyadlab.trainer.engine import predict, resolve_amp, train_one_epoch
from dyadlab.trainer.models import build_model
from dyadlab.trainer.train import make_dataset

LSTM = SequenceConfig(cell="lstm", hidden=64, steps=10, stride=2)
BRANCHES = [BranchConfig(kind="raw_audio_cnn", input="audio_raw"), BranchConfig(kind="feature_mlp", input="compare"),
            BranchConfig(kind="face_cnn", input="face")]
MODELS: dict[str, ModelConfig] = {
    "raw_audio_cnn": ModelConfig(kind="raw_audio_cnn", input="audio_raw"),
    "raw_audio_cnn+lstm": ModelConfig(kind="raw_audio_cnn", input="audio_raw", sequence=LSTM),
    "compare_mlp": ModelConfig(kind="feature_mlp", input="compare"),
    "compare_mlp+lstm": ModelConfig(kind="feature_mlp", input="compare", sequence=LSTM),
    "face_cnn": ModelConfig(kind="face_cnn", input="face"),
    "face_cnn+lstm": ModelConfig(kind="face_cnn", input="face", sequence=LSTM),
    "fusion_late(head)": ModelConfig(kind="fusion", fusion="late", branches=BRANCHES),
    "fusion_end_to_end": ModelConfig(kind="fusion", fusion="end_to_end", branches=BRANCHES),
}


@dataclass
class Row:
    name: str
    params: int
    compute: float
    train: float
    infer: float
    seconds: float


def measure(name: str, config: ModelConfig, table: FrameTable, args: argparse.Namespace) -> Row:
    start = time.perf_counter()
    device = torch.device(args.device)
    amp = resolve_amp(args.amp, device)
    torch.manual_seed(0)
    model = build_model(config, len(table.classes), {m: table.sample_shape(m) for m in config.modalities()}).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)
    augmenter = Augmenter(AugmentConfig(audio_noise=0.05, audio_gain_db=6, face_flip=True, face_brightness=0.2))
    info = DistInfo()
    full = make_dataset(table, np.arange(len(table)), config)
    need = args.batch * (args.steps + 1)
    if len(full) < need:
        sys.exit(f"bench: {name} has {len(full)} labelled frames, needs {need}: raise --frames")
    warm = make_loader(make_dataset(table, full.rows[:args.batch], config), args.batch, train=True)
    timed = make_loader(make_dataset(table, full.rows[args.batch:need], config), args.batch, train=True)
    epoch = dict(optimizer=optimizer, loss_fn=loss_fn, device=device, amp_dtype=amp, scaler=scaler,
                 augmenter=augmenter, info=info)

    train_one_epoch(model, warm, **epoch)
    result = train_one_epoch(model, timed, **epoch)
    train_rate = result.samples / result.seconds

    batch = next(iter(timed))
    inputs = [batch["inputs"][n].to(device) for n in model.input_names]
    labels = batch["labels"].to(device)
    model.train()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            loss = loss_fn(model(*inputs).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        loss.item()
    compute_rate = args.steps * len(labels) / (time.perf_counter() - t0)

    eval_loader = make_loader(make_dataset(table, full.rows[args.batch:need], config), args.batch * 2, train=False)
    t0 = time.perf_counter()
    rows, _ = predict(model, eval_loader, device=device, amp_dtype=amp, info=info)
    infer_rate = len(rows) / (time.perf_counter() - t0)
    return Row(name, sum(p.numel() for p in model.parameters()), compute_rate, train_rate, infer_rate,
               time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--amp", default="auto", choices=["auto", "bf16", "fp16", "none"])
    parser.add_argument("--frames", type=int, default=192, help="synthetic frames to generate (default 192)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (default 16)")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per model (default 4)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--only", nargs="*", default=None, help=f"models to run (default all): {', '.join(MODELS)}")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("bench: --device cuda but no CUDA device is available")

    t0 = time.perf_counter()
    source = SyntheticFrameSource(groups=1, speakers_per_group=1, frames_per_stream=args.frames,
                                  utterance_frames=(args.frames, args.frames), gap_frames=(0, 0),
                                  invalid_face_fraction=0.0)
    table = source.load(["audio_raw", "compare", "face"])
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"data: {len(table)} frames (audio 1600, ComParE 6373, face 224x224x3) in {time.perf_counter() - t0:.1f} s; "
          f"device: {device_name}; amp: {resolve_amp(args.amp, torch.device(args.device))}; batch {args.batch}, "
          f"{args.steps} timed steps; sequences = 10 frames every 2nd")
    header = f"{'model':<20} {'params':>9} {'compute/s':>10} {'train/s':>9} {'ratio':>6} {'infer/s':>9} {'wall s':>7}"
    print(header)
    print("-" * len(header))
    for name, config in MODELS.items():
        if args.only and name not in args.only:
            continue
        r = measure(name, config, table, args)
        print(f"{r.name:<20} {r.params:>9,} {r.compute:>10.1f} {r.train:>9.1f} {r.train / r.compute:>6.2f} "
              f"{r.infer:>9.1f} {r.seconds:>7.1f}", flush=True)
    print("samples/s: one sample = one frame (per-frame models) or one 10-frame sequence (+lstm)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
