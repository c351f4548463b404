"""DyadLab trainer: datasets, models, training loop, metrics, checkpoints and DDP for emotion models.

Why a separate package: training is always its own OS process (``python -m dyadlab.trainer train ...``,
or under ``torchrun``) that reports JSON-lines progress and an atomic status file, so the GUI only
launches, watches and cancels it. It imports torch and nothing from Qt.

This ``__init__`` imports nothing heavy on purpose: ``dyadlab.trainer.cli`` (argument parsing the
``dyadlab`` CLI will reuse) must load without torch so that ``dyadlab --help`` stays instant. Import the
submodules you need (``dyadlab.trainer.data``, ``.models``, ``.metrics``, ``.checkpoint``, ...).
"""
