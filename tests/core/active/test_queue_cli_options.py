"""``dyadlab queue`` refuses a ranking option out of its range, and a model compared with itself, with one error
line naming the option, before it opens the project. ``--diversity -1`` ended in a Python traceback from
``Weights`` (U9-7), and ``--compare 2 --model 2`` added a disagreement term that is always zero, silently."""

from __future__ import annotations

import pytest

from dyadlab.core.active.ranking import Weights
from dyadlab.core.cli.main import main


@pytest.mark.parametrize(("option", "value", "wanted"), [
    ("--diversity", "-1", "--diversity must lie in [0, 1], got -1"),
    ("--diversity", "1.5", "--diversity must lie in [0, 1], got 1.5"),
    ("--spacing", "0", "--spacing must be positive, got 0"),
    ("--balance", "-0.5", "--balance must not be negative, got -0.5"),
    ("--novelty", "-2", "--novelty must not be negative, got -2"),
    ("--density", "-1", "--density must not be negative, got -1"),
])
def test_an_option_out_of_range_is_one_error_line_naming_it(tmp_path, capsys, option, value, wanted):
    assert main(["queue", str(tmp_path), "--model", "2", option, value]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"dyadlab queue: error: {wanted}"
    assert "Traceback" not in err


def test_the_queued_model_as_its_own_comparison_is_refused(tmp_path, capsys):
    assert main(["queue", str(tmp_path), "--model", "2", "--compare", "1", "2"]) == 1
    err = capsys.readouterr().err
    assert "--compare 2 is the queued model itself (--model 2)" in err and "another model" in err


def test_weights_name_the_setting_that_is_wrong():
    with pytest.raises(ValueError, match=r"diversity must lie in \[0, 1\], got -1"):
        Weights(diversity=-1)
    with pytest.raises(ValueError, match="spacing_s must be positive"):
        Weights(spacing_s=0)
    with pytest.raises(ValueError, match="modalities must not be negative, got -1"):
        Weights(modalities=-1)
