"""What an edited coding scheme must satisfy, and the changes people make to one, on plain definitions.

Why a module of its own: the scheme dialog, ``dyadlab scheme`` and the label importers all change schemes,
and all must refuse the same things with the same words *before* anything is written: a class or key
twice, a key another binding already answers to (named, so the user knows what to pick instead), a colour
that is not one, a scale whose ends are the wrong way round. Functions here take and return definitions as
the TOML files spell them (``[[classes]]`` with name/key/color; ``[[dimensions]]`` with min/max/step/labels/
keys; ``[[fields]]`` with name/values) and never touch the store: ``core.edits.schemes`` writes a
``Revision`` as one undoable edit and relabels the segments it renames.

The kinds a user builds:

* categorical: classes, each with an optional key (pressed to label) and a colour;
* dimensional ("continuous scale"): one or more dimensions, each a range ``min``..``max`` with a ``step``,
  the ``labels`` of its two ends ("negative", "positive") and two rating keys (up, down);
* attributes: fields of a participant (e.g. gender) with the values allowed for each.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dyadlab.core import model
from dyadlab.core.errors import LabelSchemeError
from dyadlab.core.keymap import (
    Binding,
    KeyTextError,
    find_clashes,
    normalize_key,
    rating_context,
    scheme_bindings,
)
from dyadlab.core.labels.schemes import shipped_scheme_files, validate_scheme

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Colours given to new classes in turn (the shipped schemes' palette, then more).
PALETTE = ("#9e9e9e", "#f9a825", "#1e88e5", "#e53935", "#8e24aa", "#00acc1", "#5d4037", "#43a047",
           "#fb8c00", "#3949ab", "#d81b60", "#6d4c41")
#: The tier kind a scheme of each kind labels (attribute and keypoint schemes label no tier).
TIER_KIND = {"categorical": "categorical", "dimensional": "dimensional"}


@cache
def template_names() -> frozenset[str]:
    """Names of the shipped schemes: read-only templates; editing one makes a project copy."""
    return frozenset(f.stem for f in shipped_scheme_files())


def is_template(name: str) -> bool:
    return name in template_names()


@dataclass(frozen=True)
class Revision:
    """A scheme's new name, kind and definition, and how existing labels follow it (old class -> new)."""

    name: str
    kind: str
    definition: dict[str, Any]
    relabel: dict[str, str] = field(default_factory=dict)

    def classes(self) -> list[str]:
        return [c["name"] for c in self.definition.get("classes", [])]

    def then(self, other: Revision) -> Revision:
        """This revision followed by ``other`` (a rename after a rename maps the first name to the last)."""
        relabel = {old: other.relabel.get(new, new) for old, new in self.relabel.items()}
        relabel.update({old: new for old, new in other.relabel.items() if old not in self.relabel})
        return Revision(other.name, other.kind, other.definition, {o: n for o, n in relabel.items() if o != n})


def start(scheme: model.LabelScheme) -> Revision:
    """A revision that changes nothing yet (the starting point of an editing session)."""
    return Revision(scheme.name, scheme.kind, copy.deepcopy(scheme.definition))


# -- the checks ------------------------------------------------------------------------------------------

def _key_problem(where: str, key: Any) -> str | None:
    if key in (None, ""):
        return None
    if not isinstance(key, str):
        return f"{where}: the key must be text, got {key!r}"
    try:
        name = normalize_key(key)
    except KeyTextError as exc:
        return f"{where}: {exc.problem}"
    if len(name) != 1:  # the key coder reads a key's text, pressed alone (held while playing)
        return f"{where}: key {name} is not one character typed without Ctrl, Alt or Shift; pick a letter or digit"
    return None


def _categorical_problems(definition: dict[str, Any]) -> list[str]:
    out = []
    for c in definition.get("classes", []):
        if not str(c["name"]).strip() or c["name"] != c["name"].strip():
            out.append(f"class {c['name']!r}: a class name may not be empty or start or end with spaces")
        problem = _key_problem(f"class {c['name']!r}", c.get("key"))
        if problem:
            out.append(problem)
        color = c.get("color")
        if color not in (None, "") and not (isinstance(color, str) and COLOR.match(color)):
            out.append(f"class {c['name']!r}: colour {color!r} is not #rrggbb")
    return out


def _dimensional_problems(definition: dict[str, Any]) -> list[str]:
    out, seen = [], set()
    for d in definition.get("dimensions", []):
        name = d["name"]
        if name in seen:
            out.append(f"dimension {name!r} is defined twice")
        seen.add(name)
        if not str(name).strip():
            out.append("a dimension needs a name")
        lo, hi, step = d.get("min"), d.get("max"), d.get("step")
        if step is not None:
            if not isinstance(step, int | float) or step <= 0:
                out.append(f"dimension {name!r}: step must be a number above 0, got {step!r}")
            elif isinstance(lo, int | float) and isinstance(hi, int | float) and step > hi - lo:
                out.append(f"dimension {name!r}: step {step} is larger than the range {lo}..{hi}")
        labels = d.get("labels", [])
        if labels and (not isinstance(labels, list) or len(labels) != 2 or not all(isinstance(x, str) for x in labels)):
            out.append(f"dimension {name!r}: labels must be two texts (low end, high end), got {labels!r}")
        keys = d.get("keys", [])
        if keys and (not isinstance(keys, list) or len(keys) != 2):
            out.append(f"dimension {name!r}: keys must be two keys (up, down), got {keys!r}")
        for key in keys if isinstance(keys, list) else []:
            problem = _key_problem(f"dimension {name!r}", key)
            if problem:
                out.append(problem)
    return out


def _attribute_problems(definition: dict[str, Any]) -> list[str]:
    fields = definition.get("fields")
    if not isinstance(fields, list) or not fields:
        return ["an attribute scheme needs a non-empty [[fields]] list (e.g. gender with its values)"]
    out, seen = [], set()
    for i, f in enumerate(fields):
        name = f.get("name") if isinstance(f, dict) else None
        if not isinstance(name, str) or not name.strip():
            out.append(f"attribute field #{i + 1} needs a name")
            continue
        if name in seen:
            out.append(f"attribute field {name!r} is defined twice")
        seen.add(name)
        values = f.get("values")
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            out.append(f"attribute field {name!r} needs a list of allowed values (texts), got {values!r}")
        elif len(set(values)) != len(values):
            twice = sorted({v for v in values if values.count(v) > 1})
            out.append(f"attribute field {name!r}: value {twice[0]!r} is listed twice")
    return out


def _half_pairs(name: str, kind: str, definition: dict[str, Any]) -> list[Binding]:
    """The one rating key of a dimension whose other key is not set yet: it binds nothing until the pair is
    complete, but is checked as it is pressed (else the pair's second key is refused naming the first)."""
    context = rating_context(name)
    out = []
    for d in definition.get("dimensions", []) if kind == "dimensional" else []:
        keys = d.get("keys", [])
        if isinstance(keys, list) and len(keys) == 2 and sum(bool(k) for k in keys) == 1:
            key, way = (keys[0], "up") if keys[0] else (keys[1], "down")
            try:
                out.append(Binding(normalize_key(str(key)), f"{name}/{d['name']} {way}", f"{d['name']} {way}", context))
            except KeyTextError:
                continue  # reported by _dimensional_problems
    return out


def key_clashes(name: str, kind: str, definition: dict[str, Any], others: Iterable[Binding]) -> list[str]:
    """The scheme's keys that collide: with each other, or with ``others`` (the window's actions and the
    other schemes' keys), one sentence each naming what already holds the key."""
    mine = scheme_bindings(model.LabelScheme(0, name, kind, definition)) + _half_pairs(name, kind, definition)
    out = [f"key {c.key} is given twice in this scheme: {c.kept.describe()} and {c.lost.describe()}"
           for c in find_clashes(mine)]
    others = [b for b in others if b.context.scheme not in (name,)]
    for b in mine:
        holders = [o for o in others if o.key == b.key and o.action != b.action and o.context.overlaps(b.context)]
        if holders:
            held = " and ".join(h.describe() for h in holders)
            out.append(f"key {b.key} of {b.describe()} is already {held}; choose another key")
    return out


def problems(revision: Revision, others: Iterable[Binding] = ()) -> list[str]:
    """Everything wrong with ``revision`` (empty: it may be written)."""
    name, kind, definition = revision.name, revision.kind, revision.definition
    if kind == "attributes":
        out = [] if name.strip() else ["scheme needs a non-empty name"]
        return out + _attribute_problems(definition)
    try:
        validate_scheme({"name": name, "kind": kind, **definition})
    except LabelSchemeError as exc:
        return [exc.problem]
    out = [] if name == name.strip() else [f"scheme name {name!r} may not start or end with spaces"]
    if kind == "categorical":
        out += _categorical_problems(definition)
    elif kind == "dimensional":
        out += _dimensional_problems(definition)
    if not out:
        out += key_clashes(name, kind, definition, others)
    return out


def check(revision: Revision, others: Iterable[Binding] = ()) -> None:
    """Raise LabelSchemeError listing every problem of ``revision``; nothing is written by the caller then."""
    found = problems(revision, others)
    if found:
        raise LabelSchemeError(f"scheme {revision.name!r}: " + "; ".join(found))


# -- new schemes -------------------------------------------------------------------------------------------

def categorical(name: str, classes: Sequence[tuple[str, str | None]] = (), description: str = "") -> Revision:
    """A new categorical scheme: (class, key or None) pairs; colours from ``PALETTE`` in turn."""
    defn: dict[str, Any] = {"classes": [_class(c, k, PALETTE[i % len(PALETTE)]) for i, (c, k) in enumerate(classes)]}
    if description:
        defn["description"] = description
    return Revision(name.strip(), "categorical", defn)


def scale(name: str, low: float, high: float, *, step: float | None = None, labels: tuple[str, str] | None = None,
          keys: tuple[str, str] | None = None, dimension: str | None = None) -> Revision:
    """A new continuous scale: one dimension (named like the scheme unless given) from ``low`` to ``high``."""
    return Revision(name.strip(), "dimensional", {"dimensions": [_dimension(dimension or name.strip(), low, high,
                                                                             step, labels, keys)]})


def attributes(name: str, fields: dict[str, Sequence[str]]) -> Revision:
    """A new attribute scheme: participant fields with their allowed values (``{"gender": [...]}``)."""
    return Revision(name.strip(), "attributes",
                    {"fields": [{"name": f, "values": [v.strip() for v in values]} for f, values in fields.items()]})


def _class(name: str, key: str | None, color: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name.strip()}
    if key:
        out["key"] = key.lower() if len(key) == 1 else key
    if color:
        out["color"] = color
    return out


def _dimension(name: str, low: float, high: float, step: float | None, labels: tuple[str, str] | None,
               keys: tuple[str, str] | None) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name.strip(), "min": float(low), "max": float(high)}
    if step is not None:
        d["step"] = float(step)
    if labels:
        d["labels"] = [labels[0], labels[1]]
    if keys:
        d["keys"] = [k.lower() if len(k) == 1 else k for k in keys]
    return d


# -- changes to a categorical scheme --------------------------------------------------------------------

def _classes(rev: Revision) -> list[dict[str, Any]]:
    if rev.kind != "categorical":
        raise LabelSchemeError(f"scheme {rev.name!r} is {rev.kind}, not categorical: it has no classes")
    return rev.definition.get("classes", [])


def _find(rev: Revision, name: str) -> int:
    names = [c["name"] for c in _classes(rev)]
    if name not in names:
        raise LabelSchemeError(f"scheme {rev.name!r} has no class {name!r} (classes: {', '.join(names)})")
    return names.index(name)


def _with_classes(rev: Revision, classes: list[dict[str, Any]], relabel: dict[str, str] | None = None) -> Revision:
    defn = {**rev.definition, "classes": classes}
    names = {c["name"] for c in classes}
    if "map" in defn:  # corpus labels that became a class now renamed or gone follow it
        follow = relabel or {}
        defn["map"] = {src: follow.get(dst, dst) for src, dst in defn["map"].items() if dst == "" or
                       follow.get(dst, dst) in names}
    return rev.then(Revision(rev.name, rev.kind, defn, dict(relabel or {})))


def add_class(rev: Revision, name: str, key: str | None = None, color: str | None = None) -> Revision:
    classes = copy.deepcopy(_classes(rev))
    if name.strip() in {c["name"] for c in classes}:
        raise LabelSchemeError(f"scheme {rev.name!r} already has a class {name.strip()!r}")
    classes.append(_class(name, key, color or PALETTE[len(classes) % len(PALETTE)]))
    return _with_classes(rev, classes)


def set_class(rev: Revision, name: str, *, key: str | None = None, color: str | None = None) -> Revision:
    """Change a class's key and/or colour (``""`` clears a key)."""
    classes = copy.deepcopy(_classes(rev))
    c = classes[_find(rev, name)]
    if key is not None:
        c.pop("key", None)
        c.update(_class(name, key, None))
    if color is not None:
        c["color"] = color
    return _with_classes(rev, classes)


def rename_class(rev: Revision, old: str, new: str) -> Revision:
    """``old`` becomes ``new``; segments labelled ``old`` follow."""
    new = new.strip()
    classes = copy.deepcopy(_classes(rev))
    i = _find(rev, old)
    if new in {c["name"] for c in classes}:
        raise LabelSchemeError(f"scheme {rev.name!r} already has a class {new!r}; merge the two instead")
    classes[i]["name"] = new
    return _with_classes(rev, classes, {old: new})


def merge_classes(rev: Revision, sources: Sequence[str], target: str) -> Revision:
    """The ``sources`` classes go away; segments labelled with them become ``target``."""
    _find(rev, target)
    for s in sources:
        _find(rev, s)
        if s == target:
            raise LabelSchemeError(f"cannot merge class {s!r} into itself")
    classes = [c for c in copy.deepcopy(_classes(rev)) if c["name"] not in set(sources)]
    return _with_classes(rev, classes, dict.fromkeys(sources, target))


def remove_class(rev: Revision, name: str, map_to: str | None = None) -> Revision:
    """Remove a class; ``map_to`` is where its segments go (the edit refuses a class in use without one)."""
    if map_to is not None:
        return merge_classes(rev, [name], map_to)
    _find(rev, name)
    return _with_classes(rev, [c for c in copy.deepcopy(_classes(rev)) if c["name"] != name])


def move_class(rev: Revision, name: str, offset: int) -> Revision:
    """Move a class up (negative) or down in the palette order."""
    classes = copy.deepcopy(_classes(rev))
    i = _find(rev, name)
    j = max(0, min(len(classes) - 1, i + offset))
    classes.insert(j, classes.pop(i))
    return _with_classes(rev, classes)


# -- changes to a scale or an attribute scheme ------------------------------------------------------------

def set_dimension(rev: Revision, name: str, *, low: float | None = None, high: float | None = None,
                  step: float | None = None, labels: tuple[str, str] | None = None,
                  keys: tuple[str, str] | None = None, new_name: str | None = None) -> Revision:
    """Change one dimension of a scale (adding it when the scheme has none of that name)."""
    if rev.kind != "dimensional":
        raise LabelSchemeError(f"scheme {rev.name!r} is {rev.kind}, not a continuous scale")
    dims = copy.deepcopy(rev.definition.get("dimensions", []))
    d = next((x for x in dims if x["name"] == name), None)
    if d is None:
        if low is None or high is None:
            raise LabelSchemeError(f"a new dimension {name!r} needs its range (--min and --max)")
        dims.append(_dimension(name, low, high, step, labels, keys))
    else:
        d.update(_dimension(new_name or name, d["min"] if low is None else low, d["max"] if high is None else high,
                            d.get("step") if step is None else step, labels or tuple(d.get("labels", ())) or None,
                            keys or tuple(d.get("keys", ())) or None))
    return rev.then(Revision(rev.name, rev.kind, {**rev.definition, "dimensions": dims}))


def set_field(rev: Revision, name: str, values: Sequence[str]) -> Revision:
    """Set the allowed values of an attribute field (adding the field when it is new)."""
    if rev.kind != "attributes":
        raise LabelSchemeError(f"scheme {rev.name!r} is {rev.kind}, not an attribute scheme")
    fields = [f for f in copy.deepcopy(rev.definition.get("fields", [])) if f["name"] != name]
    old = [f["name"] for f in rev.definition.get("fields", [])]
    fields.insert(old.index(name) if name in old else len(fields), {"name": name, "values": [v.strip() for v in values]})
    return rev.then(Revision(rev.name, rev.kind, {**rev.definition, "fields": fields}))


def allowed_values(schemes: Iterable[model.LabelScheme], field_name: str) -> list[str] | None:
    """The values the project's attribute schemes allow for a participant field; None when none says."""
    for s in schemes:
        if s.kind == "attributes":
            for f in s.definition.get("fields", []):
                if f.get("name") == field_name:
                    return list(f.get("values", []))
    return None
