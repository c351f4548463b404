"""``core/io`` says which file is which: corpus importers in ``corpora/``, label file formats in ``label_files/``.

Why: the folder held 21 flat modules, corpus importers (IEMOCAP, UDIVA, a plain folder and their parsers)
beside label file formats (ELAN, Praat, tables, IEMOCAP text) and their exporters. The two halves share
only the text readers left at ``core/io`` itself (``textfile``, ``csvfile``, ``times``); this test keeps it so.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dyadlab.core.io as core_io

IO = Path(core_io.__file__).parent
SHARED = {"__init__", "textfile", "csvfile", "times"}


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ({a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
            | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module})


def test_only_the_shared_text_readers_sit_at_the_top_of_core_io() -> None:
    assert {p.stem for p in IO.glob("*.py")} == SHARED
    assert {p.name for p in IO.iterdir() if p.is_dir() and p.name != "__pycache__"} == {"corpora", "label_files"}
    assert (IO / "corpora" / "iemocap.py").is_file() and (IO / "label_files" / "textgrid.py").is_file()


def test_corpus_importers_and_label_file_formats_do_not_import_each_other() -> None:
    for here, other in (("corpora", "label_files"), ("label_files", "corpora")):
        for path in sorted((IO / here).glob("*.py")):
            crossing = {m for m in _imports_of(path) if m.startswith(f"dyadlab.core.io.{other}")}
            assert crossing == set(), f"{here}/{path.name} imports {crossing}"
