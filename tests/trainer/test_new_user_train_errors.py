"""``dyadlab train`` on a demo of fewer sessions than a shipped config's split names (found by a new user, U9-3).

``compare_mlp`` trains on the thesis' Session1-4 and tests on Session5; a 2-session demo has Session1 and Session2.
The refusal must name the way out (the ``--set`` options built from the groups present, or ``--loso``), and a run
refused before training starts must leave nothing behind: no run folder, no registry row, so the next run is
version 1. The corpus is the suite's audio-analysed 2-session demo (``audio_analysed_pair``), copied.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from dyadlab.core.cli.main import main as dyadlab
from dyadlab.core.project import open_project
from dyadlab.trainer.config import load_config, resolve_config_path
from dyadlab.trainer.errors import DataError
from dyadlab.trainer.splits import make_folds

pytestmark = pytest.mark.filterwarnings("ignore::dyadlab.trainer.metrics.MissingClassWarning")  # 8 s sessions

LOSO = 'split.kind="leave_one_group_out"'  # what --loso sets
FAST = ["--quiet", "--threads", "1", "--set", "train.epochs=1"]


@pytest.fixture
def demo(audio_analysed_pair: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(audio_analysed_pair, root)
    return root


def _registered(root: Path) -> list[tuple[str, str]]:
    with open_project(root) as project, project.store.transaction() as tx:
        return [(r.name, r.version) for r in tx.models.list()]


def test_a_split_the_demo_lacks_names_the_fix_and_leaves_nothing(demo: Path, capsys) -> None:
    assert dyadlab(["train", str(demo), "--config", "compare_mlp", *FAST]) == 1
    err = capsys.readouterr().err
    assert "groups present: ['Session1', 'Session2']" in err
    fix = re.search(r"add (--set 'split\.train_groups=.*?' --set 'split\.test_groups=.*?');", err)
    assert fix is not None, err
    assert fix.group(1) == """--set 'split.train_groups=["Session1"]' --set 'split.test_groups=["Session2"]'"""
    assert "--loso" in err
    assert not (demo / "models" / "compare-mlp-1").exists()
    assert _registered(demo) == []

    # the command the message names trains, and the model is version 1 (the refused run took no number)
    assert dyadlab(["train", str(demo), "--config", "compare_mlp", *FAST, *shlex.split(fix.group(1))]) == 0
    assert "registered model" in capsys.readouterr().out
    assert _registered(demo) == [("compare-mlp", "1")]
    assert (demo / "models" / "compare-mlp-1" / "model.json").is_file()


def test_a_refused_run_in_a_folder_of_the_users_keeps_the_users_files(demo: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes\n")
    assert dyadlab(["train", str(demo), "--config", "compare_mlp", "--out", str(out), *FAST]) == 1
    assert "--loso" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # the run's model.json, run.json... are gone
    assert _registered(demo) == []


@pytest.mark.parametrize(("sessions", "asked"), [(["Session1"], []), (["Session1"], [LOSO]),
                                              (["Session1", "Session2", "Session3"], [])],
                         ids=["one", "one-loso", "three"])
def test_the_named_fix_gives_folds_of_the_groups_present(tiny_source, sessions: list[str], asked: list[str]) -> None:
    table = tiny_source.load(["compare"], sessions)
    config = load_config(resolve_config_path("compare_mlp"), asked)
    with pytest.raises(DataError) as refused:
        make_folds(table, config.split)
    fix = re.findall(r"--set '([^']*)'", refused.value.hint.split(";")[0])
    assert fix, refused.value.hint
    folds = make_folds(table, load_config(resolve_config_path("compare_mlp"), [*asked, *fix]).split)
    for fold in folds:
        assert len(fold.train) and len(fold.test)
        assert not set(table.speaker[fold.test]) & set(table.speaker[fold.train])
