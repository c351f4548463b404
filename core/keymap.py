"""Which keys exist, where each one is active, and which of them clash: the keymap's rules, without Qt.

Three sources bind keys in DyadLab, each active in its own context:

* the window's actions (``app/shortcuts.py``: Space plays, B splits, ...): everywhere in the window;
* the class keys of a categorical scheme and the score digits of a dimensional one: while a tier of that
  scheme is the active tier (only one tier is active at a time);
* the rating keys of a dimensional scheme (Q/A valence, ...): while the rating panel rates a participant's
  tiers of that scheme.

A key means one thing only if no two bindings whose contexts can be active together share it
(``Context.overlaps``). ``find_clashes`` lists the pairs that do; ``resolve`` decides who keeps a contested
key — scheme keys first (they are the team's coding scheme, stored in the project; rating keys before class
keys, the order the key coder tries them), then the actions in table order — and moves an action that lost
its only key to Shift+key when that is free, so nothing is silently dead and the user can be told.
``Keymap.would_clash`` answers a scheme editor's "may this class take key K?".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dyadlab.core import model
from dyadlab.core.errors import DyadLabError

GLOBAL_KIND, TIER_KIND, RATING_KIND = "global", "tier", "rating"
MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
_MODIFIER_NAMES = {"ctrl": "Ctrl", "control": "Ctrl", "alt": "Alt", "shift": "Shift", "meta": "Meta"}
_KEY_NAMES = {"delete": "Del", "escape": "Esc", "pageup": "PgUp", "pagedown": "PgDown", "return": "Return",
              "enter": "Enter", "space": "Space", "backspace": "Backspace", "ins": "Ins", "insert": "Ins"}
# Resolution order: who keeps a contested key (the key coder tries rating keys before class keys; both
# are read before the window's actions could ever see the key, so actions come last).
_PRIORITY = {RATING_KIND: 0, TIER_KIND: 1, GLOBAL_KIND: 2}


class KeyTextError(DyadLabError):
    """A key written in a scheme file or a setting that is not a key (e.g. ``"Hyper+Q"``)."""


def normalize_key(text: str) -> str:
    """One spelling per key, so "a", "A" and Qt's "A" compare equal: modifiers in Ctrl, Alt, Shift, Meta
    order, a single character upper-cased, common names unified ("Delete" -> "Del"). Chords of a multi-key
    sequence are separated by ", " (Qt's portable text). The empty string stays empty (no key)."""
    text = text.strip()
    if not text:
        return ""
    if len(text) > 1 and ", " in text:
        return ", ".join(normalize_key(chord) for chord in text.split(", "))
    if text == "+" or len(text) == 1:
        return text.upper()
    if text.endswith("++"):
        mods, key = text[:-2].split("+"), "+"
    else:
        *mods, key = text.split("+")
    names = []
    for m in mods:
        name = _MODIFIER_NAMES.get(m.strip().lower())
        if name is None:
            raise KeyTextError(f"{text!r}: {m!r} is not a modifier (use {', '.join(MODIFIERS)})")
        names.append(name)
    key = key.strip()
    if not key:
        raise KeyTextError(f"{text!r} names no key after its modifiers")
    key = key.upper() if len(key) == 1 else _KEY_NAMES.get(key.lower(), key[0].upper() + key[1:])
    return "+".join([*sorted(set(names), key=MODIFIERS.index), key])


@dataclass(frozen=True)
class Context:
    """Where a binding is active: everywhere (``global``), on a tier of ``scheme``, or rating with it."""

    kind: str
    scheme: str | None = None

    def overlaps(self, other: Context) -> bool:
        """Whether both can be active at once: all can, except tiers of two schemes (one tier is active)."""
        return not (self.kind == other.kind == TIER_KIND and self.scheme != other.scheme)

    def describe(self) -> str:
        if self.kind == TIER_KIND:
            return f"on a tier of {self.scheme}"
        if self.kind == RATING_KIND:
            return f"while rating with {self.scheme}"
        return "everywhere"


GLOBAL = Context(GLOBAL_KIND)


def tier_context(scheme: str) -> Context:
    return Context(TIER_KIND, scheme)


def rating_context(scheme: str) -> Context:
    return Context(RATING_KIND, scheme)


@dataclass(frozen=True)
class Binding:
    """One key doing one thing in one context. ``action`` is a stable id ("edit.split", "vad/valence up")."""

    key: str  # as normalize_key spells it
    action: str
    text: str  # what the user reads: "Split segment at the playhead", "valence up"
    context: Context = GLOBAL

    def describe(self) -> str:
        where = "" if self.context.kind == GLOBAL_KIND else f" ({self.context.describe()})"
        return f"'{self.text}'{where}"


@dataclass(frozen=True)
class Clash:
    """Two bindings that share a key in contexts that can be active together; ``kept`` is the one that acts."""

    key: str
    kept: Binding
    lost: Binding

    def message(self) -> str:
        return f"{self.key} is both {self.kept.describe()} and {self.lost.describe()}: {self.kept.describe()} acts"


@dataclass(frozen=True)
class Remap:
    """An action that lost ``key`` to ``taken_by``; it now answers to ``new_key`` (None: to its other keys
    ``kept``, or to no key at all)."""

    action: str
    text: str
    key: str
    taken_by: Binding
    new_key: str | None = None
    kept: tuple[str, ...] = ()

    def message(self) -> str:
        head = f"{self.key} is {self.taken_by.describe()}: '{self.text}'"
        if self.new_key:
            return f"{head} moves to {self.new_key}"
        if self.kept:
            return f"{head} keeps only {', '.join(self.kept)}"
        return f"{head} has no key now (set one in Help > Keyboard shortcuts)"


# -- the keys a scheme offers ---------------------------------------------------------------------------

def palette_keys(scheme: model.LabelScheme, tier_name: str | None = None) -> list[tuple[str, str]]:
    """(key, value) pairs a tier of ``scheme`` offers: every class of a categorical scheme with its key ("" for
    a class with none yet, e.g. added by a label import: the palette still offers it to click), or the score
    digits (0-9 inside the range) of the dimension named ``tier_name`` (the first one when none matches)."""
    if scheme.kind == "categorical":
        return [(str(c.get("key") or ""), c["name"]) for c in scheme.definition.get("classes", [])]
    if scheme.kind != "dimensional":
        return []
    dims = scheme.definition.get("dimensions", [])
    dim = next((d for d in dims if d["name"] == tier_name), dims[0] if dims else None)
    if dim is None:
        return []
    return [(str(v), str(v)) for v in range(int(dim["min"]), int(dim["max"]) + 1) if 0 <= v <= 9]


def rating_keys(scheme: model.LabelScheme) -> list[tuple[str, str, str]]:
    """(dimension, up key, down key) for each dimension of a dimensional scheme that has two keys."""
    if scheme.kind != "dimensional":
        return []
    out = []
    for d in scheme.definition.get("dimensions", []):
        keys = d.get("keys", [])
        if len(keys) == 2 and all(isinstance(k, str) and k for k in keys):
            out.append((d["name"], keys[0], keys[1]))
    return out


def scheme_bindings(scheme: model.LabelScheme) -> list[Binding]:
    """Every key ``scheme`` binds, with the context where it is active (rating keys first)."""
    rating = rating_context(scheme.name)
    out = [Binding(normalize_key(key), f"{scheme.name}/{name} {way}", f"{name} {way}", rating)
           for name, up, down in rating_keys(scheme) for key, way in ((up, "up"), (down, "down"))]
    tier = tier_context(scheme.name)
    if scheme.kind == "categorical":
        out += [Binding(normalize_key(key), f"{scheme.name}/{value}", value, tier)
                for key, value in palette_keys(scheme) if key]
    else:  # the score digits: the same meaning on every dimension of the scheme
        digits = sorted({key for d in scheme.definition.get("dimensions", [])
                         for key, _ in palette_keys(scheme, d["name"])})
        out += [Binding(normalize_key(key), f"{scheme.name}/score {key}", f"score {key}", tier) for key in digits]
    return out


# -- clashes and who keeps a key ------------------------------------------------------------------------

def _holder(kept: Iterable[Binding], key: str, context: Context, action: str | None = None) -> Binding | None:
    return next((b for b in kept if b.key == key and b.action != action and b.context.overlaps(context)), None)


def find_clashes(bindings: Sequence[Binding]) -> list[Clash]:
    """Every pair of bindings that share a key where both can be active (the first of the pair acts)."""
    out = []
    for i, a in enumerate(bindings):
        for b in bindings[i + 1:]:
            if a.key and a.key == b.key and a.action != b.action and a.context.overlaps(b.context):
                out.append(Clash(a.key, a, b))
    return out


@dataclass
class Keymap:
    """The bindings in effect after ``resolve``, with what had to give way and why."""

    bindings: list[Binding] = field(default_factory=list)
    remaps: list[Remap] = field(default_factory=list)
    clashes: list[Clash] = field(default_factory=list)  # between scheme keys: told, not changed

    def keys_of(self, action: str) -> list[str]:
        return [b.key for b in self.bindings if b.action == action]

    def would_clash(self, key: str, context: Context = GLOBAL, *, action: str | None = None) -> list[Binding]:
        """The bindings in effect that key ``key`` in ``context`` would collide with (``action``'s own
        bindings aside): empty when the key is free there. For the shortcut dialog and scheme editors."""
        key = normalize_key(key)
        return [b for b in self.bindings
                if key and b.key == key and b.action != action and b.context.overlaps(context)]

    def messages(self) -> list[str]:
        return [r.message() for r in self.remaps] + [c.message() for c in self.clashes]


def _shifted(key: str) -> str | None:
    """The fallback for a plain single key that was taken: the same key with Shift."""
    return f"Shift+{key}" if len(key) == 1 and key.strip() else None


def resolve(schemes: Iterable[Binding], actions: Sequence[Binding]) -> Keymap:
    """Decide who keeps each contested key: scheme keys first (rating, then class keys), then the actions
    in the order given. An action whose every key was taken moves to Shift+key when no binding and no
    other action's own keys use that."""
    result = Keymap()
    kept = result.bindings
    for b in sorted(schemes, key=lambda b: _PRIORITY[b.context.kind]):
        holder = _holder(kept, b.key, b.context, b.action) if b.key else None
        if holder is not None:
            result.clashes.append(Clash(b.key, holder, b))
        elif b.key:
            kept.append(b)
    order: list[str] = []
    by_action: dict[str, list[Binding]] = {}
    for b in actions:
        if b.action not in by_action:
            order.append(b.action)
        by_action.setdefault(b.action, []).append(b)
    for action in order:
        lost: list[tuple[Binding, Binding]] = []
        mine: list[Binding] = []
        for b in by_action[action]:
            if not b.key or b.key in (m.key for m in mine):
                continue
            holder = _holder(kept, b.key, b.context, action)
            if holder is None:
                mine.append(b)
            else:
                lost.append((b, holder))
        kept.extend(mine)
        for b, holder in lost:
            fallback = _shifted(b.key) if not mine else None
            if (fallback is not None and _holder(kept, fallback, b.context, action) is None
                    and _holder(actions, fallback, b.context, action) is None):  # nor another action's own key
                moved = Binding(fallback, action, b.text, b.context)
                kept.append(moved)
                mine.append(moved)
                result.remaps.append(Remap(action, b.text, b.key, holder, new_key=fallback))
            else:
                result.remaps.append(Remap(action, b.text, b.key, holder, kept=tuple(m.key for m in mine)))
    return result
