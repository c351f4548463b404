"""Who may do what: annotators edit their own tiers, reviewers also others' and gold, admins everything."""

from __future__ import annotations

import pytest

from dyadlab.core.edits.participants import FIELDS
from dyadlab.core.model import Annotator, Tier
from dyadlab.core.store.roles import AccessDenied, Action, Role, add_account, allowed, can, require, set_role
from dyadlab.core.store.rules import PARTICIPANT_ATTRIBUTES, WRITES, Op, permits

ANNA = Annotator(id=1, name="anna", role="annotator")
REVA = Annotator(id=2, name="reva", role="reviewer")
ADAM = Annotator(id=3, name="adam", role="admin")
GOLD = Annotator(id=4, name="gold", kind="gold")
MODEL = Annotator(id=5, name="resnet-v3", kind="model")


def _tier(owner: Annotator, *, read_only: bool = False) -> Tier:
    return Tier(id=10 + owner.id, session_id=1, participant_id=None, scheme_id=1, annotator_id=owner.id,
                name=f"{owner.name}-emotion", kind="categorical", read_only=read_only)


@pytest.mark.parametrize(("actor", "tier_owner", "may"), [
    (ANNA, ANNA, True), (ANNA, REVA, False), (ANNA, GOLD, False),
    (REVA, REVA, True), (REVA, ANNA, True), (REVA, GOLD, True),
    (ADAM, ANNA, True), (ADAM, GOLD, True),
])
def test_who_may_edit_which_tier(actor: Annotator, tier_owner: Annotator, may: bool) -> None:
    assert allowed(actor, Action.EDIT_TIER, tier=_tier(tier_owner)) is may


@pytest.mark.parametrize(("action", "roles"), [
    (Action.CREATE_TIER, {Role.ANNOTATOR, Role.REVIEWER, Role.ADMIN}),
    (Action.MERGE_GOLD, {Role.REVIEWER, Role.ADMIN}),
    (Action.MANAGE_ACCOUNTS, {Role.ADMIN}),
    (Action.MANAGE_SCHEMES, {Role.ADMIN}),
])
def test_what_each_role_may_do(action: Action, roles: set[Role]) -> None:
    assert {Role(a.role) for a in (ANNA, REVA, ADAM) if allowed(a, action)} == roles


def test_refusals_say_who_what_and_how_to_get_it() -> None:
    with pytest.raises(AccessDenied, match="'anna' is 'annotator' and may not edit another annotator's tier") as info:
        require(ANNA, Action.EDIT_TIER, tier=_tier(REVA))
    assert "'reviewer' or 'admin' role" in str(info.value)
    with pytest.raises(AccessDenied, match="may not merge a gold standard"):
        require(ANNA, Action.MERGE_GOLD)
    with pytest.raises(AccessDenied, match="read-only; nobody may edit it"):
        require(ADAM, Action.EDIT_TIER, tier=_tier(ADAM, read_only=True))
    with pytest.raises(AccessDenied, match="is a model annotator, not a person's account"):
        require(MODEL, Action.EDIT_TIER, tier=_tier(MODEL))
    with pytest.raises(AccessDenied, match="unknown role 'superuser'"):
        require(Annotator(id=9, name="eve", role="superuser"), Action.CREATE_TIER)
    with pytest.raises(ValueError, match="needs the tier"):
        require(ANNA, Action.EDIT_TIER)


def test_only_admins_manage_accounts_and_the_last_admin_stays(project) -> None:
    with project.store.transaction() as tx:
        root = tx.annotators.add("root", role="admin")
        anna = add_account(tx, root, "anna", Role.ANNOTATOR)
        with pytest.raises(AccessDenied, match="may not manage accounts"):
            add_account(tx, anna, "mallory", Role.ADMIN)
        with pytest.raises(AccessDenied, match="may not manage accounts"):
            set_role(tx, anna, anna.id, Role.ADMIN)
        with pytest.raises(AccessDenied, match="last admin"):
            set_role(tx, root, root.id, Role.REVIEWER)
        anna = set_role(tx, root, anna.id, Role.ADMIN)
        root = set_role(tx, anna, root.id, Role.REVIEWER)  # two admins: one may step down
    with project.store.transaction() as tx:
        assert {a.name: a.role for a in tx.annotators.list()} == {"anna": "admin", "root": "reviewer"}
        assert allowed(tx.annotators.by_name("root"), Action.MERGE_GOLD)
        assert not allowed(tx.annotators.by_name("root"), Action.MANAGE_ACCOUNTS)


@pytest.mark.parametrize("actor", [ANNA, REVA, ADAM], ids=lambda a: a.role)
@pytest.mark.parametrize(("owner", "owner_kind", "read_only"), [
    (ANNA, "human", False), (REVA, "human", False), (GOLD, "gold", False), (MODEL, "model", False),
    (Annotator(id=6, name="iemocap", kind="corpus"), "corpus", False), (ANNA, "human", True)])
def test_the_gui_check_is_the_rule_table_the_server_enforces(actor: Annotator, owner: Annotator, owner_kind: str,
                                                             read_only: bool) -> None:
    """``allowed`` (what the GUI greys out, what SQLite projects enforce) answers as ``rules.permits`` (what
    the server's policies evaluate) for every kind of tier owner."""
    tier = _tier(owner, read_only=read_only)
    for op in WRITES:
        assert allowed(actor, Action.EDIT_TIER, tier=tier, owner_kind=owner_kind) is permits(
            actor.role, "segments", op, me=actor.id, owner_id=owner.id, owner_kind=owner_kind, locked=read_only)


def test_can_answers_for_any_table_of_the_rule_table() -> None:
    assert [can(a, "audio_tracks") for a in (ANNA, REVA, ADAM)] == [False, False, True]
    assert [can(a, "segments", Op.DELETE, owner=ANNA) for a in (ANNA, REVA, ADAM)] == [True, True, True]
    assert [can(a, "segments", Op.INSERT, owner=REVA) for a in (ANNA, REVA, ADAM)] == [False, True, True]
    assert not can(REVA, "series", owner=MODEL) and not can(ADAM, "tiers", owner=ANNA, locked=True)
    assert [can(a, "annotators", Op.INSERT, owner=GOLD) for a in (ANNA, REVA, ADAM)] == [False, True, True]
    assert not can(Annotator(id=-1, name="browsing", role="admin"), "settings")
    assert not can(MODEL, "settings") and not can(Annotator(id=9, name="eve", role="superuser"), "settings")


def test_everyone_records_participants_attributes_only_admins_add_remove_or_recode_them() -> None:
    attributes = ("age", "gender")
    assert [can(a, "participants", Op.UPDATE, columns=attributes) for a in (ANNA, REVA, ADAM)] == [True, True, True]
    assert [can(a, "participants", Op.UPDATE, columns=["code"]) for a in (ANNA, REVA, ADAM)] == [False, False, True]
    for op in (Op.INSERT, Op.DELETE):
        assert [can(a, "participants", op) for a in (ANNA, REVA, ADAM)] == [False, False, True]
    assert set(FIELDS) == PARTICIPANT_ATTRIBUTES, "what the participant edit changes is what the rule lets people change"


def test_why_not_says_who_is_what_and_which_role_may() -> None:
    from dyadlab.core.store.roles import why_not

    assert why_not(ANNA, "participants", Op.UPDATE, columns=["age"]) is None
    assert why_not(ANNA, "views", Op.UPDATE) == ("'anna' is 'annotator' and may not change session media (videos); "
                                                 "this needs the 'admin' role")
    assert why_not(REVA, "participants", Op.INSERT) == "'reva' is 'reviewer' and may not add participants; " \
                                                       "this needs the 'admin' role"
    assert "read-only" in why_not(Annotator(id=-1, name="viewer", role="admin"), "participants", Op.UPDATE)
    assert why_not(ANNA, "segments", Op.UPDATE, owner=REVA) == ("'anna' is 'annotator' and may not change segments")
