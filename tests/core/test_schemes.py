"""Label schemes: shipped defaults validate, bad files are reported precisely, labels map as in the thesis."""

from __future__ import annotations

from pathlib import Path

import pytest

from dyadlab.core.errors import LabelSchemeError
from dyadlab.core.labels import load_scheme_file, map_label, shipped_scheme_files


def test_shipped_schemes_load() -> None:
    loaded = {load_scheme_file(f)[0]: load_scheme_file(f) for f in shipped_scheme_files()}
    assert loaded["emotion-4class"][2]["classes"][0]["name"] == "neutral"
    assert len(loaded["mediapipe-pose"][2]["keypoints"]) == 33
    assert len(loaded["mediapipe-hand"][2]["keypoints"]) == 21


def test_each_shipped_file_is_named_after_its_scheme() -> None:
    """install_default_schemes decides from the file names which schemes a project lacks."""
    for file in shipped_scheme_files():
        assert load_scheme_file(file)[0] == file.stem


def test_four_class_mapping_follows_iemocap_convention() -> None:
    definition = load_scheme_file(next(f for f in shipped_scheme_files() if f.stem == "emotion-4class"))[2]
    assert [map_label(definition, x) for x in ["neu", "hap", "exc", "sad", "ang", "fru", "xxx"]] == [
        "neutral", "happy", "happy", "sad", "angry", None, None]
    with pytest.raises(LabelSchemeError, match="unknown label 'joy'"):
        map_label(definition, "joy")


@pytest.mark.parametrize(("text", "message"), [
    ('name = "x"\nkind = "colour"\n', "kind"),
    ('name = "x"\nkind = "categorical"\n', "classes"),
    ('name = "x"\nkind = "categorical"\n[[classes]]\nname = "a"\n[[classes]]\nname = "a"\n', "twice"),
    ('name = "x"\nkind = "categorical"\n[[classes]]\nname = "a"\n[map]\nb = "c"\n', "not a class"),
    ('name = "x"\nkind = "dimensional"\n[[dimensions]]\nname = "v"\nmin = 5\nmax = 1\n', "min < max"),
    ('name = "x"\nkind = "keypoints"\nkeypoints = ["a", "b"]\nedges = [[0, 2]]\n', "edge"),
    ('name = "x"\nkind = ', "invalid TOML"),
])
def test_bad_scheme_file_names_file_and_problem(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(LabelSchemeError, match=message) as info:
        load_scheme_file(f)
    assert str(f) in str(info.value)
