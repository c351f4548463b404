"""``dyadlab scheme``: the same scheme and tier edits as the dialog, typed; refusals are one clear line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dyadlab.core.cli.main import main


def rows(root: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(root / "dyadlab.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_scheme_cli_creates_edits_and_refuses(demo_project_copy: Path, capsys) -> None:
    root = str(demo_project_copy)
    happy = rows(demo_project_copy, "SELECT count(*) FROM segments WHERE value = 'happy'")[0][0]
    assert happy > 0
    assert main(["scheme", root, "rename-class", "emotion-4class", "happy", "joy"]) == 0
    out = capsys.readouterr().out
    assert "'emotion-4class' is a shipped template and stays as it is" in out
    assert f"{happy} segment{'s' if happy != 1 else ''} relabelled (happy -> joy)" in out
    assert rows(demo_project_copy, "SELECT count(*) FROM segments WHERE value = 'joy'")[0][0] == happy
    assert rows(demo_project_copy, "SELECT definition FROM label_schemes WHERE name = 'emotion-4class'")[0][0].count(
        '"happy"') >= 1

    assert main(["scheme", root, "add-class", "emotion-4class-project", "bored", "--key", "b"]) == 1
    err = capsys.readouterr().err
    assert "key B of 'bored'" in err and "is already 'Split segment at the playhead'" in err

    assert main(["scheme", root, "new", "engagement", "--class", "engaged=5", "--class", "bored=6"]) == 0
    assert main(["scheme", root, "new", "warmth", "--kind", "scale", "--min", "-3", "--max", "3", "--step", "0.5",
                 "--labels", "cold,warm", "--keys", "t,y"]) == 0
    assert main(["scheme", root, "add-tier", "engagement", "--scheme", "engagement", "--annotator", "gold",
                 "--session", "demo01", "--participant", "A"]) == 0
    capsys.readouterr()
    assert main(["scheme", root, "show", "warmth"]) == 0
    assert "warmth               -3..3 step 0.5  ends cold .. warm  keys t/y" in capsys.readouterr().out
    assert rows(demo_project_copy, "SELECT t.kind, s.name FROM tiers t JOIN label_schemes s ON s.id = t.scheme_id "
                                   "WHERE t.name = 'engagement'") == [("categorical", "engagement")]

    assert main(["scheme", root, "new", "dup", "--class", "a=5", "--class", "b=5"]) == 1
    assert "key 5 is given twice in this scheme" in capsys.readouterr().err
    assert rows(demo_project_copy, "SELECT count(*) FROM label_schemes WHERE name = 'dup'") == [(0,)]
