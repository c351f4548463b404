"""The synthetic dyadic demo corpus: deterministic sessions with faces, voices and gold emotion labels.

``generate_demo(out, sessions=4, seconds=60, seed=0)`` writes a ready-to-open project (see ``generator``).
The package's modules, in the order the data flows: ``timeline`` (the ground truth), ``emotions`` (how
each class looks and sounds), ``voice`` and ``animation`` + ``face_renderer`` (the media), ``media_writer``
(the files), ``catalogue`` (the store).
"""

from dyadlab.core.demo.generator import generate_demo

__all__ = ["generate_demo"]
