"""The "next to label" queue on the analysed demo corpus: every utterance the annotator has not labelled is
ranked once, with the model's label and the reasons; accepting or skipping an entry takes it off the queue
(and undo puts it back); a second model's disagreement shows up as a reason; ``dyadlab queue`` prints it."""

from __future__ import annotations

import json

from dyadlab.core.active.queue import build_queue
from dyadlab.core.cli.main import main
from dyadlab.core.inference.assist import RejectProposal, accept_edit


def test_the_queue_ranks_the_unlabelled_utterances_and_acting_on_one_removes_it(project, ids, audio_model, face_model):
    session = ids["demo02"]
    with project.store.transaction() as tx:
        utterances = tx.utterances.list(session)
    items = build_queue(project, audio_model, "quentin", sessions=[session], compare=[face_model])
    assert 0 < len(items) <= len(utterances)
    assert [i.entry.rank for i in items] == list(range(len(items)))
    assert all(i.why and i.proposal.value in i.entry.stretch.classes for i in items)
    assert any("disagrees" in i.why for i in items)  # the face model does not always agree with the audio one
    assert len({(i.proposal.participant_id, i.proposal.start_us) for i in items}) == len(items)

    first, second = items[0], items[1]
    correction = next(c for c in first.entry.stretch.classes if c != first.proposal.value)
    accepted = accept_edit(project, first.proposal, "quentin", value=correction)
    accepted.do(project.store)
    assert accepted.segment is not None and accepted.segment.value == correction
    assert accepted.segment.provenance["how"] == "corrected"
    assert accepted.segment.provenance["model_value"] == first.proposal.value
    skipped = RejectProposal(second.proposal, accepted.segment.annotator_id)
    skipped.do(project.store)
    left = build_queue(project, audio_model, "quentin", sessions=[session], compare=[face_model], compute=False)
    keys = {tuple(i.proposal.key) for i in left}
    assert len(left) == len(items) - 2 and tuple(first.proposal.key) not in keys and tuple(second.proposal.key) not in keys
    skipped.undo(project.store)
    accepted.undo(project.store)
    assert len(build_queue(project, audio_model, "quentin", sessions=[session], compute=False)) == len(items)


def test_the_queue_command_prints_the_top_entries(project, ids, audio_model, capsys):
    def rows(*extra: str) -> list[dict]:
        code = main(["queue", str(project.root), "--model", str(audio_model), "--sessions", "demo01", "--json",
                     "--annotator", "quentin", *extra])
        assert code == 0
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    everyone, only_a = rows(), rows("--participant", "A")
    assert [r["rank"] for r in everyone] == list(range(1, len(everyone) + 1))
    assert {r["participant"] for r in everyone} == {"A", "B"} and {r["participant"] for r in only_a} == {"A"}
    assert 0 < len(only_a) < len(everyone) and len(rows("--top", "1")) == 1
    assert {r["session"] for r in everyone} == {"demo01"}
    assert all(r["why"] and r["end_s"] > r["start_s"] for r in everyone)
    assert main(["queue", str(project.root), "--model", str(audio_model), "--participant", "Z"]) != 0
