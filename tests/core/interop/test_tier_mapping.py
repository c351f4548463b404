"""ELAN and Praat files whose tiers are named freely: a tier mapping places them, unknown labels are decided.

A colleague's ELAN file has tiers "Emotion", "Valence" and "Notes", not DyadLab's ``A|emotion|alice``; it
is imported through a mapping, exported back under the same tier names with every annotation, and a
broken mapping or file imports nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pympi.Elan import Eaf, to_string

from dyadlab.core.cli.main import main
from dyadlab.core.errors import DyadLabError, ImportFormatError
from dyadlab.core.io.label_files.eaf import export_eaf
from dyadlab.core.io.label_files.label_formats import export_labels, import_label_file
from dyadlab.core.io.label_files.tier_mapping import (
    ProjectNames,
    TierTarget,
    find_unknown_labels,
    guess_targets,
    import_mapped,
    parse_map_options,
    read_file_tiers,
)
from dyadlab.core.io.label_files.unknown_labels import UnknownLabels, parse_unknown_options
from dyadlab.core.labels.naming import TierKey

EMOTION = [(0, 1500, "happy"), (1500, 4000, "sad"), (5000, 6250, "frustrated"), (7000, 9000, "happy")]
VALENCE = [(0, 4000, "3.5"), (4000, 9000, "2.25")]


def write_free_eaf(path: Path, tiers: dict[str, list[tuple[int, int, str]]], **attributes: dict) -> Path:
    """An ELAN file as another lab writes it: tiers named freely, no DyadLab header properties."""
    eaf = Eaf(author="another lab")
    eaf.remove_tier("default")
    for name, annotations in tiers.items():
        eaf.add_tier(name, **attributes.get(name, {}))
        for start, end, value in annotations:
            eaf.add_annotation(name, start, end, value)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + to_string(eaf), encoding="utf-8")
    return path


def annotations(path: Path) -> dict[str, list[tuple[int, int, str]]]:
    """Every tier's annotations as pympi reads them (ms times, values)."""
    eaf = Eaf(str(path))
    return {name: sorted(eaf.get_annotation_data_for_tier(name)) for name in eaf.get_tier_names()}


MAPPING = {"Emotion": TierTarget(TierKey("A", "emotion", "alice")),
           "Valence": TierTarget(TierKey("A", "valence", "alice"))}


def test_free_named_eaf_round_trips_through_a_mapping(fresh, tmp_path):
    source = write_free_eaf(tmp_path / "rec1.eaf", {"Emotion": EMOTION, "Valence": VALENCE})

    report = import_mapped(fresh, source, mapping=MAPPING, unknown=UnknownLabels(default="add"))

    assert report.sessions_created == ["rec1"] and report.segments_added == 6
    # a shipped scheme is never changed: the new class goes into the project's copy, which the tier uses
    assert any("'frustrated' added to scheme 'emotion-4class'" in n for n in report.notes)
    assert any("project copy 'emotion-4class-project'" in n for n in report.notes)
    with fresh.store.transaction() as tx:
        assert "frustrated" not in tx.schemes.by_name("emotion-4class").classes
        copy = tx.schemes.by_name("emotion-4class-project")
        assert copy.classes == ["neutral", "happy", "sad", "angry", "frustrated"]
        (emotion,) = [t for t in tx.tiers.list(tx.sessions.by_name("rec1").id) if t.name == "emotion"]
        assert emotion.scheme_id == copy.id
    out = export_eaf(fresh, tmp_path / "out")[0]
    assert annotations(out) == annotations(source)  # every annotation, under the file's own tier names
    assert annotations(out)["Valence"] == [(0, 4000, "3.5"), (4000, 9000, "2.25")]

    # the exported file says which tier each name stands for: it imports again with no mapping
    again = import_label_file(fresh, out, on_existing="replace")
    assert sorted(again.tiers_updated) == ["rec1/A|emotion|alice", "rec1/A|valence|alice"]
    assert again.segments_removed == again.segments_added == 6


def test_free_named_textgrid_round_trips_through_a_mapping(fresh, tmp_path):
    source = tmp_path / "talk.TextGrid"
    source.write_text("\n".join([
        'File type = "ooTextFile"', 'Object class = "TextGrid"', "xmin = 0", "xmax = 9", "tiers? <exists>",
        "size = 1", "item []:", "  item [1]:", '    class = "IntervalTier"', '    name = "Emotion B"',
        "    xmin = 0", "    xmax = 9", "    intervals: size = 3",
        "    intervals [1]:", "      xmin = 0", "      xmax = 1.25", '      text = "neutral"',
        "    intervals [2]:", "      xmin = 1.25", "      xmax = 4", '      text = ""',
        "    intervals [3]:", "      xmin = 4", "      xmax = 9", '      text = "angry"', ""]), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"talk\.TextGrid.*'Emotion B'.*cannot tell"):
        import_label_file(fresh, source)

    report = import_label_file(fresh, source, tier_mapping=parse_map_options(["Emotion B=B/emotion/carol"]))

    assert report.segments_added == 2 and report.tiers_created == ["talk/B|emotion|carol"]
    out = export_labels(fresh, "textgrid", tmp_path / "out")[0]
    text = out.read_text(encoding="utf-8")
    assert 'name = "Emotion B"' in text and "B|emotion|carol" not in text
    again = read_file_tiers(out)
    assert [(t.name, [(s.start_us, s.end_us, s.value) for s in t.segments]) for t in again.tiers] == [
        ("Emotion B", [(0, 1_250_000, "neutral"), (4_000_000, 9_000_000, "angry")])]


def test_unknown_labels_are_refused_mapped_or_added_and_reported(fresh, tmp_path, fingerprint):
    source = write_free_eaf(tmp_path / "rec1.eaf", {"Emotion": EMOTION})
    mapping = {"Emotion": MAPPING["Emotion"]}
    before = fingerprint(fresh)

    with pytest.raises(ImportFormatError, match=r"rec1\.eaf.*'Emotion'.*'frustrated' is not a class of scheme "
                                                r"'emotion-4class'"):
        import_mapped(fresh, source, mapping=mapping)
    assert fingerprint(fresh) == before  # nothing imported, no session created

    doc = read_file_tiers(source)
    assert find_unknown_labels(fresh, doc, mapping) == {"emotion-4class": {"frustrated": 1}}
    assert fingerprint(fresh) == before  # the dry run writes nothing

    with pytest.raises(ImportFormatError, match="'calm'.*not a class"):
        import_mapped(fresh, source, mapping=mapping, unknown=parse_unknown_options(["map:frustrated=calm"]))
    report = import_mapped(fresh, source, mapping=mapping, unknown=parse_unknown_options(["map:frustrated=angry"]))
    assert "rec1" in report.sessions
    assert any("'frustrated' mapped to 'angry' (1 segment)" in n for n in report.notes)
    with fresh.store.transaction() as tx:
        values = [s.value for t in tx.tiers.list(tx.sessions.by_name("rec1").id) for s in tx.segments.list(t.id)]
        assert values == ["happy", "sad", "angry", "happy"]
        assert "frustrated" not in [c["name"] for c in tx.schemes.by_name("emotion-4class").definition["classes"]]


def test_a_tier_mapped_twice_imports_nothing(fresh, tmp_path, fingerprint):
    source = write_free_eaf(tmp_path / "rec1.eaf", {"Emotion": EMOTION[:2], "Feeling": EMOTION[3:]})
    before = fingerprint(fresh)
    twice = {"Emotion": MAPPING["Emotion"], "Feeling": MAPPING["Emotion"]}

    with pytest.raises(ImportFormatError, match=r"rec1\.eaf.*tiers 'Emotion' and 'Feeling' are both mapped to "
                                                r"'A\|emotion\|alice'"):
        import_mapped(fresh, source, mapping=twice)
    with pytest.raises(DyadLabError, match="tier 'Emotion' is mapped twice"):
        parse_map_options(["Emotion=A/emotion/alice", "Emotion=B/emotion/alice"])
    with pytest.raises(ImportFormatError, match=r"rec1\.eaf.*'Emotoin', which the file does not have"):
        import_mapped(fresh, source, mapping={"Emotoin": MAPPING["Emotion"], "Feeling": MAPPING["Valence"]})
    assert fingerprint(fresh) == before


def test_overlapping_annotations_on_one_tier_import_nothing(fresh, tmp_path, fingerprint):
    source = write_free_eaf(tmp_path / "rec1.eaf", {"Valence": VALENCE,
                                                    "Emotion": [(0, 3000, "happy"), (2000, 4000, "sad")]})
    before = fingerprint(fresh)

    with pytest.raises(ImportFormatError, match=r"rec1\.eaf: tier 'Emotion', annotation a\d+: overlaps the previous "
                                                r"segment on tier 'Emotion' \(A\|emotion\|alice\)"):
        import_mapped(fresh, source, mapping=MAPPING)
    assert fingerprint(fresh) == before


def test_guesses_come_from_names_attributes_and_the_project():
    names = ProjectNames(participants=("A", "B"), annotators=("alice", "bob"), tiers=("emotion", "valence"))
    doc_tiers = {"Emotion B": {}, "valence_A_bob": {}, "Arousal": {"part": "B", "ann": "alice"}, "Gesture": {},
                 "A|emotion|alice": {}}

    class Doc:  # only what guess_targets reads
        tiers = []

    from dyadlab.core.io.label_files.label_import import SourceTier
    from dyadlab.core.labels.naming import parse_tier_name

    Doc.tiers = [SourceTier(key=parse_tier_name(n), segments=[], name=n, participant_hint=a.get("part"),
                            annotator_hint=a.get("ann")) for n, a in doc_tiers.items()]
    guesses = guess_targets(Doc, names)  # type: ignore[arg-type]
    assert guesses["Emotion B"] is None  # no annotator anywhere: a person must say
    assert guesses["valence_A_bob"] == TierTarget(TierKey("A", "valence", "bob"))
    assert guesses["Arousal"] == TierTarget(TierKey("B", "arousal", "alice"))
    assert guesses["A|emotion|alice"] == TierTarget(TierKey("A", "emotion", "alice"))
    with_default = guess_targets(Doc, ProjectNames(**{**names.__dict__, "annotator": "carol"}))  # type: ignore
    assert with_default["Emotion B"] == TierTarget(TierKey("B", "emotion", "carol"))
    assert with_default["Gesture"] is None  # which participant?


def test_cli_maps_tiers_decides_unknown_labels_and_guesses(fresh, tmp_path, capsys):
    source = write_free_eaf(tmp_path / "rec1.eaf", {"Emotion": EMOTION, "Valence": VALENCE, "Notes": [(0, 10, "x")]})
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[tiers]\nValence = { participant = "A", tier = "valence", annotator = "alice" }\n'
                       'Notes = "skip"\n[unknown]\nfrustrated = "add"\n', encoding="utf-8")
    fresh.close()
    root = str(fresh.root)

    assert main(["import-labels", root, str(source)]) == 1
    assert "rec1.eaf: tier 'Emotion': cannot tell participant" in capsys.readouterr().err
    assert main(["import-labels", root, str(source), "--map", "Emotion=A/emotion/alice", "--map",
                 "Valence=A/valence/alice", "--map", "Notes=skip"]) == 1
    assert "'frustrated' is not a class" in capsys.readouterr().err
    assert main(["import-labels", root, str(source), "--mapping", str(mapping), "--map", "Emotion=A/emotion/bob",
                 "--map", "Notes=A/notes/bob"]) == 1
    assert "tier 'Notes' is mapped twice (skip and A/notes/bob)" in capsys.readouterr().err

    assert main(["import-labels", root, str(source), "--mapping", str(mapping), "--map", "Emotion=A/emotion/bob",
                 "--unknown", "map:frustrated=angry"]) == 1  # the file says add, the option map
    assert "'frustrated' is given two different choices" in capsys.readouterr().err
    assert main(["import-labels", root, str(source), "--mapping", str(mapping), "--guess", "--annotator",
                 "bob", "--session", "rec1"]) == 1  # the new session has no participants to guess from
    assert "cannot tell participant" in capsys.readouterr().err
    assert main(["import-labels", root, str(source), "--mapping", str(mapping), "--map", "Emotion=A/emotion/bob"]) == 0
    out = capsys.readouterr().out
    assert "imported 6 segments" in out and "skipped tier 'Notes' (the mapping says skip)" in out
    assert "'frustrated' added to scheme 'emotion-4class'" in out

    second = write_free_eaf(tmp_path / "rec1b.eaf", {"Emotion bob": EMOTION[:2]})  # one participant: A
    assert main(["import-labels", root, str(second), "--session", "rec1", "--guess", "--on-existing", "replace"]) == 0
    out = capsys.readouterr().out
    assert "guessed: --map 'Emotion bob=A/emotion/bob'" in out and "(4 old segments replaced)" in out


def test_elan_dependent_tiers_are_guessed_skip_and_listed(fresh, tmp_path, capsys):
    eaf = Eaf(author="another lab")
    eaf.remove_tier("default")
    eaf.add_tier("Emotion A")
    eaf.add_annotation("Emotion A", 0, 1000, "happy")
    eaf.add_linguistic_type("comment", constraints="Symbolic_Association", timealignable=False)
    eaf.add_tier("Comment", ling="comment", parent="Emotion A")
    eaf.add_ref_annotation("Comment", "Emotion A", 500, "big smile")
    source = tmp_path / "rec1.eaf"
    source.write_text(to_string(eaf), encoding="utf-8")
    doc = read_file_tiers(source)
    names = ProjectNames(participants=("A", "B"), annotator="alice")
    assert guess_targets(doc, names) == {"Emotion A": TierTarget(TierKey("A", "emotion", "alice")),
                                         "Comment": TierTarget(None)}
    with pytest.raises(ImportFormatError, match="tier 'Comment': a dependent tier cannot hold DyadLab labels"):
        import_mapped(fresh, source, mapping={"Emotion A": TierTarget(TierKey("A", "emotion", "alice")),
                                              "Comment": TierTarget(TierKey("A", "comment", "alice"))})
    report = import_mapped(fresh, source, mapping=guess_targets(doc, names))
    assert report.segments_added == 1 and "skipped tier 'Comment' (the mapping says skip)" in report.notes
