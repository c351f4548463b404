"""A freely named tier that codes something other than emotion ("Speaker B laughs") gets a scheme of its own:
named after the tier, its labels as classes, made through the scheme editor's edit in the import's
transaction. It is the guess (and the import's automatic choice) when most of its labels are in no scheme;
``--map ...@+new`` and ``scheme = "+new"`` ask for it. The emotion scheme is left as it was."""

from __future__ import annotations

import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.eaf import export_eaf
from dyadlab.core.io.label_files.tier_mapping import (
    ProjectNames,
    TierTarget,
    guess_targets,
    import_mapped,
    read_file_tiers,
)
from dyadlab.core.io.label_files.tier_schemes import NEW_SCHEME, wants_own_scheme
from dyadlab.core.io.label_files.unknown_labels import UnknownLabels
from dyadlab.core.labels.naming import TierKey
from dyadlab.core.project import open_project

from .test_tier_mapping import EMOTION, annotations, write_free_eaf

LAUGHS = [(0, 1000, "laugh"), (2000, 2500, "giggle"), (4000, 5000, "laugh"), (6000, 6500, "happy")]
TIERS = {"Emotion": EMOTION, "Speaker B laughs": LAUGHS}


def _scheme_of(project, session: str, tier: str) -> tuple[str, list[str]]:
    """The scheme of the session's tier(s) named ``tier`` (one scheme for all of them)."""
    with project.store.transaction() as tx:
        (scheme_id,) = {t.scheme_id for t in tx.tiers.list(tx.sessions.by_name(session).id) if t.name == tier}
        scheme = tx.schemes.get(scheme_id)
        return scheme.name, scheme.classes


def test_the_guess_gives_a_tier_of_other_labels_a_new_scheme(fresh, tmp_path):
    doc = read_file_tiers(write_free_eaf(tmp_path / "rec1.eaf", TIERS))
    with fresh.store.transaction() as tx:
        schemes = tuple(tx.schemes.list())
    names = ProjectNames(participants=("A", "B"), annotator="alice", schemes=schemes)
    assert guess_targets(doc, names) == {"Emotion": None,  # names no participant
                                         "Speaker B laughs": TierTarget(TierKey("B", "speaker_laughs", "alice"),
                                                                        NEW_SCHEME)}
    assert not wants_own_scheme("emotion", [v for *_, v in EMOTION], schemes)  # 2 of 3 labels are emotions
    assert not wants_own_scheme("valence", ["3.5", "2"], schemes)  # scores
    assert not wants_own_scheme("laughs", ["laugh"], schemes, UnknownLabels({"laugh": "map:happy"}))


def test_automatic_puts_a_tier_of_other_labels_on_its_own_scheme_not_the_emotion_scheme(fresh, tmp_path):
    source = write_free_eaf(tmp_path / "rec1.eaf", TIERS)
    mapping = {"Emotion": TierTarget(TierKey("A", "emotion", "alice")),
               "Speaker B laughs": TierTarget(TierKey("B", "laughs", "alice"))}  # scheme left automatic

    report = import_mapped(fresh, source, mapping=mapping, unknown=UnknownLabels(default="add"))

    assert _scheme_of(fresh, "rec1", "laughs") == ("laughs", ["laugh", "giggle", "happy"])
    assert _scheme_of(fresh, "rec1", "emotion") == ("emotion-4class-project",  # only "frustrated" was added
                                                    ["neutral", "happy", "sad", "angry", "frustrated"])
    assert any(n.startswith("new scheme 'laughs' for tier 'Speaker B laughs': classes laugh, giggle, happy")
               for n in report.notes), report.notes
    out = export_eaf(fresh, tmp_path / "out")[0]
    assert annotations(out) == annotations(source)  # every annotation back under the file's tier names


def test_cli_map_and_mapping_file_ask_for_a_new_scheme(fresh, tmp_path, capsys):
    source = write_free_eaf(tmp_path / "rec1.eaf", {"Speaker B laughs": LAUGHS[:2], "Speaker A laughs": LAUGHS[2:]})
    root = str(fresh.root)
    fresh.close()
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[tiers]\n"Speaker A laughs" = { participant = "A", tier = "laughs", annotator = "bob", '
                       'scheme = "+new" }\n', encoding="utf-8")
    assert main(["import-labels", root, str(source), "--mapping", str(mapping),
                 "--map", "Speaker B laughs=B/laughs/bob@+new"]) == 0
    out = capsys.readouterr().out
    assert "new scheme 'laughs' for tiers 'Speaker B laughs', 'Speaker A laughs'" in out  # one scheme, both tiers
    with open_project(root) as project:
        assert _scheme_of(project, "rec1", "laughs") == ("laughs", ["laugh", "giggle", "happy"])
        with project.store.transaction() as tx:
            assert "laugh" not in tx.schemes.by_name("emotion-4class").classes

    # a second file of the same tier: the tier keeps its scheme, a label it lacks is an unknown label
    again = write_free_eaf(tmp_path / "rec1b.eaf", {"Speaker B laughs": [(8000, 9000, "snort")]})
    assert main(["import-labels", root, str(again), "--session", "rec1", "--on-existing", "merge",
                 "--map", "Speaker B laughs=B/laughs/bob@+new"]) == 1
    assert "'snort' is not a class of scheme 'laughs'" in capsys.readouterr().err
    assert main(["import-labels", root, str(again), "--session", "rec1", "--on-existing", "merge",
                 "--map", "Speaker B laughs=B/laughs/bob@+new", "--unknown", "add"]) == 0
    with open_project(root) as project:
        assert _scheme_of(project, "rec1", "laughs") == ("laughs", ["laugh", "giggle", "happy", "snort"])


def test_a_new_scheme_for_a_tier_named_like_a_scale_is_refused_and_nothing_is_written(fresh, tmp_path, fingerprint):
    source = write_free_eaf(tmp_path / "rec1.eaf", {"Speaker B laughs": LAUGHS})
    with fresh.store.transaction() as tx:
        scale = next(s.name for s in tx.schemes.list() if s.kind == "dimensional")
    before = fingerprint(fresh)
    with pytest.raises(ImportFormatError, match=rf"rec1\.eaf.*would be named '{scale}', which is a dimensional"):
        import_mapped(fresh, source, mapping={"Speaker B laughs": TierTarget(TierKey("B", scale, "alice"),
                                                                             NEW_SCHEME)})
    assert fingerprint(fresh) == before
