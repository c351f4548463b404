"""``dyadlab scheme PROJECT ACTION ...``: the project's coding schemes and tier layout from the command line.

Why: annotation teams set up a project's classes, keys, scales and tiers before anyone labels, often in a
script; the Edit ▸ Coding schemes dialog and this command make the same edits (``core.labels.scheme_editing``
builds the change, ``core.edits.schemes`` checks and writes it in one transaction), so both refuse the same
things with the same words. A shipped scheme (emotion-4class, vad, ...) is a read-only template: editing it
writes a project copy (``--copy-as NAME``, default ``<name>-project``) that the project's tiers then use.

Class keys must not take a key of the window (B splits, N makes a segment, ...): the window's default
action keys come from its action table (``app/shortcuts.py``, read without opening a window).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

NAME = "scheme"
HELP = "list, create and edit the project's coding schemes (classes, keys, colours, scales, attribute fields) and tiers"


def _pair(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise argparse.ArgumentTypeError(f"expected two values separated by a comma, got {text!r}")
    return parts[0], parts[1]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    sub = p.add_subparsers(dest="scheme_command", metavar="ACTION")
    sub.add_parser("list", help="the project's schemes (the default)")
    show = sub.add_parser("show", help="one scheme's classes, keys and colours (or dimensions, or fields)")
    show.add_argument("scheme")

    new = sub.add_parser("new", help="a new scheme: categorical (--class), a scale (--min/--max) or attributes (--field)")
    new.add_argument("scheme", help="its name")
    new.add_argument("--kind", choices=("categorical", "scale", "attributes"), default="categorical")
    new.add_argument("--class", dest="classes", action="append", default=[], metavar="NAME[=KEY]",
                     help="a class and its key (repeat for each class)")
    new.add_argument("--min", type=float, help="scale: low end")
    new.add_argument("--max", type=float, help="scale: high end")
    new.add_argument("--step", type=float, help="scale: step")
    new.add_argument("--labels", type=_pair, metavar="LOW,HIGH", help="scale: what the two ends mean")
    new.add_argument("--keys", type=_pair, metavar="UP,DOWN", help="scale: rating keys")
    new.add_argument("--field", dest="fields", action="append", default=[], metavar="NAME=V1,V2,...",
                     help="attributes: a field and its allowed values (repeat for each field)")

    def edit(name: str, text: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=text)
        q.add_argument("scheme")
        q.add_argument("--copy-as", metavar="NAME", help="name of the project copy when SCHEME is a shipped one")
        return q

    q = edit("add-class", "add a class")
    q.add_argument("name")
    q.add_argument("--key")
    q.add_argument("--color", metavar="#RRGGBB")
    q = edit("set-class", "change a class's key or colour")
    q.add_argument("name")
    q.add_argument("--key", help="the new key ('' for none)")
    q.add_argument("--color", metavar="#RRGGBB")
    q = edit("rename-class", "rename a class; its segments follow")
    q.add_argument("old")
    q.add_argument("new")
    q = edit("merge", "merge classes into one; their segments become it")
    q.add_argument("sources", nargs="+")
    q.add_argument("--into", required=True, metavar="CLASS")
    q = edit("remove-class", "remove a class (one in use needs --map-to)")
    q.add_argument("name")
    q.add_argument("--map-to", metavar="CLASS", help="the class its segments become")
    q = edit("set-dimension", "change (or add) a dimension of a scale")
    q.add_argument("name")
    q.add_argument("--min", type=float)
    q.add_argument("--max", type=float)
    q.add_argument("--step", type=float)
    q.add_argument("--labels", type=_pair, metavar="LOW,HIGH")
    q.add_argument("--keys", type=_pair, metavar="UP,DOWN")
    q = edit("set-field", "set the allowed values of an attribute field")
    q.add_argument("name")
    q.add_argument("values", help="comma-separated")

    tier = sub.add_parser("tiers", help="the tiers of a session (or all) in display order")
    tier.add_argument("--session")
    add = sub.add_parser("add-tier", help="add a tier per participant (and session) for an annotator")
    add.add_argument("name")
    add.add_argument("--scheme", required=True)
    add.add_argument("--annotator", required=True)
    add.add_argument("--session", help="one session (default: every session, and new sessions get it too)")
    add.add_argument("--participant", help="one participant code (default: each participant)")
    ren = sub.add_parser("rename-tier", help="rename tiers (every match of the filters)")
    ren.add_argument("old")
    ren.add_argument("new")
    for q in (ren,):
        q.add_argument("--session")
        q.add_argument("--participant")
        q.add_argument("--annotator")
    order = sub.add_parser("reorder-tiers", help="show a participant's tiers in the order given")
    order.add_argument("names", nargs="+")
    order.add_argument("--session", required=True)
    order.add_argument("--participant", required=True)
    order.add_argument("--annotator", required=True)


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.project import open_project

    command = args.scheme_command or "list"
    with open_project(args.project) as project:
        if command == "list":
            return _list(project)
        if command == "show":
            return _show(project, args.scheme)
        if command == "tiers":
            return _tiers(project, args.session)
        if command in ("add-tier", "rename-tier", "reorder-tiers"):
            return _tier_command(project, command, args)
        return _scheme_command(project, command, args)


# -- reading ------------------------------------------------------------------------------------------------

def _list(project: Any) -> int:
    from dyadlab.core.labels.scheme_editing import is_template

    with project.store.transaction() as tx:
        schemes, tiers = tx.schemes.list(), tx.tiers.list()
    for s in schemes:
        used = sum(t.scheme_id == s.id for t in tiers)
        what = {"categorical": f"{len(s.classes)} classes", "dimensional":
                f"{len(s.definition.get('dimensions', []))} dimensions", "keypoints":
                f"{len(s.definition.get('keypoints', []))} keypoints", "attributes":
                f"{len(s.definition.get('fields', []))} fields"}.get(s.kind, "")
        mark = "  (shipped template)" if is_template(s.name) else ""
        print(f"{s.name:28} {s.kind:12} {what:16} {used} tiers{mark}")
    return 0


def _scheme(tx: Any, name: str) -> Any:
    from dyadlab.core.errors import LabelSchemeError

    scheme = tx.schemes.by_name(name)
    if scheme is None:
        raise LabelSchemeError(f"no scheme named {name!r}", hint=f"known: {', '.join(sorted(tx.schemes.names()))}")
    return scheme


def _show(project: Any, name: str) -> int:
    with project.store.transaction() as tx:
        s = _scheme(tx, name)
    print(f"{s.name} ({s.kind})")
    for c in s.definition.get("classes", []):
        print(f"  {c['name']:20} key {c.get('key') or '-':6} colour {c.get('color') or '-'}")
    for d in s.definition.get("dimensions", []):
        ends = " .. ".join(d.get("labels", [])) or "-"
        print(f"  {d['name']:20} {d['min']:g}..{d['max']:g} step {d.get('step', '-')}  ends {ends}  "
              f"keys {'/'.join(d.get('keys', [])) or '-'}")
    for f in s.definition.get("fields", []):
        print(f"  {f['name']:20} {', '.join(f['values'])}")
    return 0


def _tiers(project: Any, session: str | None) -> int:
    with project.store.transaction() as tx:
        sessions = {x.id: x.name for x in tx.sessions.list()}
        codes = {p.id: p.code for p in tx.participants.list()}
        who = {a.id: a.name for a in tx.annotators.list()}
        schemes = {s.id: s.name for s in tx.schemes.list()}
        tiers = [t for t in tx.tiers.list() if session is None or sessions[t.session_id] == session]
    for t in sorted(tiers, key=lambda t: (t.session_id, t.participant_id or 0, t.annotator_id, t.position, t.name)):
        print(f"{sessions[t.session_id]}/{codes.get(t.participant_id or -1, '-')}/{t.name}  by {who[t.annotator_id]}"
              f"  ({schemes[t.scheme_id]}, position {t.position}){'  read-only' if t.read_only else ''}")
    return 0


# -- scheme edits ----------------------------------------------------------------------------------------

def action_bindings() -> list[Any]:
    """The window's default action keys (B splits, ...), which class keys must not take. Read from the
    action table in ``app/shortcuts.py`` (Qt's GUI module, no window); empty where Qt cannot load."""
    from dyadlab.core.keymap import Binding, normalize_key

    try:
        from dyadlab.app.shortcuts import SPECS
    except ImportError:
        return []
    return [Binding(normalize_key(k), spec.id, spec.text) for spec in SPECS for k in spec.keys]


def _revision(tx: Any, command: str, args: argparse.Namespace) -> tuple[int | None, Any]:
    from dyadlab.core.labels import scheme_editing as se

    if command == "new":
        return None, _new(args)
    scheme = _scheme(tx, args.scheme)
    rev = se.start(scheme)
    if command == "add-class":
        return scheme.id, se.add_class(rev, args.name, args.key, args.color)
    if command == "set-class":
        return scheme.id, se.set_class(rev, args.name, key=args.key, color=args.color)
    if command == "rename-class":
        return scheme.id, se.rename_class(rev, args.old, args.new)
    if command == "merge":
        return scheme.id, se.merge_classes(rev, args.sources, args.into)
    if command == "remove-class":
        return scheme.id, se.remove_class(rev, args.name, args.map_to)
    if command == "set-dimension":
        return scheme.id, se.set_dimension(rev, args.name, low=args.min, high=args.max, step=args.step,
                                           labels=args.labels, keys=args.keys)
    return scheme.id, se.set_field(rev, args.name, [v for v in args.values.split(",") if v.strip()])


def _new(args: argparse.Namespace) -> Any:
    from dyadlab.core.errors import LabelSchemeError
    from dyadlab.core.labels import scheme_editing as se

    if args.kind == "scale":
        if args.min is None or args.max is None:
            raise LabelSchemeError("a scale needs --min and --max")
        return se.scale(args.scheme, args.min, args.max, step=args.step, labels=args.labels, keys=args.keys)
    if args.kind == "attributes":
        fields = {}
        for text in args.fields:
            name, _, values = text.partition("=")
            fields[name.strip()] = [v for v in values.split(",") if v.strip()]
        return se.attributes(args.scheme, fields)
    classes = [(name, key or None) for name, _, key in (c.partition("=") for c in args.classes)]
    return se.categorical(args.scheme, classes)


def _scheme_command(project: Any, command: str, args: argparse.Namespace) -> int:
    from dyadlab.core.edits.schemes import ChangeScheme

    with project.store.transaction() as tx:
        scheme_id, rev = _revision(tx, command, args)
    actions = action_bindings()
    if not actions:
        print("note: the window's action keys could not be read (Qt does not load here); keys were checked "
              "against the other schemes only", file=sys.stderr)
    edit = ChangeScheme(scheme_id, rev, actions=actions, copy_as=getattr(args, "copy_as", None))
    edit.do(project.store)
    written = edit.written
    print(f"{edit.text}: saved as {written.name!r}")
    if edit.before is not None and written.id != edit.before.id:
        print(f"{edit.before.name!r} is a shipped template and stays as it is; the project's copy {written.name!r} "
              f"is used by {len(edit.repointed)} tier{'s' if len(edit.repointed) != 1 else ''} now")
    if edit.relabelled:
        print(f"{len(edit.relabelled)} segment{'s' if len(edit.relabelled) != 1 else ''} relabelled "
              f"({', '.join(f'{a} -> {b}' for a, b in sorted(rev.relabel.items()))})")
    return 0


# -- tiers ----------------------------------------------------------------------------------------------

def _one(items: list[Any], what: str, name: str | None) -> Any:
    from dyadlab.core.errors import DyadLabError

    found = [x for x in items if name is None or getattr(x, "name", getattr(x, "code", None)) == name]
    if name is not None and not found:
        raise DyadLabError(f"no {what} named {name!r}")
    return found


def _tier_command(project: Any, command: str, args: argparse.Namespace) -> int:
    from dyadlab.core.edits.schemes import AddTiers, RenameTiers, ReorderTiers, TierSpec

    with project.store.transaction() as tx:
        sessions = _one(tx.sessions.list(), "session", args.session)
        annotator = _one(tx.annotators.list(), "annotator", args.annotator)[0] if args.annotator else None
        if command == "add-tier":
            scheme = _scheme(tx, args.scheme)
            specs = [TierSpec(s.id, p.id, annotator.id, args.name, scheme.id) for s in sessions
                     for p in _one(tx.participants.list(s.id), "participant", args.participant)]
            edit: Any = AddTiers(specs, layout=args.session is None)
        else:
            parts = {p.id: p.code for p in tx.participants.list()}
            tiers = [t for s in sessions for t in tx.tiers.list(s.id)
                     if (annotator is None or t.annotator_id == annotator.id)
                     and (args.participant is None or parts.get(t.participant_id or -1) == args.participant)]
            if command == "rename-tier":
                edit = RenameTiers([t.id for t in tiers if t.name == args.old], args.new)
            else:
                by_name = {t.name: t for t in tiers}
                missing = [n for n in args.names if n not in by_name]
                if missing:
                    from dyadlab.core.errors import DyadLabError

                    raise DyadLabError(f"no tier {missing[0]!r} of {args.annotator} for {args.participant} in "
                                       f"{args.session} (tiers: {', '.join(sorted(by_name))})")
                edit = ReorderTiers([by_name[n].id for n in args.names])
    edit.do(project.store)
    n = len(getattr(edit, "specs", None) or getattr(edit, "tier_ids", []))
    print(f"{edit.text}: {n} tier{'s' if n != 1 else ''}")
    return 0
