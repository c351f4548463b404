"""The names of the label file formats DyadLab reads and writes, with nothing heavy behind them.

Why a module of its own: ``dyadlab import-labels`` and ``dyadlab export`` need these names for their
``--format`` choices while the parser is built, and every ``dyadlab`` call (``dyadlab gui`` included)
builds every subcommand's parser. ``core.io.label_formats``, which does the reading and writing, sits in
``core.io`` whose package import loads the project store (SQLAlchemy, NumPy); importing it only for two
tuples cost every command about half a second. ``core.io.label_formats`` re-exports these, so its users
and the CLI share one list.
"""

from __future__ import annotations

IMPORT_FORMATS: tuple[str, ...] = ("eaf", "textgrid", "csv", "parquet")
EXPORT_FORMATS: tuple[str, ...] = ("eaf", "textgrid", "csv", "parquet", "iemocap")
