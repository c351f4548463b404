"""The trainer's errors, as members of DyadLab's one exception hierarchy (``DyadLabError``).

Why here and not in ``core/errors.py``: only the trainer raises them, and ``core`` must not depend on
the trainer. They subclass ``DyadLabError`` so the CLI (and later the GUI) report them the same way:
the message names the file (and key), what is wrong, and the fix.
"""

from __future__ import annotations

from dyadlab.core.errors import DyadLabError


class TrainerError(DyadLabError):
    """Base class for problems found by the trainer."""


class ConfigError(TrainerError):
    """An experiment config is malformed: unknown key, wrong type, bad value, model/input mismatch."""


class DataError(TrainerError):
    """Training data is missing or inconsistent (no features yet, empty split, misaligned arrays)."""


class CheckpointError(TrainerError):
    """A checkpoint is missing, corrupt, or does not describe the model it is expected to be."""
