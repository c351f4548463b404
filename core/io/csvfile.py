"""Reading CSV tables that importers rely on (corpus metadata, segment lists) with line numbers kept.

Errors in a table must name the file and the line a user sees in a text editor, so each row comes with
the line it ended on. Column names are stripped of blanks and a BOM; callers decide whether to match
them exactly (a segments CSV, whose columns are a documented contract) or ignoring case (corpus
metadata, whose spelling varies between releases).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.textfile import read_text


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]  # column name (as in the header, stripped; lower-cased if asked) -> stripped value


@dataclass(frozen=True)
class CsvTable:
    path: Path
    columns: list[str]
    rows: list[CsvRow]


def read_csv(path: Path, *, lower_columns: bool = False) -> CsvTable:
    """Header and rows of ``path`` (comma, semicolon or tab separated; blank lines skipped)."""
    text = read_text(path)
    if not text.strip():
        raise ImportFormatError("the CSV file is empty (no header line)", path=path)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
        columns = [c.strip().lstrip("\ufeff") for c in header]
        if lower_columns:
            columns = [c.lower() for c in columns]
        rows = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(columns):
                raise ImportFormatError(f"{len(cells)} fields but the header names {len(columns)} columns",
                                        path=path, line=reader.line_num)
            values = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns)}
            rows.append(CsvRow(reader.line_num, values))
    except csv.Error as exc:
        raise ImportFormatError(f"malformed CSV: {exc}", path=path, line=reader.line_num) from exc
    return CsvTable(path, columns, rows)
