"""``dyadlab queue`` ranks with the same defaults as the "Next to label" panel (which passes no weights, so
``Weights()``): novelty per speaker unless ``--no-per-speaker`` asks for the raw eGeMAPS distances."""

from __future__ import annotations

import argparse

from dyadlab.core.active.ranking import Weights
from dyadlab.core.cli import queue


def weights(*extra: str) -> Weights:
    p = argparse.ArgumentParser()
    queue.add_arguments(p)
    return queue.ranking_weights(p.parse_args(["project", "--model", "3", *extra]))


def test_the_command_ranks_like_the_panel_unless_told_otherwise():
    assert weights() == Weights() and Weights().per_speaker  # novelty per speaker, as the panel ranks
    assert weights("--no-per-speaker") == Weights(per_speaker=False)
    assert weights("--novelty", "2", "--measure", "margin") == Weights(novelty=2.0, measure="margin")
