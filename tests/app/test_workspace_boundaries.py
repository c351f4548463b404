"""The workspace is the app's state and edit path, not a place for dialogs (issue 18, "Structure"): the window
hands it the conflict resolver, so the workspace imports no dialog and a panel built from it in a test (or
another front end) decides conflicts its own way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dyadlab.app.workspace import Workspace
from dyadlab.core.edits import CreateSegment, UpdateSegment
from dyadlab.core.errors import ConflictError

S = 1_000_000


def test_importing_the_workspace_imports_no_dialog() -> None:
    code = ("import sys, dyadlab.app.workspace; "
            "print(sorted(m for m in sys.modules if m.startswith('dyadlab.app.dialogs')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


@pytest.mark.gui
def test_a_conflicting_edit_goes_to_the_callback_the_window_gave(qapp, demo_project_copy) -> None:
    from dyadlab.core.edits import ensure_annotator
    from dyadlab.core.project import open_project

    seen: list[tuple[Workspace, str, str]] = []

    def decide(ws: Workspace, edit, exc: ConflictError) -> bool:
        seen.append((ws, edit.text, str(exc)))
        return False

    with open_project(demo_project_copy) as project:
        erin = ensure_annotator(project.store, "erin")
        ws = Workspace(project, erin, on_conflict=decide)
        with project.store.transaction() as tx:
            ws.open_session(tx.sessions.list()[0].id)
        tier = next(t for t in ws.data.tiers if t.annotator_id == erin.id and t.kind == "categorical")
        assert ws.push(CreateSegment(tier.id, 0, S, "happy", annotator_id=erin.id))
        mine = ws.segments(tier.id)[0]
        UpdateSegment(mine.id, annotator_id=erin.id, expected_version=mine.version, value="sad").do(project.store)
        # the workspace still holds the version erin saw: her edit meets a newer one
        assert not ws.push(UpdateSegment(mine.id, annotator_id=erin.id, expected_version=mine.version, value="angry"))
        assert len(seen) == 1 and seen[0][0] is ws
        assert "changed by someone else" in seen[0][2]
        assert ws.undo_stack.count() == 1  # nothing recorded for the refused edit


@pytest.mark.gui
def test_a_reviewer_may_not_edit_a_models_tier(qapp, demo_project_copy) -> None:
    """The window greys out what the team server refuses: a model's (or a corpus') tier is written only by
    the paths that create it, whatever the human's role."""
    from dyadlab.core.project import open_project

    with open_project(demo_project_copy) as project:
        with project.store.transaction() as tx:
            rita = tx.annotators.ensure("rita", role="reviewer")
            machine = tx.annotators.ensure("model:audio-cnn", kind="model")
            session = tx.sessions.list()[0]
            scheme = tx.schemes.by_name("emotion-4class")
            tier = tx.tiers.add(session.id, "emotion", scheme_id=scheme.id, annotator_id=machine.id,
                                kind="categorical")
            colleague = next(t for t in tx.tiers.list(session.id)
                             if t.kind == "categorical" and tx.annotators.get(t.annotator_id).kind == "gold")
        ws = Workspace(project, rita)
        ws.open_session(session.id)
        assert not ws.can_edit(tier)
        assert ws.can_edit(colleague)  # a reviewer edits others' human tiers and gold
