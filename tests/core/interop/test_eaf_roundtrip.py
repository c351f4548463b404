"""ELAN round trips: a user exports a session, edits it in ELAN (or sends it to a colleague) and imports it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest
from pympi.Elan import Eaf, to_string

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.eaf import export_eaf, import_eaf, read_eaf
from dyadlab.core.labels.naming import TierKey


def _write(eaf: Eaf, path: Path) -> Path:
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + to_string(eaf), encoding="utf-8")
    return path


def test_round_trip_into_a_new_project_loses_nothing(dyad, fresh, tmp_path, contents):
    files = export_eaf(dyad, tmp_path / "eaf")
    assert [f.name for f in files] == ["S1.eaf", "S2.eaf"]
    for f in files:
        import_eaf(fresh, f)

    assert contents(fresh) == contents(dyad)  # times (ms here), values, scores, confidences, kinds, schemes
    with fresh.store.transaction() as tx:
        s1 = tx.sessions.by_name("S1")
        assert s1.duration_us == 20_000_000 and s1.group == "G1"
        assert [p.code for p in tx.participants.list(tx.sessions.by_name("S2").id)] == ["A", "B"]
        views = {v.name: v for v in tx.views.list(s1.id)}
        assert views["cam_B"].offset_us == -1_500_000 and views["cam_B"].fps == pytest.approx(30000 / 1001)
        assert Path(views["cam_A"].path) == (dyad.root / "media" / "S1_A.mp4").resolve()
        assert tx.participants.get(views["cam_A"].participant_id).code == "A"
        assert [(a.name, a.offset_us) for a in tx.audio.list(s1.id)] == [("mix", 250_000)]


def test_export_is_a_proper_elan_document(dyad, tmp_path):
    path = export_eaf(dyad, tmp_path / "out", sessions=["S1"])[0]
    root = ET.parse(path).getroot()

    media = root.findall("HEADER/MEDIA_DESCRIPTOR")
    assert [unquote(m.get("RELATIVE_MEDIA_URL")) for m in media] == [
        "../dyad/media/S1_A.mp4", "../dyad/media/S1_B.mp4", "../dyad/media/S1_mix.wav"]
    for m in media:  # the relative URL, read from the EAF's folder, is the project's media file
        assert (path.parent / unquote(m.get("RELATIVE_MEDIA_URL"))).resolve() == Path(unquote(m.get("MEDIA_URL")[7:]))
    assert [m.get("TIME_ORIGIN") for m in media] == [None, "1500", "-250"]  # ELAN: media time at time 0
    assert [m.get("MIME_TYPE") for m in media] == ["video/mp4", "video/mp4", "audio/x-wav"]

    tiers = {t.get("TIER_ID"): t for t in root.findall("TIER")}
    assert tiers["A|emotion|alice"].get("PARTICIPANT") == "A"
    assert tiers["A|emotion|alice"].get("ANNOTATOR") == "alice"
    assert tiers["A|emotion|alice"].get("LINGUISTIC_TYPE_REF") == "emotion-4class"
    assert tiers["A|emotion|alice|confidence"].get("PARENT_REF") == "A|emotion|alice"
    assert "*|scene|alice" in tiers and "B|emotion|bob|confidence" in tiers

    cv = {c.get("CV_ID"): c for c in root.findall("CONTROLLED_VOCABULARY")}
    assert [v.text for v in cv["emotion-4class"].iter("CVE_VALUE")] == ["neutral", "happy", "sad", "angry"]
    types = {t.get("LINGUISTIC_TYPE_ID"): t for t in root.findall("LINGUISTIC_TYPE")}
    assert types["emotion-4class"].get("CONTROLLED_VOCABULARY_REF") == "emotion-4class"
    assert "CONTROLLED_VOCABULARY_REF" not in types["vad"].attrib

    # pympi reads it back with the times in milliseconds
    eaf = Eaf(str(path))
    assert eaf.get_annotation_data_for_tier("A|emotion|alice")[-1] == (10000, 12345, "angry")
    assert eaf.get_annotation_data_for_tier("A|valence|bob")[1] == (5500, 8000, "2.25")


def test_reimport_replaces_only_when_asked(dyad, tmp_path, contents, fingerprint):
    path = export_eaf(dyad, tmp_path / "eaf", sessions=["S1"])[0]
    before = fingerprint(dyad)
    with pytest.raises(ImportFormatError, match="already holds"):
        import_eaf(dyad, path)
    assert fingerprint(dyad) == before
    expected = contents(dyad)
    report = import_eaf(dyad, path, on_existing="replace")
    assert report.segments_added == report.segments_removed == 20
    assert contents(dyad) == expected


def test_import_into_an_existing_session_creates_annotator_and_tiers(dyad, tmp_path, contents):
    eaf = Eaf(author="someone")
    eaf.remove_tier("default")
    eaf.add_tier("B|emotion|dave", part="B", ann="dave")
    eaf.add_annotation("B|emotion|dave", 1000, 2500, "angry")
    eaf.add_annotation("B|emotion|dave", 2500, 4000, "neu")  # a corpus label the scheme maps to "neutral"
    eaf.add_tier("B|valence|dave")
    eaf.add_annotation("B|valence|dave", 1000, 2500, "4.5")
    path = _write(eaf, tmp_path / "from_elan.eaf")

    report = import_eaf(dyad, path, session="S1")
    assert report.annotators_created == ["dave"]
    assert sorted(report.tiers_created) == ["S1/B|emotion|dave", "S1/B|valence|dave"]
    got = contents(dyad, ["S1"])
    assert got[("S1", "B|emotion|dave")] == ("emotion-4class", "categorical",
                                            [(1_000_000, 2_500_000, "angry", None, None),
                                             (2_500_000, 4_000_000, "neutral", None, None)])
    assert got[("S1", "B|valence|dave")] == ("vad", "dimensional", [(1_000_000, 2_500_000, None, 4.5, None)])


def test_foreign_tiers_can_be_mapped_or_skipped(dyad, tmp_path, contents):
    eaf = Eaf()
    eaf.add_annotation("default", 0, 1000, "happy")
    eaf.add_tier("notes")
    eaf.add_annotation("notes", 0, 500, "free text")
    path = _write(eaf, tmp_path / "S2.eaf")
    with pytest.raises(ImportFormatError, match="cannot tell participant"):
        import_eaf(dyad, path)
    report = import_eaf(dyad, path, tier_mapping={"default": TierKey("B", "emotion", "erin")}, skip_unmapped=True)
    assert report.sessions == ["S2"]  # no session property: the file's name
    assert any("notes" in n for n in report.notes)
    assert contents(dyad, ["S2"])[("S2", "B|emotion|erin")][2] == [(0, 1_000_000, "happy", None, None)]


def _base_eaf() -> Eaf:
    eaf = Eaf()
    eaf.remove_tier("default")
    eaf.add_tier("A|emotion|carol")
    eaf.add_annotation("A|emotion|carol", 0, 1000, "happy")
    return eaf


@pytest.mark.parametrize(("change", "message"), [
    (lambda e: e.add_annotation("A|emotion|carol", 500, 1500, "sad"), "overlaps"),
    (lambda e: (e.add_tier("Z|emotion|carol"), e.add_annotation("Z|emotion|carol", 0, 10, "sad")),
     "participant 'Z' is not in session"),
    (lambda e: (e.add_tier("emotion-carol"), e.add_annotation("emotion-carol", 0, 10, "sad")),
     "cannot tell participant, tier and annotator"),
    (lambda e: e.add_annotation("A|emotion|carol", 19_000, 21_000, "sad"), "after the end of the session"),
    (lambda e: e.add_annotation("A|emotion|carol", 3000, 4000, "bored"), "not a class of scheme"),
])
def test_bad_files_name_the_element_and_change_nothing(dyad, tmp_path, fingerprint, change, message):
    eaf = _base_eaf()
    change(eaf)
    path = _write(eaf, tmp_path / "bad.eaf")
    before = fingerprint(dyad)
    with pytest.raises(ImportFormatError, match=message) as err:
        import_eaf(dyad, path, session="S1")
    assert str(path) in str(err.value)
    assert "tier '" in str(err.value)
    assert fingerprint(dyad) == before


def test_truncated_and_non_utf8_files_are_refused_with_a_line(dyad, tmp_path, fingerprint):
    good = export_eaf(dyad, tmp_path / "eaf", sessions=["S1"])[0].read_bytes()
    before = fingerprint(dyad)
    truncated = tmp_path / "truncated.eaf"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(ImportFormatError, match="not well-formed XML") as err:
        import_eaf(dyad, truncated, on_existing="replace")
    assert err.value.line is not None and err.value.path == truncated
    latin1 = tmp_path / "latin1.eaf"
    latin1.write_bytes(good.replace(b"he said", b"h\xe9 said"))
    with pytest.raises(ImportFormatError, match="not well-formed") as err:
        import_eaf(dyad, latin1, on_existing="replace")
    assert err.value.line is not None
    not_elan = tmp_path / "other.eaf"
    not_elan.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="not an ELAN file"):
        import_eaf(dyad, not_elan)
    assert fingerprint(dyad) == before


def test_companion_values_must_belong_to_their_main_tier(tmp_path):
    eaf = _base_eaf()
    eaf.add_tier("A|emotion|carol|confidence")
    eaf.add_annotation("A|emotion|carol|confidence", 0, 900, "0.5")
    path = _write(eaf, tmp_path / "S1.eaf")
    doc = read_eaf(path)
    assert [t.key.extra for t in doc.tiers] == ["", "confidence"]
    from dyadlab.core.io.label_files.label_import import attach_companions

    with pytest.raises(ImportFormatError, match="spans exactly"):
        attach_companions(doc)
