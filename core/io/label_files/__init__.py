"""Label files exchanged with other tools: ELAN ``.eaf``, Praat TextGrid, CSV/Parquet tables, IEMOCAP text.

``label_formats`` is the one call each direction (``import_label_file``, ``export_labels``); every reader
hands its documents to ``label_import``, which checks them and writes all or nothing. Which module reads or
writes each format comes from the registry in ``core.formats``.
"""
