"""A label table from another tool (a NOVA or spreadsheet export: start, end, value) given to ``dyadlab
import-labels``: the error names the file, the columns it lacks and the columns it has, so the user sees at once
that only the names differ. It listed the columns a segments table can have after "columns:", which read as the
file's own (found by the new-user walkthrough)."""

from __future__ import annotations

from dyadlab.core.cli.main import main


def test_a_table_with_other_column_names_is_refused_naming_what_it_has(project, tmp_path, capsys):
    source = tmp_path / "nova_export.csv"
    source.write_text("start,end,value\n1.0,2.5,happy\n", encoding="utf-8")
    assert main(["import-labels", str(project.root), str(source)]) != 0
    err = capsys.readouterr().err
    assert str(source) in err and "missing column(s) session, participant, tier, annotator, start_s, end_s" in err
    assert "the file has: start, end, value" in err
    with project.store.transaction() as tx:
        assert tx.sessions.list() == []  # nothing imported
