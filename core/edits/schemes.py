"""Edits of the coding schemes and the tier layout: each one undoable step, all-or-nothing.

``ChangeScheme`` writes a ``core.labels.scheme_editing.Revision`` (a new or edited scheme) and, in the same
transaction, relabels the segments of every tier using the scheme that the revision renames or merges, so a
renamed class never leaves segments behind with a value the scheme no longer has; a class removed while
segments still carry it is refused unless the revision says where they go. A shipped scheme (a template,
``scheme_editing.is_template``) is never changed: editing it writes a project copy and moves the project's
editable tiers (and the layout of new sessions) onto the copy, all in the same step. ``AddTiers``,
``RenameTiers`` and ``ReorderTiers`` shape the tier layout per session, participant and annotator.

Key clashes: the edit checks the scheme's keys against the other schemes in the database at the moment it
commits, and against the window's action keys the caller passes (``actions``; the GUI's keymap, or the
default table for the CLI), so two clients cannot slip a clash past each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dyadlab.core import model
from dyadlab.core.edits.base import Edit, EditRefused, Touch
from dyadlab.core.edits.tiers import LAYOUT_SETTING, project_layout
from dyadlab.core.keymap import Binding, scheme_bindings
from dyadlab.core.labels.scheme_editing import TIER_KIND, Revision, check, is_template
from dyadlab.core.store import UnitOfWork

#: Definition key of a project copy: the shipped scheme it replaces (whose keys then no longer count).
COPIED_FROM = "copied_from"


def in_effect(schemes: Sequence[model.LabelScheme]) -> list[model.LabelScheme]:
    """The schemes whose keys are live: all, less the shipped templates a project copy replaced."""
    replaced = {s.definition.get(COPIED_FROM) for s in schemes}
    return [s for s in schemes if s.name not in replaced]


def copy_name(taken: set[str], template: str) -> str:
    """The name of a template's project copy: ``<template>-project`` (numbered when taken)."""
    name, n = f"{template}-project", 2
    while name in taken:
        name, n = f"{template}-project-{n}", n + 1
    return name


def _tier_ids(tx: UnitOfWork, scheme_id: int, *, editable: bool = False) -> list[int]:
    return [t.id for t in tx.tiers.list() if t.scheme_id == scheme_id and not (editable and t.read_only)]


class ChangeScheme(Edit):
    """Create a scheme (``scheme_id`` None) or change one, relabelling its segments as the revision says.

    ``actions``: the window's key bindings the scheme's keys must not take. ``copy_as``: the name of the
    project copy when ``scheme_id`` is a shipped template (default ``<name>-project``).
    """

    def __init__(self, scheme_id: int | None, revision: Revision, *, actions: Sequence[Binding] = (),
                 copy_as: str | None = None, text: str | None = None) -> None:
        self.scheme_id, self.revision, self.actions, self.copy_as = scheme_id, revision, list(actions), copy_as
        self.text = text or (f"New scheme {revision.name}" if scheme_id is None else f"Edit scheme {revision.name}")
        self.before: model.LabelScheme | None = None  # the scheme as it was (None: created here)
        self.written: model.LabelScheme | None = None  # the scheme as this edit left it (a copy: the copy)
        self.repointed: list[int] = []  # tiers moved from a template onto its copy
        self.layout_before: Any = None
        self.relabelled: list[tuple[int, str]] = []
        self.tiers: set[int] = set()

    # -- checks ----------------------------------------------------------------------------------------

    def _others(self, tx: UnitOfWork, skip: set[int]) -> list[Binding]:
        live = in_effect(tx.schemes.list())
        return self.actions + [b for s in live if s.id not in skip for b in scheme_bindings(s)]

    @staticmethod
    def _name_free(tx: UnitOfWork, name: str, own_id: int | None) -> None:
        other = tx.schemes.by_name(name)
        if other is not None and other.id != own_id:
            raise EditRefused(f"a scheme named {name!r} already exists; pick another name")
        if is_template(name) and own_id is None:
            raise EditRefused(f"{name!r} is the name of a shipped scheme; pick another name")

    def _check_removals(self, tx: UnitOfWork, old: model.LabelScheme, rev: Revision, tier_ids: list[int]) -> None:
        if old.kind != rev.kind:
            raise EditRefused(f"scheme {old.name!r} is {old.kind}; it cannot become {rev.kind} "
                              "(make a new scheme instead)")
        new = set(rev.classes())
        wrong = {t for t in rev.relabel.values() if t not in new}
        if wrong:
            raise EditRefused(f"cannot map labels to {sorted(wrong)[0]!r}: it is not a class of {rev.name!r}")
        gone = set(old.classes) - new - set(rev.relabel)
        in_use = {v: n for v, n in tx.segments.count_by_value(tier_ids).items() if v in gone} if tier_ids else {}
        if in_use:
            value, n = sorted(in_use.items())[0]
            raise EditRefused(f"class {value!r} of {old.name!r} labels {n} segment{'s' if n != 1 else ''}; "
                              "say which class they become (merge it into another, or remove it with a class "
                              "to map it to)")
        if rev.kind == "dimensional":
            dims = {d["name"] for d in rev.definition.get("dimensions", [])}
            used = {t.name for t in tx.tiers.list() if t.id in set(tier_ids)} - dims
            if used:
                raise EditRefused(f"dimension {sorted(used)[0]!r} of {old.name!r} is rated on tiers of that name; "
                                  "keep it (rename those tiers first)")

    # -- do / undo -----------------------------------------------------------------------------------

    def _write(self, tx: UnitOfWork, name: str, rev: Revision, own_id: int | None,
               replaces: int | None = None) -> model.LabelScheme:
        """Write the scheme (``own_id``: in place; else a new row); ``replaces``: the template a copy takes over
        from, whose keys then no longer count."""
        self._name_free(tx, name, own_id)
        definition = rev.definition
        final = replace(rev, name=name, definition=definition)
        check(final, self._others(tx, {i for i in (own_id, replaces) if i is not None}))
        if own_id is not None:
            return tx.schemes.update(own_id, name=name, definition=definition)
        if self.written is not None:  # redo: the same row (same id) again
            return tx.schemes.restore(replace(self.written, name=name, definition=definition))
        return tx.schemes.add(name, rev.kind, definition)

    def apply(self, tx: UnitOfWork) -> None:
        rev = self.revision
        if self.scheme_id is None:
            self.written = self._write(tx, rev.name, rev, None)
            return
        old = tx.schemes.get(self.scheme_id)
        self.before = old
        if is_template(old.name):
            name = self.copy_as or (rev.name if rev.name != old.name else copy_name(tx.schemes.names(), old.name))
            tier_ids = _tier_ids(tx, old.id, editable=True)
            self._check_removals(tx, old, rev, tier_ids)
            rev = replace(rev, definition={**rev.definition, COPIED_FROM: old.name})
            self.written = self._write(tx, name, rev, None, replaces=old.id)
            self.repointed = tier_ids
            for tier_id in tier_ids:
                tx.tiers.update(tier_id, scheme_id=self.written.id)
            self.layout_before = tx.settings.get(LAYOUT_SETTING)
            layout = [(n, name if s == old.name else s, k) for n, s, k in project_layout(tx)]
            tx.settings.set(LAYOUT_SETTING, [list(x) for x in layout])
        else:
            tier_ids = _tier_ids(tx, old.id)
            self._check_removals(tx, old, rev, tier_ids)
            self.written = self._write(tx, rev.name, rev, old.id)
            if old.name != rev.name:  # the layout of new sessions names schemes
                self.layout_before = tx.settings.get(LAYOUT_SETTING)
                if self.layout_before:
                    tx.settings.set(LAYOUT_SETTING, [[n, rev.name if s == old.name else s, k]
                                                     for n, s, k in self.layout_before])
        categorical = [t.id for t in tx.tiers.list() if t.id in set(tier_ids) and t.kind == "categorical"]
        self.relabelled = tx.segments.relabel(categorical, dict(rev.relabel))
        self.tiers = set(tier_ids)

    def revert(self, tx: UnitOfWork) -> None:
        tx.segments.restore_values(self.relabelled)
        assert self.written is not None
        if self.before is None:
            tx.schemes.delete(self.written.id)
            return
        if self.repointed:
            for tier_id in self.repointed:
                tx.tiers.update(tier_id, scheme_id=self.before.id)
        if self.written.id != self.before.id:
            tx.schemes.delete(self.written.id)
            tx.settings.set(LAYOUT_SETTING, self.layout_before)
        else:
            tx.schemes.update(self.before.id, name=self.before.name, definition=self.before.definition)
            if self.before.name != self.written.name and self.layout_before:
                tx.settings.set(LAYOUT_SETTING, self.layout_before)

    def touched(self) -> set[Touch]:
        ids = {s.id for s in (self.before, self.written) if s is not None}
        return {("schemes", i) for i in ids} | {("segments", t) for t in self.tiers}


# -- tiers ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierSpec:
    """One tier to add: where (session, participant or None for the session), whose, its name and scheme."""

    session_id: int
    participant_id: int | None
    annotator_id: int
    name: str
    scheme_id: int


def _tier_label(tx: UnitOfWork, tier: model.Tier | TierSpec) -> str:
    session = tx.sessions.get(tier.session_id).name
    who = tx.participants.get(tier.participant_id).code if tier.participant_id is not None else "session"
    return f"{session}/{who}/{tier.name} of {tx.annotators.get(tier.annotator_id).name}"


def _check_tier_name(tx: UnitOfWork, scheme: model.LabelScheme, name: str) -> None:
    if not name.strip() or name != name.strip() or "/" in name:
        raise EditRefused(f"tier name {name!r}: a tier needs a name without '/' or spaces at its ends")
    if scheme.kind not in TIER_KIND:
        raise EditRefused(f"scheme {scheme.name!r} is {scheme.kind}: only categorical schemes and continuous "
                          "scales label tiers")
    if scheme.kind == "dimensional":
        dims = [d["name"] for d in scheme.definition.get("dimensions", [])]
        if name not in dims:
            raise EditRefused(f"a tier of the scale {scheme.name!r} is named after the dimension it rates "
                              f"({', '.join(dims)}), not {name!r}")


def _clash(tx: UnitOfWork, session_id: int, participant_id: int | None, annotator_id: int, name: str,
           ignore: set[int]) -> model.Tier | None:
    return next((t for t in tx.tiers.list(session_id, annotator_id=annotator_id, name=name)
                 if t.participant_id == participant_id and t.id not in ignore), None)


class AddTiers(Edit):
    """Add tiers (one per spec); ``layout``: new sessions get the tier too. Undo removes them (empty)."""

    def __init__(self, specs: Sequence[TierSpec], *, layout: bool = False, text: str = "Add tier") -> None:
        if not specs:
            raise EditRefused("no tier to add: pick a session and a participant")
        self.specs, self.layout, self.text = list(specs), layout, text
        self.made: list[model.Tier] = []
        self.layout_before: Any = None

    def apply(self, tx: UnitOfWork) -> None:
        if self.made:  # redo: the same rows again
            self.made = [tx.tiers.restore(t) for t in self.made]
        else:
            seen: set[tuple[int, int | None, int, str]] = set()
            for spec in self.specs:
                scheme = tx.schemes.get(spec.scheme_id)
                _check_tier_name(tx, scheme, spec.name)
                key = (spec.session_id, spec.participant_id, spec.annotator_id, spec.name)
                if key in seen or _clash(tx, *key, ignore=set()) is not None:
                    raise EditRefused(f"tier {_tier_label(tx, spec)} exists already")
                seen.add(key)
                position = max((t.position for t in tx.tiers.list(spec.session_id)), default=0) + 1
                tier = tx.tiers.add(spec.session_id, spec.name, scheme_id=scheme.id, annotator_id=spec.annotator_id,
                                    kind=TIER_KIND[scheme.kind], participant_id=spec.participant_id)
                self.made.append(tx.tiers.update(tier.id, position=position))
        if self.layout:
            self.layout_before = tx.settings.get(LAYOUT_SETTING)
            layout = [list(x) for x in project_layout(tx)]
            for t in self.made:
                entry = [t.name, tx.schemes.get(t.scheme_id).name, t.kind]
                if entry not in layout:
                    layout.append(entry)
            tx.settings.set(LAYOUT_SETTING, layout)

    def revert(self, tx: UnitOfWork) -> None:
        for t in self.made:
            if tx.segments.list(t.id) or any(s.tier_id == t.id for s in tx.series.list(t.session_id)):
                raise EditRefused(f"tier {_tier_label(tx, t)} has labels now; delete them before removing it")
            tx.tiers.delete(t.id)
        if self.layout:
            tx.settings.set(LAYOUT_SETTING, self.layout_before)

    def touched(self) -> set[Touch]:
        return {("tiers", t.session_id) for t in self.made}


class RenameTiers(Edit):
    """Give tiers a new name (e.g. every annotator's "emotion" tier of a participant)."""

    def __init__(self, tier_ids: Sequence[int], name: str, *, text: str = "Rename tier") -> None:
        if not tier_ids:
            raise EditRefused("no tier to rename")
        self.tier_ids, self.name, self.text = list(tier_ids), name, text
        self.before: dict[int, str] = {}
        self.sessions: set[int] = set()

    def _set(self, tx: UnitOfWork, names: dict[int, str]) -> None:
        for tier_id, name in names.items():
            tier = tx.tiers.get(tier_id)
            _check_tier_name(tx, tx.schemes.get(tier.scheme_id), name)
            other = _clash(tx, tier.session_id, tier.participant_id, tier.annotator_id, name, set(names))
            if other is not None:
                raise EditRefused(f"tier {_tier_label(tx, other)} exists already")
            self.sessions.add(tier.session_id)
        if len({(tx.tiers.get(i).session_id, tx.tiers.get(i).participant_id, tx.tiers.get(i).annotator_id, n)
                for i, n in names.items()}) != len(names):
            raise EditRefused("two of these tiers would end up with the same name")
        for tier_id, name in names.items():
            tx.tiers.update(tier_id, name=name)

    def apply(self, tx: UnitOfWork) -> None:
        if not self.before:
            self.before = {i: tx.tiers.get(i).name for i in self.tier_ids}
        self._set(tx, dict.fromkeys(self.tier_ids, self.name))

    def revert(self, tx: UnitOfWork) -> None:
        self._set(tx, self.before)

    def touched(self) -> set[Touch]:
        return {("tiers", s) for s in self.sessions}


class ReorderTiers(Edit):
    """Show tiers in the given order (their ``position``); the others keep theirs."""

    def __init__(self, tier_ids: Sequence[int], *, text: str = "Reorder tiers") -> None:
        self.tier_ids, self.text = list(tier_ids), text
        self.before: dict[int, int] = {}
        self.sessions: set[int] = set()

    def apply(self, tx: UnitOfWork) -> None:
        tiers = [tx.tiers.get(i) for i in self.tier_ids]
        self.before = self.before or {t.id: t.position for t in tiers}
        self.sessions = {t.session_id for t in tiers}
        for position, t in enumerate(tiers):
            tx.tiers.update(t.id, position=position)

    def revert(self, tx: UnitOfWork) -> None:
        for tier_id, position in self.before.items():
            tx.tiers.update(tier_id, position=position)

    def touched(self) -> set[Touch]:
        return {("tiers", s) for s in self.sessions}
