"""The file formats DyadLab imports and exports, and where each one's code lives: one table to extend.

Why a registry: ``run_import`` (corpora), ``read_label_file`` and ``export_labels`` (label files) and the
``--format`` choices of ``dyadlab import``, ``import-labels`` and ``export`` all answer "which formats, and
what does each one call". Each used to keep its own if/elif switch and its own list of names; here a
format is one entry, and adding one is adding an entry (plus its reader or writer module).

Why at the root of ``core``, holding only names: every ``dyadlab`` call (``dyadlab gui`` included) builds
every subcommand's parser, which needs the format names; importing ``core.io``'s readers for them would
load the project store (SQLAlchemy, NumPy) — about half a second on every command
(``tests/core/cli/test_cli_imports.py``). An entry names its code as ``"module:function"``, imported only
when a file is read or written (``load``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_IO = "dyadlab.core.io"


def load(target: str) -> Callable[..., Any]:
    """The function a ``"package.module:function"`` entry names (importing its module now)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class CorpusFormat:
    """A corpus layout ``dyadlab import`` reads: ``importer(project, source, *, sessions, replace, progress,
    **options)`` returns an ``ImportReport``; ``options`` are the extra keywords it takes (``run_import``'s
    names), any other given option only warns."""

    name: str
    importer: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelFormat:
    """A label file format. ``reader(path)`` returns a ``LabelDocument``; a ``table`` format's reader
    returns a list of them (``reader(path, session=...)``: a table holds many sessions) and its exporter
    takes ``fmt=name``. ``exporter(project, out_dir, *, sessions, annotators, **options)`` returns the files
    written. ``suffixes`` pick the format of an ``auto`` import; with ``suffix_required`` the reader tells
    the format by the suffix alone, so a file named otherwise is refused."""

    name: str
    title: str
    suffixes: tuple[str, ...] = ()
    reader: str | None = None
    exporter: str | None = None
    table: bool = False
    suffix_required: bool = False


CORPUS_FORMATS: dict[str, CorpusFormat] = {f.name: f for f in (
    CorpusFormat("iemocap", f"{_IO}.corpora.iemocap:import_iemocap", options=("split_layout",)),
    CorpusFormat("udiva", f"{_IO}.corpora.udiva:import_udiva"),
    CorpusFormat("folder", f"{_IO}.corpora.folder:import_folder", options=("segments_csv",)),
)}

LABEL_FORMATS: dict[str, LabelFormat] = {f.name: f for f in (
    LabelFormat("eaf", "ELAN", (".eaf",), f"{_IO}.label_files.eaf:read_eaf", f"{_IO}.label_files.eaf:export_eaf"),
    LabelFormat("textgrid", "Praat TextGrid", (".textgrid",), f"{_IO}.label_files.textgrid:read_textgrid",
                f"{_IO}.label_files.textgrid:export_textgrid"),
    LabelFormat("csv", "CSV", (".csv",), f"{_IO}.label_files.tables:read_segments_table", f"{_IO}.label_files.tables:export_tables",
                table=True),
    LabelFormat("parquet", "Parquet", (".parquet", ".pq"), f"{_IO}.label_files.tables:read_segments_table",
                f"{_IO}.label_files.tables:export_tables", table=True, suffix_required=True),
    LabelFormat("iemocap", "IEMOCAP EmoEvaluation", exporter=f"{_IO}.label_files.emo_export:export_emo_evaluation"),
)}

IMPORT_FORMATS: tuple[str, ...] = tuple(name for name, f in LABEL_FORMATS.items() if f.reader)
EXPORT_FORMATS: tuple[str, ...] = tuple(name for name, f in LABEL_FORMATS.items() if f.exporter)
