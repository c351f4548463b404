"""Reading IEMOCAP transcriptions: text by utterance id; unreadable lines are skipped with one warning."""

from __future__ import annotations

from pathlib import Path

from dyadlab.core.io.corpora.transcripts import parse_transcription


def test_lines_by_id_and_a_warning_for_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "Ses01F_impro01.txt"
    path.write_text(
        "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\n"
        "Ses01F_impro01_MXX0 [012.0000-013.0000]: [LAUGHTER]\n"
        "M: [BREATHING]\n"
        "Ses01F_impro01_F000 [020.0000-021.0000]: again\n"
        "Ses01F_impro01_F001 [030.0000-029.0000]: backwards\n"
        "\n", encoding="utf-8")
    lines, warnings = parse_transcription(path)
    assert list(lines) == ["Ses01F_impro01_F000", "Ses01F_impro01_MXX0"]
    first = lines["Ses01F_impro01_F000"]
    assert (first.start, first.end, first.text, first.line) == (6.2901, 8.2357, "Excuse me.", 1)
    assert len(warnings) == 1
    assert "skipped 3 transcription line(s)" in warnings[0] and "line 3" in warnings[0]
