"""Who may do what in a shared project: annotator, reviewer and admin accounts.

The rules themselves are the rule table in ``rules.py``, which the PostgreSQL server of a team project
also enforces (row-level security, ``server_rules.py``); this module asks it in DyadLab's own terms. On
a SQLite project (one user, one file) DyadLab is the only guard, so every edit path (edits, importers,
the CLI, the GUI) calls ``require(actor, action, tier=...)`` before it changes anything, and the GUI calls
``allowed`` to grey out what the user may not do — the same answer the server would give.

In short:
- annotator: edits segments on their own tiers and creates tiers for themselves;
- reviewer: also edits other annotators' tiers and merges gold standards;
- admin: everything, including managing accounts and label schemes.
Nobody edits a read-only tier (model outputs, imported corpus labels), and only human accounts act:
"gold", "model" and "corpus" annotators own tiers but never log in.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from dyadlab.core import model
from dyadlab.core.errors import DyadLabError, StoreError
from dyadlab.core.store import convert
from dyadlab.core.store import schema as s
from dyadlab.core.store.rules import Op, Role, Scope, permits, roles_allowed, scope

if TYPE_CHECKING:
    from dyadlab.core.store import UnitOfWork

__all__ = ["AccessDenied", "Action", "Op", "Role", "add_account", "allowed", "can", "require", "role_of", "set_role",
           "why_not"]


class AccessDenied(DyadLabError):
    """The account's role does not allow the action; nothing was changed."""


class Action(StrEnum):
    EDIT_TIER = "edit segments on a tier"  # pass the tier: its owner and read-only flag decide
    CREATE_TIER = "create tiers"
    MERGE_GOLD = "merge a gold standard"
    MANAGE_ACCOUNTS = "manage accounts"
    MANAGE_SCHEMES = "manage label schemes"


#: Each action as the table it writes, how, and the scopes of the rule table that allow it.
_NEEDS: dict[Action, tuple[str, Op, frozenset[Scope]]] = {
    Action.CREATE_TIER: ("tiers", Op.INSERT, frozenset({Scope.OWN, Scope.HUMAN, Scope.ALL})),
    Action.MERGE_GOLD: ("segments", Op.INSERT, frozenset({Scope.GOLD, Scope.HUMAN, Scope.ALL})),
    Action.MANAGE_ACCOUNTS: ("annotators", Op.INSERT, frozenset({Scope.ALL})),
    Action.MANAGE_SCHEMES: ("label_schemes", Op.INSERT, frozenset({Scope.ALL})),
    Action.EDIT_TIER: ("segments", Op.UPDATE, frozenset({Scope.OWN, Scope.HUMAN, Scope.ALL})),
}


def role_of(actor: model.Annotator) -> Role:
    try:
        return Role(actor.role)
    except ValueError:
        raise AccessDenied(f"account {actor.name!r} has an unknown role {actor.role!r}",
                           hint=f"an admin can set one of: {', '.join(r.value for r in Role)}") from None


def _deny(actor: model.Annotator, role: Role, what: str, roles: list[Role]) -> AccessDenied:
    names = " or ".join(repr(r.value) for r in roles)
    return AccessDenied(f"{actor.name!r} is {role.value!r} and may not {what}",
                        hint=f"this needs the {names} role; ask an admin")


def require(actor: model.Annotator, action: Action, *, tier: model.Tier | None = None,
            owner_kind: str | None = None) -> None:
    """Raise AccessDenied unless ``actor`` may do ``action`` (for EDIT_TIER: on ``tier``, whose owner
    annotator is of ``owner_kind`` when the caller knows it)."""
    if actor.kind != "human":
        raise AccessDenied(f"{actor.name!r} is a {actor.kind} annotator, not a person's account; "
                           "it cannot make changes")
    role = role_of(actor)
    table, op, scopes = _NEEDS[action]
    if action is not Action.EDIT_TIER:
        if scope(role, table, op) not in scopes:
            raise _deny(actor, role, action.value, roles_allowed(table, scopes, op))
        return
    if tier is None:
        raise ValueError("require(EDIT_TIER) needs the tier being edited")
    if tier.read_only:
        raise AccessDenied(f"tier {tier.name!r} (id {tier.id}) is read-only; nobody may edit it",
                           hint="copy its segments to your own tier to correct them")
    if not permits(role, table, op, me=actor.id, owner_id=tier.annotator_id, owner_kind=owner_kind):
        others = roles_allowed(table, frozenset({Scope.HUMAN, Scope.ALL}), op)
        if owner_kind is not None and owner_kind not in ("human", "gold"):
            raise AccessDenied(f"tier {tier.name!r} (id {tier.id}) belongs to a {owner_kind} annotator; "
                               "nobody may edit it", hint="copy its segments to your own tier to correct them")
        raise _deny(actor, role, f"edit another annotator's tier {tier.name!r} (id {tier.id})", others)


def allowed(actor: model.Annotator, action: Action, *, tier: model.Tier | None = None,
            owner_kind: str | None = None) -> bool:
    """Whether ``require`` would pass (for enabling menu items and tools)."""
    try:
        require(actor, action, tier=tier, owner_kind=owner_kind)
    except AccessDenied:
        return False
    return True


def can(actor: model.Annotator, table: str, op: Op = Op.UPDATE, *, owner: model.Annotator | None = None,
        locked: bool = False, columns: Iterable[str] | None = None) -> bool:
    """Whether ``actor`` may ``op`` a row of ``table`` owned by ``owner`` (``locked``: a read-only tier or a
    model's series; ``columns``: what an update changes) — what the team server's policies and column
    grants decide, for greying out any control that writes (media offsets, participants, schemes, ...).
    A browsing window (negative id) and non-person annotators may do nothing."""
    return why_not(actor, table, op, owner=owner, locked=locked, columns=columns) is None


#: How a refusal names what was asked, per table (``why_not``); tables not listed use their name.
_WHAT = {"participants": "participants", "label_schemes": "label schemes", "views": "session media (videos)",
         "audio_tracks": "session media (audio tracks)", "sessions": "sessions", "annotators": "accounts"}
_VERB = {Op.INSERT: "add", Op.UPDATE: "change", Op.DELETE: "remove", Op.SELECT: "read"}


def why_not(actor: model.Annotator, table: str, op: Op = Op.UPDATE, *, owner: model.Annotator | None = None,
            locked: bool = False, columns: Iterable[str] | None = None) -> str | None:
    """None when ``can`` says yes, else why not in a sentence for a tooltip (the role that may, if any)."""
    if actor.id < 0:
        return "this window browses the project read-only: nothing can be saved"
    if actor.kind != "human":
        return f"{actor.name!r} is a {actor.kind} annotator, not a person's account"
    try:
        role = Role(actor.role)
    except ValueError:
        return f"{actor.name!r} has an unknown role {actor.role!r}; an admin can set one"
    if permits(role, table, op, me=actor.id, owner_id=owner.id if owner else None,
               owner_kind=owner.kind if owner else None, locked=locked, columns=columns):
        return None
    what = f"{_VERB[op]} {_WHAT.get(table, table.replace('_', ' '))}"
    able = [r.value for r in Role if permits(r, table, op, me=-1, columns=columns)] if owner is None else []
    needs = f"; this needs the {' or '.join(repr(r) for r in able)} role" if able else ""
    return f"{actor.name!r} is {role.value!r} and may not {what}{needs}"


# -- account management (admin only) ------------------------------------------------------------------

def add_account(tx: UnitOfWork, actor: model.Annotator, name: str, role: Role) -> model.Annotator:
    """Create a person's account with ``role``."""
    require(actor, Action.MANAGE_ACCOUNTS)
    if tx.annotators.by_name(name) is not None:
        raise StoreError(f"an account named {name!r} already exists")
    return tx.annotators.add(name, kind="human", role=Role(role).value)


def set_role(tx: UnitOfWork, actor: model.Annotator, annotator_id: int, role: Role) -> model.Annotator:
    """Change an account's role; the project always keeps at least one admin."""
    require(actor, Action.MANAGE_ACCOUNTS)
    row = tx.orm.get(s.AnnotatorRow, annotator_id, with_for_update=True)
    if row is None:
        raise StoreError(f"no account with id {annotator_id}")
    if row.kind != "human":
        raise StoreError(f"{row.name!r} is a {row.kind} annotator, not a person's account; it has no role")
    role = Role(role)
    if row.role == Role.ADMIN.value and role is not Role.ADMIN:
        # Lock every admin row: two admins demoting each other at once must not leave none.
        admins = tx.orm.scalars(select(s.AnnotatorRow.id).where(
            s.AnnotatorRow.kind == "human", s.AnnotatorRow.role == Role.ADMIN.value).with_for_update()).all()
        if len(admins) <= 1:
            raise AccessDenied(f"{row.name!r} is the last admin; make someone else admin first")
    row.role = role.value
    tx.orm.flush()
    return convert.annotator(row)
