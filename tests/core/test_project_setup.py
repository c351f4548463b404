"""A failed import into a new project leaves nothing behind; into an existing project it changes nothing."""

from __future__ import annotations

import pytest

from dyadlab.core.cli.main import main
from dyadlab.core.errors import DyadLabError
from dyadlab.core.media.synthetic_scene import Recorder, write_scene
from dyadlab.core.project import open_project
from dyadlab.core.project_setup import import_creating_project


@pytest.fixture(scope="module")
def good_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("good") / "pair01"
    write_scene(root, [Recorder("mix", 0.0, 4.0), Recorder("A", 0.3, 3.0, fps=25)], seed=1)
    return root


@pytest.fixture
def bad_folder(tmp_path, good_folder):
    import shutil

    root = tmp_path / "src" / "pair02"
    shutil.copytree(good_folder, root)
    (root / "B.mp4").write_bytes(b"")  # a zero-byte video
    (root / "wide.mp4").write_bytes(b"not a video at all")
    return root


def test_failed_import_into_a_new_folder_removes_it(tmp_path, bad_folder):
    target = tmp_path / "new_project"
    with pytest.raises(DyadLabError) as err:
        import_creating_project("folder", target, bad_folder)
    assert "B.mp4" in str(err.value) and "wide.mp4" in str(err.value)  # every bad file at once
    assert not target.exists()


def test_failed_import_into_an_existing_empty_folder_keeps_only_what_was_there(tmp_path, bad_folder):
    target = tmp_path / "chosen"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(DyadLabError):
        import_creating_project("folder", target, bad_folder)
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_failed_import_into_a_project_changes_nothing(tmp_path, good_folder, bad_folder):
    target = tmp_path / "p"
    import_creating_project("folder", target, good_folder)
    with open_project(target) as project, project.store.transaction() as tx:
        before = [(s.name, len(tx.views.list(s.id))) for s in tx.sessions.list()]
    with pytest.raises(DyadLabError):
        import_creating_project("folder", target, bad_folder)
    with open_project(target) as project, project.store.transaction() as tx:
        assert [(s.name, len(tx.views.list(s.id))) for s in tx.sessions.list()] == before == [("pair01", 1)]


def test_cli_import_failure_leaves_no_project_folder(tmp_path, bad_folder, capsys):
    target = tmp_path / "cli_project"
    assert main(["import", "folder", str(bad_folder), str(target), "--quiet"]) == 1
    assert "2 files cannot be imported" in capsys.readouterr().err
    assert not target.exists()


def test_skip_bad_imports_the_rest_and_lists_what_was_skipped(tmp_path, bad_folder):
    target = tmp_path / "rest"
    report = import_creating_project("folder", target, bad_folder, skip_bad=True)
    text = str(report)
    assert "skipped B.mp4" in text and "skipped wide.mp4" in text and "empty" in text
    with open_project(target) as project, project.store.transaction() as tx:
        (session,) = tx.sessions.list()
        views = tx.views.list(session.id)
    assert session.name == "pair02"  # the folder's own name, not the temporary mirror's
    assert [v.name for v in views] == ["A"]
    assert project.media_path(views[0].path).resolve() == (bad_folder / "A.mp4").resolve()  # not a link


def test_cli_skip_bad(tmp_path, bad_folder, capsys):
    target = tmp_path / "cli_rest"
    assert main(["import", "folder", str(bad_folder), str(target), "--quiet", "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert "skipped B.mp4" in out and "skipped wide.mp4" in out
    with open_project(target) as project, project.store.transaction() as tx:
        assert len(tx.sessions.list()) == 1
