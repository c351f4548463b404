"""The one rule table: which role may insert, update or delete which rows of which table.

Why one table: a SQLite project (one user, one file) is guarded by DyadLab itself (``roles.require``
before every edit), a team project on PostgreSQL by the server (row-level security policies, see
``server_rules``). Both read ``RULES`` below — core evaluates it with ``permits``, the server with the
SQL function ``dyadlab_may`` over a copy of it (table ``dyadlab_rules``, rewritten by every migration
that installs the server rules) — so the two back ends cannot drift apart. A test checks the server's
copy against this one.

A rule gives, per table and role, the *scope* of rows the role may write (insert, update and delete
alike); every account reads every row of a project. A row's scope is decided by who owns it:

- annotation rows (tiers, segments, trace and keypoint series, their frame blocks) belong to the
  annotator of their tier (series without a tier: the series' annotator). They are *locked* when the
  tier is read-only, the series is a model's output, or the owner is not a person's or gold account
  (model and corpus annotators): locked rows are written only by the project owner (the service login
  that imports corpora and runs inference; it bypasses the rules), never by an account.
- an ``annotators`` row belongs to itself (its kind decides: ``gold`` rows are reviewers' to create).
- the other tables have no owner: only the ``all`` scope writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class Op(StrEnum):
    SELECT = "select"
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


WRITES = (Op.INSERT, Op.UPDATE, Op.DELETE)


class Scope(StrEnum):
    """Which rows a role may write. The SQL twin is the CASE in ``server_rules.MAY_FUNCTION``."""

    NONE = "none"  # no row
    OWN = "own"  # rows the account itself owns, unless locked
    GOLD = "gold"  # rows owned by a gold annotator, unless locked (reviewers' merges)
    HUMAN = "human"  # rows owned by any person's or gold account, unless locked
    ALL = "all"  # every row


#: Annotator kinds whose rows people may edit (within their scope); "model" and "corpus" rows are locked.
EDITABLE_OWNER_KINDS = frozenset({"human", "gold"})

_A, _R, _ADM = Role.ANNOTATOR, Role.REVIEWER, Role.ADMIN


#: What people annotate: own tiers; reviewers (and admins) also others' and gold.
_ANNOTATION = {_A: Scope.OWN, _R: Scope.HUMAN, _ADM: Scope.HUMAN}
#: Label schemes and the project's structure (imports run as the project owner): admins.
_ADMINS_ONLY = {_A: Scope.NONE, _R: Scope.NONE, _ADM: Scope.ALL}

RULES: Mapping[str, Mapping[Role, Scope]] = MappingProxyType({
    **dict.fromkeys(("tiers", "segments", "series", "series_blocks"), _ANNOTATION),
    # Accounts: admins; a reviewer's gold merge creates its gold annotator.
    "annotators": {_A: Scope.NONE, _R: Scope.GOLD, _ADM: Scope.ALL},
    **dict.fromkeys(("label_schemes", "sessions", "participants", "views", "audio_tracks", "utterances", "models"),
                    _ADMINS_ONLY),
    # Shared workspace state every account keeps (project settings, launched jobs).
    **dict.fromkeys(("settings", "jobs"), {role: Scope.ALL for role in Role}),
})

#: Tables whose every change the server's change log records (jobs: progress ticks, not project data).
AUDITED = tuple(t for t in RULES if t != "jobs")


def scope(role: Role | str, table: str, op: Op = Op.INSERT) -> Scope:
    """The rows of ``table`` that ``role`` may ``op`` (every account reads every row)."""
    if op is Op.SELECT:
        return Scope.ALL
    try:
        return RULES[table][Role(role)]
    except KeyError:
        raise ValueError(f"no rule for table {table!r}") from None


def permits(role: Role | str, table: str, op: Op, *, me: int, owner_id: int | None = None,
            owner_kind: str | None = None, locked: bool = False) -> bool:
    """Whether account ``me`` with ``role`` may ``op`` a row of ``table`` owned by ``owner_id``.

    ``owner_kind`` is the owner annotator's kind (None when not known: then only ``locked`` locks);
    ``locked`` marks a read-only tier or a model's series. The SQL function ``dyadlab_may`` decides
    the same way on the server.
    """
    granted = scope(role, table, op)
    if granted is Scope.ALL:
        return True
    if locked or (owner_kind is not None and owner_kind not in EDITABLE_OWNER_KINDS):
        return False
    if granted is Scope.OWN:
        return owner_id is not None and owner_id == me
    if granted is Scope.GOLD:
        return owner_kind == "gold"
    if granted is Scope.HUMAN:
        return owner_id is not None or owner_kind is not None
    return False


def roles_allowed(table: str, scopes: frozenset[Scope] | set[Scope]) -> list[Role]:
    """The roles whose scope on ``table`` is one of ``scopes`` (for "this needs the ... role" hints)."""
    return [role for role in Role if RULES[table][role] in scopes]
