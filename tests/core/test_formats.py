"""The format registry (``core.formats``): one entry per format serves the CLI choices, the readers,
the exporters and the corpus importers, so a format added there works everywhere without a switch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from dyadlab.core.cli import export as export_cli
from dyadlab.core.cli import import_labels as import_labels_cli
from dyadlab.core.cli import importer as importer_cli
from dyadlab.core.errors import ImportFormatError
from dyadlab.core.formats import (
    CORPUS_FORMATS,
    EXPORT_FORMATS,
    IMPORT_FORMATS,
    LABEL_FORMATS,
    CorpusFormat,
    LabelFormat,
    load,
)
from dyadlab.core.io import ImportReport, run_import
from dyadlab.core.io.label_files.label_formats import detect_format, export_labels, read_label_file
from dyadlab.core.io.label_files.label_import import LabelDocument

recorded_calls: list[tuple[str, dict]] = []


def read_notes(path: Path) -> LabelDocument:
    """A one-line JSON "format" for the tests: {"session": NAME}."""
    return LabelDocument(path, json.loads(path.read_text())["session"], tiers=[])


def export_notes(project, out_dir: Path, **options) -> list[Path]:
    recorded_calls.append(("export", options))
    return [Path(out_dir) / "notes.json"]


def import_notes_corpus(project, source: Path, **options) -> ImportReport:
    recorded_calls.append(("import", options))
    return ImportReport("notes", source)


@pytest.fixture
def notes_format(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded_calls.clear()
    monkeypatch.setitem(LABEL_FORMATS, "notes", LabelFormat("notes", "Notes", (".notes",), f"{__name__}:read_notes",
                                                            f"{__name__}:export_notes"))
    monkeypatch.setitem(CORPUS_FORMATS, "notes", CorpusFormat("notes", f"{__name__}:import_notes_corpus",
                                                              options=("segments_csv",)))


def test_every_registered_reader_exporter_and_importer_exists() -> None:
    for spec in LABEL_FORMATS.values():
        for target in (spec.reader, spec.exporter):
            assert target is None or callable(load(target)), target
    for spec in CORPUS_FORMATS.values():
        assert callable(load(spec.importer))
    assert IMPORT_FORMATS == ("eaf", "textgrid", "csv", "parquet")
    assert EXPORT_FORMATS == ("eaf", "textgrid", "csv", "parquet", "iemocap")


def test_the_command_line_offers_exactly_the_registered_formats() -> None:
    def choices(module, dest: str) -> list[str]:
        parser = argparse.ArgumentParser()
        module.add_arguments(parser)
        return list(next(a for a in parser._actions if a.dest == dest).choices)

    assert choices(importer_cli, "format") == list(CORPUS_FORMATS)
    assert choices(import_labels_cli, "fmt") == ["auto", *IMPORT_FORMATS]
    assert choices(export_cli, "fmt") == list(EXPORT_FORMATS)


def test_a_registered_label_format_is_detected_read_and_exported(notes_format, tmp_path: Path) -> None:
    path = tmp_path / "S7.notes"
    path.write_text('{"session": "S7"}')
    assert detect_format(path) == "notes"
    assert [doc.session for doc in read_label_file(path)] == ["S7"]
    assert export_labels(None, "notes", tmp_path / "out", sessions=["S7"], tier="x") == [tmp_path / "out" / "notes.json"]
    assert recorded_calls == [("export", {"sessions": ["S7"], "annotators": None, "tier": "x"})]


def test_a_registered_corpus_format_gets_its_own_options_and_warns_about_others(notes_format, tmp_path: Path) -> None:
    report = run_import("notes", None, tmp_path, segments_csv=tmp_path / "s.csv", split_layout="F=right,M=left")
    assert recorded_calls == [("import", {"sessions": None, "replace": False, "progress": None,
                                 "segments_csv": tmp_path / "s.csv"})]
    assert report.warnings == ["--split-layout applies to iemocap imports only; ignored"]


def test_unknown_formats_and_a_misnamed_parquet_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="unknown import format 'docx'; choose one of iemocap, udiva, folder"):
        run_import("docx", None, tmp_path)
    with pytest.raises(ImportFormatError, match="unknown label format 'docx'"):
        read_label_file(tmp_path / "x.docx", "docx")
    with pytest.raises(ImportFormatError, match="IEMOCAP EmoEvaluation files cannot be imported"):
        read_label_file(tmp_path / "x.txt", "iemocap")
    with pytest.raises(ImportFormatError, match=r"x\.csv: a Parquet file must end in \.parquet"):
        read_label_file(tmp_path / "x.csv", "parquet")
