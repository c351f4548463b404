"""What a process pays before its first face or audio feature (each analysis worker pays it once): the
face models come without matplotlib (mediapipe's drawing helpers import pyplot), and openSMILE's first
extractor does not map every installed distribution's files (audobject naming the package)."""

from __future__ import annotations

import subprocess
import sys

FRESH_PROCESS = """
import sys
from audobject.core import utils
scans = []
real = utils.packages_distributions
utils.packages_distributions = lambda: scans.append(1) or real()
import numpy as np
from dyadlab.core.features.audio_features import SmileFunctionals
from dyadlab.core.features.faces import MediaPipeFaces
faces = MediaPipeFaces()
found = faces.detect(np.zeros((120, 160, 3), np.uint8))
faces.close()
SmileFunctionals("egemaps").run(np.zeros(16000, np.float32), 16000, np.array([0]), np.array([1600]))
print("matplotlib" in sys.modules, len(scans), len(found[0]))
import matplotlib.pyplot  # the real one, when someone wants it later
print(callable(matplotlib.pyplot.figure))
"""


def test_face_models_and_opensmile_load_without_matplotlib_or_a_scan_of_every_distribution() -> None:
    out = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "0", "0", "True"]


RACING_THREADS = """
import threading
from dyadlab.core.features.mediapipe_import import import_mediapipe
seen, errors = [], []
def ask():
    try:
        seen.append(import_mediapipe().solutions.face_mesh.FaceMesh is not None)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=ask) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(seen.count(True), errors)
"""


def test_threads_asking_at_once_all_get_the_whole_module() -> None:
    """Threads that ask while the first one imports wait for it: none gets a half-initialised mediapipe."""
    out = subprocess.run([sys.executable, "-c", RACING_THREADS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "4 []"
