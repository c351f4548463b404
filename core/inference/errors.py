"""Errors of model inference, as members of DyadLab's one exception hierarchy.

Why two classes: the live worker must tell a *model* that misbehaves (its forward pass raised, or it
returned NaN — disable that model, keep the others running) from a problem with the *inputs* of one frame
(a video that stopped decoding, a participant without a view — report it, keep the model).
"""

from __future__ import annotations

from dyadlab.core.errors import DyadLabError


class InferenceError(DyadLabError):
    """A model cannot be loaded or run on a session (the message names the model and the file)."""


class ModelOutputError(InferenceError):
    """The model itself failed: its forward pass raised, or it produced non-finite outputs."""
