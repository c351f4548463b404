"""``dyadlab queue`` is a question, not an edit: asked without ``--annotator`` (or for a name the project does not
have) it ranks for someone new, with nothing labelled yet, and adds no annotator to the project. It added one
named "annotator" (its default), which then showed in ``dyadlab info`` and the window's annotator list (found by
the new-user walkthrough)."""

from __future__ import annotations

import json

from dyadlab.core.cli.main import main


def _annotators(project) -> list[str]:
    with project.store.transaction() as tx:
        return sorted(a.name for a in tx.annotators.list())


def test_the_queue_command_adds_no_annotator(project, audio_model, capsys):
    before = _annotators(project)
    assert main(["queue", str(project.root), "--model", str(audio_model), "--sessions", "demo01", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 entries shown" in out and "nothing labelled yet" in out
    assert main(["queue", str(project.root), "--model", str(audio_model), "--sessions", "demo01", "--json",
                 "--annotator", "newcomer"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(r["why"] for r in rows)
    assert _annotators(project) == before and "annotator" not in before and "newcomer" not in before


def test_a_tier_name_the_project_lacks_is_refused_naming_the_tiers(project, audio_model, capsys):
    """A typo in ``--tier`` ranked every stretch for a tier nobody could label (and printed it as usual)."""
    assert main(["queue", str(project.root), "--model", str(audio_model), "--tier", "emotoin"]) != 0
    err = capsys.readouterr().err
    assert "no categorical tier 'emotoin'" in err and "emotion" in err and str(project.root) in err
