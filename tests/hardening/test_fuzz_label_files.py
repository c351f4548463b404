"""ELAN, Praat and table label files, damaged: imported whole, or refused with nothing written.

Seeds are DyadLab's own exports of a small session (categorical and dimensional tiers, confidence
companions), so a mutation starts from a file that round-trips. Each damaged file is imported back into
the same session replacing its tiers — the path a user takes after editing labels in ELAN or Praat.
(``tests/core/interop/test_label_import_fuzz.py`` fuzzes names and numbers inside these formats; this
suite adds the generic damage every reader gets: re-encodings, field swaps, garbage lines, huge numbers.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .fuzzing import MUTATIONS, PROFILES, fuzz, import_outcome, mutated
from .seeds import build_label_project

FORMATS = {"eaf": ".eaf", "textgrid": ".TextGrid", "csv": ".csv", "parquet": ".parquet"}
# A Parquet file is binary: text-shaped mutations (lines, fields) mean nothing to it.
BINARY_MUTATIONS = ("truncate", "flip", "non_utf8")


@pytest.fixture(scope="module")
def label_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The exported bytes of session S1 in every importable format."""
    from dyadlab.core.io.label_files.label_formats import export_labels

    root = tmp_path_factory.mktemp("label-seeds")
    with build_label_project(root / "project") as project:
        out: dict[str, bytes] = {}
        for fmt, suffix in FORMATS.items():
            files = export_labels(project, fmt, root / fmt)
            main = next(f for f in files if f.name.endswith(suffix) and not f.name.endswith(".traces.csv")
                        and "label_matrices" not in f.parts)
            out[fmt] = main.read_bytes()
    return out


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_damaged_label_file_imports_whole_or_not_at_all(fmt: str, profile: str, label_exports: dict[str, bytes],
                                                        tmp_path: Path) -> None:
    from dyadlab.core.io.label_files.label_formats import import_label_file

    with build_label_project(tmp_path / "project") as project:
        path = tmp_path / f"S1{FORMATS[fmt]}"

        def do_import() -> object:
            return import_label_file(project, path, fmt=fmt, session="S1", on_existing="replace")

        path.write_bytes(label_exports[fmt])
        do_import()

        def check(data: bytes) -> None:
            path.write_bytes(data)
            import_outcome(project.db_file, do_import)

        kinds = BINARY_MUTATIONS if fmt == "parquet" else MUTATIONS
        fuzz(profile, mutated(label_exports[fmt], kinds=kinds), check, ci_examples=100)
