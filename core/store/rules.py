"""The one rule table: which role may insert, update or delete which rows (and columns) of which table.

Why one table: a SQLite project (one user, one file) is guarded by DyadLab itself (``roles.require``
before every edit), a team project on PostgreSQL by the server (row-level security policies and column
grants, see ``server_rules``). Both read ``RULES`` below — core evaluates it with ``permits``, the server
with the SQL function ``dyadlab_may`` over a copy of it (table ``dyadlab_rules``, rewritten by every
migration that installs the server rules) — so the two back ends cannot drift apart. A test checks the
server's copy against this one.

A rule gives, per table and role, one *scope* of rows per write action (insert, update, delete) and,
for updates, optionally the only columns the role may change (participants: annotators record age and
gender, only admins add, remove or re-code a participant). Every account reads every row of a project.
A row's scope is decided by who owns it:

- annotation rows (tiers, segments, trace and keypoint series, their frame blocks) belong to the
  annotator of their tier (series without a tier: the series' annotator). They are *locked* when the
  tier is read-only, the series is a model's output, or the owner is not a person's or gold account
  (model and corpus annotators): locked rows are written only by the project owner (the service login
  that imports corpora and runs inference; it bypasses the rules), never by an account.
- an ``annotators`` row belongs to itself (its kind decides: ``gold`` rows are reviewers' to create).
- the other tables have no owner: only the ``all`` scope writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    """Which rows a role may write. The SQL twin is the CASE in ``server_rules``' ``dyadlab_may``."""

    NONE = "none"  # no row
    OWN = "own"  # rows the account itself owns, unless locked
    GOLD = "gold"  # rows owned by a gold annotator, unless locked (reviewers' merges)
    HUMAN = "human"  # rows owned by any person's or gold account, unless locked
    ALL = "all"  # every row


@dataclass(frozen=True)
class Rule:
    """What one role may write in one table: a scope per write action; ``columns``: the only columns an
    update may change (None: any). The server enforces ``columns`` with column-level UPDATE grants."""

    insert: Scope
    update: Scope
    delete: Scope
    columns: frozenset[str] | None = None

    def scope(self, op: Op) -> Scope:
        return Scope.ALL if op is Op.SELECT else getattr(self, Op(op).value)


def _every(scope: Scope) -> Rule:
    return Rule(scope, scope, scope)


#: Annotator kinds whose rows people may edit (within their scope); "model" and "corpus" rows are locked.
EDITABLE_OWNER_KINDS = frozenset({"human", "gold"})
#: What a participant's attributes are (``core.edits.participants``): what every account may record.
PARTICIPANT_ATTRIBUTES = frozenset({"role", "age", "gender", "speaker", "attributes"})

_A, _R, _ADM = Role.ANNOTATOR, Role.REVIEWER, Role.ADMIN
_NONE, _ALL = _every(Scope.NONE), _every(Scope.ALL)

#: What people annotate: own tiers; reviewers (and admins) also others' and gold.
_ANNOTATION = {_A: _every(Scope.OWN), _R: _every(Scope.HUMAN), _ADM: _every(Scope.HUMAN)}
#: Label schemes and the project's structure (imports run as the project owner): admins.
_ADMINS_ONLY = {_A: _NONE, _R: _NONE, _ADM: _ALL}
#: Participants: everyone records their attributes (age, gender, ...); admins add, remove and re-code them.
_ATTRIBUTES_ONLY = Rule(Scope.NONE, Scope.ALL, Scope.NONE, PARTICIPANT_ATTRIBUTES)

RULES: Mapping[str, Mapping[Role, Rule]] = MappingProxyType({
    **dict.fromkeys(("tiers", "segments", "series", "series_blocks"), _ANNOTATION),
    # Accounts: admins; a reviewer's gold merge creates its gold annotator.
    "annotators": {_A: _NONE, _R: _every(Scope.GOLD), _ADM: _ALL},
    "participants": {_A: _ATTRIBUTES_ONLY, _R: _ATTRIBUTES_ONLY, _ADM: _ALL},
    **dict.fromkeys(("label_schemes", "sessions", "views", "audio_tracks", "utterances", "models"), _ADMINS_ONLY),
    # Shared workspace state every account keeps (project settings, launched jobs).
    **dict.fromkeys(("settings", "jobs"), {role: _ALL for role in Role}),
})

#: Tables whose every change the server's change log records (jobs: progress ticks, not project data).
AUDITED = tuple(t for t in RULES if t != "jobs")


def rule(role: Role | str, table: str) -> Rule:
    try:
        return RULES[table][Role(role)]
    except KeyError:
        raise ValueError(f"no rule for table {table!r}") from None


def scope(role: Role | str, table: str, op: Op = Op.INSERT) -> Scope:
    """The rows of ``table`` that ``role`` may ``op`` (every account reads every row)."""
    return rule(role, table).scope(op)


def permits(role: Role | str, table: str, op: Op, *, me: int, owner_id: int | None = None,
            owner_kind: str | None = None, locked: bool = False, columns: Iterable[str] | None = None) -> bool:
    """Whether account ``me`` with ``role`` may ``op`` a row of ``table`` owned by ``owner_id``.

    ``owner_kind`` is the owner annotator's kind (None when not known: then only ``locked`` locks);
    ``locked`` marks a read-only tier or a model's series; ``columns``: what an update changes (None: it
    is enough that some column may change). The SQL function ``dyadlab_may`` decides the rows the same
    way on the server, its column grants the columns.
    """
    the_rule = rule(role, table)
    if op is Op.UPDATE and columns is not None and the_rule.columns is not None \
            and not set(columns) <= the_rule.columns:
        return False
    granted = the_rule.scope(op)
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


def roles_allowed(table: str, scopes: frozenset[Scope] | set[Scope], op: Op = Op.INSERT) -> list[Role]:
    """The roles whose scope for ``op`` on ``table`` is one of ``scopes`` (for "this needs the ... role")."""
    return [role for role in Role if RULES[table][role].scope(op) in scopes]
