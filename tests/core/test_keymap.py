"""The keymap's rules without a window: which keys a scheme offers, which contexts meet, who keeps a key."""

from __future__ import annotations

import pytest

from dyadlab.core import model
from dyadlab.core.keymap import (
    GLOBAL,
    Binding,
    KeyTextError,
    find_clashes,
    normalize_key,
    palette_keys,
    rating_context,
    resolve,
    scheme_bindings,
    tier_context,
)
from dyadlab.core.labels.schemes import load_scheme_file, shipped_scheme_files


def scheme(name: str, kind: str, **definition) -> model.LabelScheme:
    return model.LabelScheme(1, name, kind, definition)


VAD = scheme("vad", "dimensional", dimensions=[
    {"name": "valence", "min": 1.0, "max": 5.0, "keys": ["q", "a"]},
    {"name": "arousal", "min": 0.0, "max": 12.0, "keys": ["w", "s"]}])
MOODS = scheme("moods", "categorical", classes=[{"name": "neutral", "key": "n"}, {"name": "happy", "key": "h"},
                                                  {"name": "other"}])


@pytest.mark.parametrize(("text", "key"), [
    ("a", "A"), ("A", "A"), ("shift+a", "Shift+A"), ("Shift+Ctrl+Z", "Ctrl+Shift+Z"), ("Ctrl++", "Ctrl++"),
    ("Delete", "Del"), ("pageup", "PgUp"), ("F1", "F1"), ("?", "?"), ("", ""), ("Ctrl+K, c", "Ctrl+K, C")])
def test_one_spelling_per_key(text, key):
    assert normalize_key(text) == key


def test_a_key_that_is_not_one_is_named():
    with pytest.raises(KeyTextError, match="'Hyper'"):
        normalize_key("Hyper+Q")


def test_what_a_tier_offers():
    assert palette_keys(MOODS) == [("n", "neutral"), ("h", "happy"), ("", "other")]  # "other": offered, no key
    assert [b.text for b in scheme_bindings(MOODS)] == ["neutral", "happy"]  # a class with no key binds none
    assert palette_keys(VAD, "valence") == [(str(v), str(v)) for v in range(1, 6)]
    assert palette_keys(VAD, "arousal") == [(str(v), str(v)) for v in range(0, 10)]  # digits only
    assert palette_keys(VAD, "no such dimension") == palette_keys(VAD, "valence")
    assert palette_keys(scheme("hand", "keypoints", keypoints=["wrist"])) == []


def test_a_scheme_binds_rating_keys_and_digits_in_their_contexts():
    bound = {(b.key, b.text, b.context) for b in scheme_bindings(VAD)}
    assert ("A", "valence down", rating_context("vad")) in bound
    assert ("9", "score 9", tier_context("vad")) in bound and ("0", "score 0", tier_context("vad")) in bound
    assert len([b for b in scheme_bindings(VAD) if b.key == "1"]) == 1  # one digit, one meaning per scheme
    assert {b.context for b in scheme_bindings(MOODS)} == {tier_context("moods")}


def test_contexts_that_can_be_active_together():
    assert not tier_context("a").overlaps(tier_context("b"))  # one active tier at a time
    assert tier_context("a").overlaps(tier_context("a"))
    assert tier_context("a").overlaps(rating_context("b")) and rating_context("a").overlaps(rating_context("b"))
    assert all(GLOBAL.overlaps(c) for c in (tier_context("a"), rating_context("a"), GLOBAL))


def test_clashes_only_where_both_are_active():
    one, two = Binding("1", "a/x", "x", tier_context("a")), Binding("1", "b/y", "y", tier_context("b"))
    q = Binding("Q", "c/up", "up", rating_context("c"))
    assert find_clashes([one, two]) == []
    clash, = find_clashes([q, Binding("Q", "a/q", "q", tier_context("a")), one])
    assert clash.kept is q and "'up' (while rating with c)" in clash.message()


def test_a_scheme_key_wins_and_the_action_moves_to_shift():
    actions = [Binding("A", "assist.accept", "Accept"), Binding("N", "edit.new", "New segment"),
               Binding("Shift+N", "other", "Other"), Binding("Del", "edit.delete", "Delete"),
               Binding("S", "edit.delete", "Delete")]
    km = resolve(scheme_bindings(VAD) + scheme_bindings(MOODS), actions)
    assert km.keys_of("assist.accept") == ["Shift+A"]
    assert km.keys_of("edit.new") == []  # Shift+N is another action's own key: not taken from it
    assert km.keys_of("other") == ["Shift+N"]
    assert km.keys_of("edit.delete") == ["Del"]  # it keeps its other key, no fallback needed
    messages = km.messages()
    assert "A is 'valence down' (while rating with vad): 'Accept' moves to Shift+A" in messages
    assert any(m.startswith("N is 'neutral' (on a tier of moods): 'New segment' has no key") for m in messages)
    assert "S is 'arousal down' (while rating with vad): 'Delete' keeps only Del" in messages
    assert find_clashes(km.bindings) == []


def test_scheme_keys_that_meet_are_reported_and_rating_keys_win():
    rated = scheme("moods2", "categorical", classes=[{"name": "quiet", "key": "q"}, {"name": "loud", "key": "q"}])
    km = resolve(scheme_bindings(rated) + scheme_bindings(VAD), [])
    assert [(c.kept.text, c.lost.text) for c in km.clashes] == [("valence up", "quiet"), ("valence up", "loud")]
    assert find_clashes(km.bindings) == []


def test_would_clash_names_what_a_key_would_collide_with():
    km = resolve(scheme_bindings(VAD) + scheme_bindings(MOODS), [Binding("B", "edit.split", "Split")])
    assert [b.text for b in km.would_clash("b", tier_context("new"))] == ["Split"]
    assert [b.text for b in km.would_clash("n", tier_context("vad"))] == []  # moods' N is on another tier
    assert [b.text for b in km.would_clash("n", GLOBAL)] == ["neutral"]
    assert [b.text for b in km.would_clash("q", tier_context("moods"))] == ["valence up"]
    assert km.would_clash("B", GLOBAL, action="edit.split") == []  # its own key


def test_the_shipped_schemes_do_not_clash_among_themselves():
    schemes = [model.LabelScheme(i, *load_scheme_file(p)) for i, p in enumerate(shipped_scheme_files())]
    bindings = [b for s in schemes for b in scheme_bindings(s)]
    assert {"vad", "emotion-4class"} <= {s.name for s in schemes} and bindings
    assert find_clashes(bindings) == []
