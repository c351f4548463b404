"""Corpus importers fed damaged corpora: all or nothing, and only DyadLabErrors.

The text-reader fuzzers prove each parser fails cleanly; this goes one step further, through the
importer's checks, the label mapping and the single write transaction, so a value a parser accepts but
the database cannot hold (a 400-digit time, an hour count past 64 bits) is caught too. After every
failed import each table of the project has the row count it had before.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import strategies as st

from . import seeds
from .fuzzing import PROFILES, fuzz, import_outcome, mutated


def damaged_corpus(files: dict[str, bytes]) -> st.SearchStrategy[dict[str, bytes]]:
    """The corpus ``files`` with one or more of them damaged (the others as they were)."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, bytes]:
        names = sorted(files)
        chosen = draw(st.sets(st.sampled_from(names), min_size=1))
        return {n: draw(mutated(files[n])) if n in chosen else files[n] for n in names}

    return build()


def _run(profile: str, project, files: dict[str, bytes], write: Callable[[dict[str, bytes]], Path],
         do_import: Callable[[Path], object], ci_examples: int) -> None:
    source = write(files)
    do_import(source)  # the seed corpus imports cleanly

    def check(case: dict[str, bytes]) -> None:
        root = write(case)
        import_outcome(project.db_file, lambda: do_import(root))

    fuzz(profile, damaged_corpus(files), check, ci_examples=ci_examples)


@pytest.mark.parametrize("profile", PROFILES)
def test_iemocap_import_of_damaged_evaluations(profile: str, empty_project, hardening_media, tmp_path: Path) -> None:
    from dyadlab.core.io import import_iemocap

    files = {"evaluation": seeds.EMO_EVALUATION.encode(), "transcript": seeds.TRANSCRIPT.encode()}
    _run(profile, empty_project, files,
         lambda f: seeds.write_iemocap(tmp_path / "IEMOCAP", hardening_media["wav"], f["evaluation"], f["transcript"]),
         lambda root: import_iemocap(empty_project, root, replace=True), ci_examples=120)


@pytest.mark.parametrize("profile", PROFILES)
def test_udiva_import_of_damaged_metadata_and_subtitles(profile: str, empty_project, hardening_media,
                                                        tmp_path: Path) -> None:
    from dyadlab.core.io import import_udiva

    files = {"srt": seeds.SRT.encode(), "sessions": seeds.SESSIONS_CSV.encode(), "parts": seeds.PARTS_CSV.encode()}
    _run(profile, empty_project, files,
         lambda f: seeds.write_udiva(tmp_path / "UDIVA", hardening_media["mp4"], f["srt"], f["sessions"], f["parts"]),
         lambda root: import_udiva(empty_project, root, replace=True), ci_examples=100)


@pytest.mark.parametrize("profile", PROFILES)
def test_folder_import_of_damaged_segments_csv(profile: str, empty_project, hardening_media, tmp_path: Path) -> None:
    from dyadlab.core.io import import_folder

    corpus = seeds.write_folder_corpus(tmp_path / "recordings", hardening_media["wav"])
    csv_file = tmp_path / "segments.csv"

    def write(f: dict[str, bytes]) -> Path:
        csv_file.write_bytes(f["segments"])
        return corpus

    _run(profile, empty_project, {"segments": seeds.SEGMENTS_CSV.encode()}, write,
         lambda root: import_folder(empty_project, root, segments_csv=csv_file, replace=True), ci_examples=120)
