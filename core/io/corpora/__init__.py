"""Corpus importers: IEMOCAP, UDIVA and a plain folder of recordings, with the parsers of their own files.

Each importer reads and checks the whole input first, then writes every session in one transaction
(``plan`` builds and checks, ``writer`` writes, ``report`` says what was written). ``core.io.run_import``
picks the importer for a format from the registry in ``core.formats``.
"""
