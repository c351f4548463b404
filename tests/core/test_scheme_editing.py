"""Scheme and tier editing (core): new schemes and scales, rename/merge/remove of classes carrying their
segments along in one undoable edit, shipped schemes copied rather than changed, tiers added/renamed/
reordered, and every bad input refused with a message that says what is wrong, changing nothing."""

from __future__ import annotations

import sqlite3

import pytest

from dyadlab.core.edits import CreateSegment, EditRefused, ensure_annotator, ensure_annotator_tiers
from dyadlab.core.edits.schemes import AddTiers, ChangeScheme, RenameTiers, ReorderTiers, TierSpec, in_effect
from dyadlab.core.edits.tiers import project_layout
from dyadlab.core.errors import LabelSchemeError
from dyadlab.core.keymap import Binding, scheme_bindings
from dyadlab.core.labels import scheme_editing as se

S = 1_000_000
SPLIT = Binding("B", "edit.split", "Split segment at the playhead")


@pytest.fixture
def labelled(project):
    """Session s1 with participant A, annotator ann's default tiers, and three labelled segments."""
    with project.store.transaction() as tx:
        sess = tx.sessions.add("s1", duration_us=10 * S)
        tx.participants.add(sess.id, "A")
    ann = ensure_annotator(project.store, "ann")
    tiers = {t.name: t for t in ensure_annotator_tiers(project.store, sess.id, ann)}
    emotion = tiers["emotion"]
    for i, value in enumerate(["happy", "sad", "happy"]):
        CreateSegment(emotion.id, i * S, (i + 1) * S, value, annotator_id=ann.id).do(project.store)
    return project, sess, ann, emotion


def values(project, tier_id: int) -> list[str]:
    con = sqlite3.connect(project.db_file)
    try:
        return [v for (v,) in con.execute("SELECT value FROM segments WHERE tier_id = ? ORDER BY start_us", (tier_id,))]
    finally:
        con.close()


def scheme_of(project, tier_id: int):
    with project.store.transaction() as tx:
        return tx.schemes.get(tx.tiers.get(tier_id).scheme_id)


def test_a_new_categorical_scheme_and_scale_are_written_and_undone(project) -> None:
    rev = se.categorical("engagement", [("engaged", "1"), ("bored", "2")])
    edit = ChangeScheme(None, rev, actions=[SPLIT])
    edit.do(project.store)
    with project.store.transaction() as tx:
        made = tx.schemes.by_name("engagement")
    assert made.classes == ["engaged", "bored"]
    assert [c["color"] for c in made.definition["classes"]] == list(se.PALETTE[:2])
    edit.undo(project.store)
    with project.store.transaction() as tx:
        assert tx.schemes.by_name("engagement") is None
    edit.do(project.store)  # redo: the same row again
    with project.store.transaction() as tx:
        assert tx.schemes.by_name("engagement").id == made.id

    scale = se.scale("warmth", -3, 3, step=0.5, labels=("cold", "warm"), keys=("t", "g"))
    ChangeScheme(None, scale, actions=[SPLIT]).do(project.store)
    with project.store.transaction() as tx:
        dim = tx.schemes.by_name("warmth").definition["dimensions"][0]
    assert dim == {"name": "warmth", "min": -3.0, "max": 3.0, "step": 0.5, "labels": ["cold", "warm"],
                   "keys": ["t", "g"]}


@pytest.mark.parametrize(("rev", "message"), [
    (se.categorical("x", [("a", "1"), ("a", "2")]), "class 'a' is defined twice"),
    (se.categorical("x", [("a", "1"), ("b", "1")]), "key 1 is given twice in this scheme"),
    (se.categorical("x", [("a", "b")]), "key B of 'a' .* is already 'Split segment at the playhead'"),
    (se.categorical("x", [("a", "q")]), "key Q of 'a' .* is already 'valence up' \\(while rating with vad\\)"),
    (se.categorical("x", [("a", "Hyper+1")]), "'Hyper' is not a modifier"),
    (se.categorical("x", [("a", "Ctrl+1")]), "key Ctrl\\+1 is not one character typed without Ctrl, Alt or Shift"),
    (se.scale("x", 5, 1), "needs numeric min < max"),
    (se.scale("x", 1, 5, step=9), "step 9.0 is larger than the range"),
    (se.attributes("x", {"gender": ["f", "f"]}), "value 'f' is listed twice"),
    (se.categorical("emotion-4class", [("a", "1")]), "already exists"),
])
def test_bad_schemes_are_refused_and_nothing_is_written(project, rev, message) -> None:
    with project.store.transaction() as tx:
        before = {s.name: s.definition for s in tx.schemes.list()}
    with pytest.raises((LabelSchemeError, EditRefused), match=message):
        ChangeScheme(None, rev, actions=[SPLIT]).do(project.store)
    with project.store.transaction() as tx:
        assert {s.name: s.definition for s in tx.schemes.list()} == before


def test_a_colour_that_is_not_one_is_refused() -> None:
    rev = se.set_class(se.categorical("x", [("a", "1")]), "a", color="red")
    assert se.problems(rev) == ["class 'a': colour 'red' is not #rrggbb"]


def test_renaming_a_class_of_a_shipped_scheme_makes_a_project_copy_in_one_undo(labelled) -> None:
    project, sess, ann, emotion = labelled
    with project.store.transaction() as tx:
        template = tx.schemes.by_name("emotion-4class")
    rev = se.rename_class(se.start(template), "happy", "joy")
    edit = ChangeScheme(template.id, rev, actions=[SPLIT])
    edit.do(project.store)
    assert values(project, emotion.id) == ["joy", "sad", "joy"]
    copy = scheme_of(project, emotion.id)
    assert copy.name == "emotion-4class-project" and "joy" in copy.classes
    with project.store.transaction() as tx:
        assert tx.schemes.get(template.id).classes == ["neutral", "happy", "sad", "angry"]  # the template stays
        assert ("emotion", "emotion-4class-project", "categorical") in project_layout(tx)  # new sessions too
        assert [s.name for s in in_effect(tx.schemes.list())].count("emotion-4class") == 0
    edit.undo(project.store)
    assert values(project, emotion.id) == ["happy", "sad", "happy"]
    assert scheme_of(project, emotion.id).id == template.id
    edit.do(project.store)  # redo: the same copy (same id) again
    assert (scheme_of(project, emotion.id).id, values(project, emotion.id)) == (copy.id, ["joy", "sad", "joy"])
    edit.undo(project.store)
    with project.store.transaction() as tx:
        assert tx.schemes.by_name("emotion-4class-project") is None
        assert project_layout(tx)[0] == ("emotion", "emotion-4class", "categorical")


def test_merge_and_remove_of_a_project_scheme(labelled) -> None:
    project, sess, ann, emotion = labelled
    with project.store.transaction() as tx:
        template = tx.schemes.by_name("emotion-4class")
    ChangeScheme(template.id, se.start(template), copy_as="emo").do(project.store)  # now a project scheme
    emo = scheme_of(project, emotion.id)
    assert emo.name == "emo"
    merge = ChangeScheme(emo.id, se.merge_classes(se.start(emo), ["sad"], "happy"))
    merge.do(project.store)
    assert values(project, emotion.id) == ["happy", "happy", "happy"]
    assert scheme_of(project, emotion.id).classes == ["neutral", "happy", "angry"]
    merge.undo(project.store)
    assert values(project, emotion.id) == ["happy", "sad", "happy"]

    with pytest.raises(EditRefused, match="class 'sad' of 'emo' labels 1 segment; say which class they become"):
        ChangeScheme(emo.id, se.remove_class(se.start(emo), "sad")).do(project.store)
    assert scheme_of(project, emotion.id).classes == ["neutral", "happy", "sad", "angry"]
    ChangeScheme(emo.id, se.remove_class(se.start(emo), "angry")).do(project.store)  # unused: fine
    ChangeScheme(emo.id, se.remove_class(se.start(scheme_of(project, emotion.id)), "sad", map_to="neutral")).do(
        project.store)
    assert values(project, emotion.id) == ["happy", "neutral", "happy"]


def test_a_rename_then_a_merge_in_one_revision_maps_each_old_label_once() -> None:
    rev = se.categorical("x", [("a", "1"), ("b", "2"), ("c", "3")])
    rev = se.rename_class(rev, "a", "x")
    rev = se.merge_classes(rev, ["b"], "x")
    rev = se.rename_class(rev, "x", "y")
    assert {old: rev.relabel.get(old, old) for old in "abc"} == {"a": "y", "b": "y", "c": "c"}
    assert rev.classes() == ["y", "c"]


def test_tiers_are_added_renamed_and_reordered(labelled) -> None:
    project, sess, ann, emotion = labelled
    ChangeScheme(None, se.categorical("gaze", [("at partner", "g"), ("away", "h")])).do(project.store)
    with project.store.transaction() as tx:
        gaze = tx.schemes.by_name("gaze")
        a = tx.participants.by_code(sess.id, "A")
    add = AddTiers([TierSpec(sess.id, a.id, ann.id, "gaze", gaze.id)], layout=True)
    add.do(project.store)
    (tier,) = add.made
    assert tier.kind == "categorical" and tier.position > 0
    with pytest.raises(EditRefused, match="tier s1/A/gaze of ann exists already"):
        AddTiers([TierSpec(sess.id, a.id, ann.id, "gaze", gaze.id)]).do(project.store)
    with project.store.transaction() as tx:
        vad = tx.schemes.by_name("vad")
    with pytest.raises(EditRefused, match="named after the dimension it rates"):
        AddTiers([TierSpec(sess.id, a.id, ann.id, "mood", vad.id)]).do(project.store)

    rename = RenameTiers([tier.id], "gaze direction")
    rename.do(project.store)
    with pytest.raises(EditRefused, match="exists already"):
        RenameTiers([tier.id], "emotion").do(project.store)
    order = ReorderTiers([tier.id, emotion.id])
    order.do(project.store)
    with project.store.transaction() as tx:
        assert (tx.tiers.get(tier.id).name, tx.tiers.get(tier.id).position, tx.tiers.get(emotion.id).position) == (
            "gaze direction", 0, 1)
        assert ("gaze", "gaze", "categorical") in project_layout(tx)
        s2 = tx.sessions.add("s2", duration_us=S)
        tx.participants.add(s2.id, "A")
    assert "gaze" in {t.name for t in ensure_annotator_tiers(project.store, s2.id, ann)}  # the layout of new sessions
    bob = {t.name: t.position for t in ensure_annotator_tiers(project.store, sess.id, ensure_annotator(project.store,
                                                                                                        "bob"))}
    assert (bob["gaze direction"], bob["emotion"]) == (0, 1)  # another annotator's copy keeps the order
    order.undo(project.store)
    rename.undo(project.store)
    with project.store.transaction() as tx:
        assert tx.tiers.get(tier.id).name == "gaze"


def test_attribute_fields_give_the_allowed_values(project) -> None:
    ChangeScheme(None, se.attributes("participant", {"gender": ["female", "male", "other"]})).do(project.store)
    with project.store.transaction() as tx:
        schemes = tx.schemes.list()
    assert se.allowed_values(schemes, "gender") == ["female", "male", "other"]
    assert se.allowed_values(schemes, "handedness") is None


def test_every_shipped_scheme_passes_the_editor_checks_with_the_window_keys(project) -> None:
    """Copying a template unchanged must never be refused: the shipped keys obey the rules the editor enforces."""
    from dyadlab.core.cli.scheme import action_bindings

    actions = action_bindings()
    assert any(b.action == "edit.split" and b.key == "B" for b in actions)
    with project.store.transaction() as tx:
        shipped = [s for s in tx.schemes.list() if se.is_template(s.name) and s.kind in se.TIER_KIND]
    assert {s.name for s in shipped} >= {"emotion-4class", "vad", "iemocap-full"}
    for s in shipped:
        others = [b for o in shipped if o.id != s.id for b in scheme_bindings(o)]
        assert se.problems(se.start(s), actions + others) == [], s.name


def test_a_scale_template_copied_keeps_its_rating_keys(labelled) -> None:
    """The copy takes over from the template: the template's own rating keys are not a clash."""
    project, sess, ann, emotion = labelled
    with project.store.transaction() as tx:
        vad = tx.schemes.by_name("vad")
        valence = tx.tiers.list(sess.id, annotator_id=ann.id, name="valence")[0]
    ChangeScheme(vad.id, se.set_dimension(se.start(vad), "valence", step=0.25), actions=[SPLIT]).do(project.store)
    copy = scheme_of(project, valence.id)
    assert copy.name == "vad-project" and copy.definition["dimensions"][0]["step"] == 0.25
    assert copy.definition["dimensions"][0]["keys"] == ["q", "a"]
