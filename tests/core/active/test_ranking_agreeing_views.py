"""A second model that proposes the same class as the queued one does not "disagree": the queue's reason says
how sure each is instead. It said "fer2013 disagrees (says happy; JS 0.31)" when both proposed happy (U9-2)."""

from __future__ import annotations

import numpy as np

from dyadlab.core.active.ranking import Stretch, rank

CLASSES = ("neutral", "happy", "sad", "angry")


def _why(probs, view) -> str:
    s = Stretch(1, 7, 0, 2_000_000, np.asarray(probs, float), CLASSES, views={"fer2013": np.asarray(view, float)})
    return rank([s])[0].why


def test_a_view_proposing_the_same_class_is_surer_or_less_sure_not_disagreeing():
    why = _why([0.25, 0.30, 0.25, 0.20], [0.20, 0.62, 0.10, 0.08])
    assert "fer2013 is surer of happy (62% vs 30%; JS" in why and "disagrees" not in why
    why = _why([0.05, 0.85, 0.05, 0.05], [0.30, 0.40, 0.20, 0.10])
    assert "fer2013 is less sure of happy (40% vs 85%; JS" in why and "disagrees" not in why


def test_a_view_proposing_another_class_still_disagrees_naming_it():
    why = _why([0.25, 0.30, 0.25, 0.20], [0.10, 0.10, 0.70, 0.10])
    assert "fer2013 disagrees (says sad; JS" in why
