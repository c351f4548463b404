"""Malformed files of every format: the importer refuses them with ImportFormatError and changes nothing.

Each test starts from a good export of session S1 and applies one to three random mutations — truncation,
byte splices (invalid UTF-8, NUL, quotes), deleted/duplicated/swapped lines, numbers and names replaced
by odd values, table cells of the wrong type — then imports the result into the same project (replacing
S1's tiers). A mutation may happen to leave a valid file, which then imports; every *failure* must be an
``ImportFormatError`` naming the file, with the database exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dyadlab.core.errors import ImportFormatError
from dyadlab.core.io.label_files.eaf import export_eaf
from dyadlab.core.io.label_files.label_formats import import_label_file
from dyadlab.core.io.label_files.tables import export_tables
from dyadlab.core.io.label_files.textgrid import export_textgrid

from ...builders.mutations import edit_lines

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FUZZ_SLOW = settings(FUZZ, max_examples=3000)

ODD_BYTES = [b"\xff", b"\xc3(", b"\x00", b'"', b'""', b"<", b">", b"&", b"\n", b"\t", b",", b"|", b"\xef\xbb\xbf",
             "é".encode(), "😀".encode()]
ODD_NUMBERS = ["-1", "0", "-0.5", "1e9", "1e999", "99999999999999", "nan", "inf", "", "abc", "1.5", "20.0001",
               "2e-7", "0x10", "1,5", " 3 "]
ODD_NAMES = ["", "A", "B", "Z", "*", "|", "A|emotion", "A|emotion|alice", "A|emotion|alice|confidence",
             "A|emotion|alice|bogus", "A||x", "%7C", "x" * 300, "happy", "neu", "sad", "\x00", "ç"]


# Hypothesis favours the first choices; empty files and broken XML need no help to turn up.
KINDS = ("number", "name", "splice", "lines", "truncate")
# ELAN files break at the first odd byte (XML), so bias them towards well-formed but wrong contents.
EAF_KINDS = ("number", "name", "number", "name", "name", "splice", "lines", "truncate")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@st.composite
def _mutation(draw: st.DrawFn, text: bytes, number: re.Pattern[bytes], name: re.Pattern[bytes],
              kinds: tuple[str, ...], xml: bool) -> bytes:
    kind = draw(st.sampled_from(kinds))
    if kind == "truncate":
        return text[: draw(st.integers(1, max(len(text) - 1, 1)))]
    if kind == "splice":
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 12))
        new = draw(st.sampled_from(ODD_BYTES) | st.binary(max_size=6))
        return text[:at] + new + text[at + cut:]
    if kind == "lines":
        lines = text.splitlines(keepends=True)
        return b"".join(edit_lines(draw, lines)) if lines else text
    pattern = number if kind == "number" else name
    spots = list(pattern.finditer(text))
    if not spots:
        return text
    spot = draw(st.sampled_from(spots))
    group = next((i for i in range(1, len(spot.groups()) + 1) if spot.group(i) is not None), 0)
    values = ODD_NUMBERS if kind == "number" else ODD_NAMES
    new = draw(st.sampled_from(values) | st.text(max_size=8))
    if xml and draw(st.integers(0, 4)) > 0:
        new = _xml_escape(new)
    return text[:spot.start(group)] + new.encode("utf-8", "surrogatepass") + text[spot.end(group):]


def _mutated(text: bytes, number: str, name: str, kinds: tuple[str, ...] = KINDS,
             xml: bool = False) -> st.SearchStrategy[bytes]:
    number_re, name_re = re.compile(number.encode()), re.compile(name.encode())

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        out = text
        for _ in range(draw(st.integers(1, 3))):
            out = draw(_mutation(out, number_re, name_re, kinds, xml))
        return out

    return build()


def _check(project, path: Path, data: bytes, fingerprint: Callable, fmt: str, *, new_session: bool = False) -> None:
    """Import ``data``; a refusal must be an ImportFormatError that left the database as it was.

    ``new_session``: import as a session the project lacks (so the file's participants and media are
    created too), and delete that session again after a successful import.
    """
    path.write_bytes(data)
    before = fingerprint(project)
    session = "NEW" if new_session else "S1"
    try:
        import_label_file(project, path, fmt=fmt, session=session, on_existing="replace")
    except ImportFormatError as exc:
        assert exc.path == path, str(exc)
        assert fingerprint(project) == before, f"a failed import changed the database: {exc}"
        event("refused: " + re.sub(r"'[^']*'|\d+(\.\d+)?", "_", exc.problem.split(":")[-1].strip())[:50])
    else:
        event("imported")
        if new_session:
            with project.store.transaction() as tx:
                tx.sessions.delete(tx.sessions.by_name("NEW").id)


# ELAN: attribute values (times, ids, tier names) and annotation values
EAF_NUMBER = r'TIME_VALUE="([^"]*)"'
EAF_NAME = (r'(?:TIER_ID|PARENT_REF|TIME_SLOT_REF\d|ANNOTATION_REF|LINGUISTIC_TYPE_REF|MEDIA_URL|TIME_ORIGIN)="([^"]*)"'
            r'|<(?:ANNOTATION_VALUE|PROPERTY NAME="[^"]*")>([^<]*)<|"(\w+)"')  # the last: JSON in properties
# Praat: numbers after "=" and quoted texts
TG_NUMBER = r"= (-?[\d.]+)"
TG_NAME = r'(?:name|text) = "((?:[^"]|"")*)"'
# CSV: any cell
CSV_NUMBER = r",(-?\d+(?:\.\d+)?)(?=,|\n)"
CSV_NAME = r"(?:^|\n|,)([^,\n]*)"


@pytest.fixture
def seeds(dyad, tmp_path_factory) -> dict[str, object]:
    """Good exports of S1's tiers by bob (categorical with confidences, dimensional): small, so fast."""
    out = tmp_path_factory.mktemp("seeds")
    who = {"sessions": ["S1"], "annotators": ["bob"]}
    csv = export_tables(dyad, out / "csv", fmt="csv", **who)[0]
    table = pd.read_csv(csv, dtype=object, keep_default_na=False)
    table.to_parquet(out / "good.parquet")
    return {"eaf": export_eaf(dyad, out, **who)[0].read_bytes(),
            "textgrid": export_textgrid(dyad, out, traces="none", **who)[0].read_bytes(),
            "csv": csv.read_bytes(), "table": table, "parquet": (out / "good.parquet").read_bytes()}


def _eaf_test(settings_: settings):
    @settings_
    @given(data=st.data())
    def run(dyad, seeds, tmp_path, fingerprint, data) -> None:
        mutated = data.draw(_mutated(seeds["eaf"], EAF_NUMBER, EAF_NAME, EAF_KINDS, xml=True))
        _check(dyad, tmp_path / "S1.eaf", mutated, fingerprint, "eaf", new_session=data.draw(st.booleans()))

    return run


def _textgrid_test(settings_: settings):
    @settings_
    @given(data=st.data())
    def run(dyad, seeds, tmp_path, fingerprint, data) -> None:
        mutated = data.draw(_mutated(seeds["textgrid"], TG_NUMBER, TG_NAME))
        _check(dyad, tmp_path / "S1.TextGrid", mutated, fingerprint, "textgrid")

    return run


def _csv_test(settings_: settings):
    @settings_
    @given(data=st.data())
    def run(dyad, seeds, tmp_path, fingerprint, data) -> None:
        mutated = data.draw(_mutated(seeds["csv"], CSV_NUMBER, CSV_NAME))
        _check(dyad, tmp_path / "segments.csv", mutated, fingerprint, "csv")

    return run


ODD_CELLS = st.one_of(st.none(), st.booleans(), st.integers(-(2**62), 2**62), st.floats(allow_nan=True, allow_infinity=True),
                      st.text(max_size=8), st.sampled_from(ODD_NAMES))


def _parquet_test(settings_: settings):
    @settings_
    @given(data=st.data())
    def run(dyad, seeds, tmp_path, fingerprint, data) -> None:
        path = tmp_path / "segments.parquet"
        table = seeds["table"].copy()
        if data.draw(st.booleans()):  # damaged bytes
            mutated = data.draw(_mutated(seeds["parquet"], r"(\d)", r"(S1|bob|emotion)"))
            _check(dyad, path, mutated, fingerprint, "parquet")
            return
        for _ in range(data.draw(st.integers(1, 3))):  # well-formed Parquet with wrong contents
            column = data.draw(st.sampled_from(list(table.columns)))
            action = data.draw(st.sampled_from(["drop", "rename", "cell", "column"]))
            if action == "drop":
                table = table.drop(columns=[column])
            elif action == "rename":
                table = table.rename(columns={column: data.draw(st.sampled_from(ODD_NAMES))})
            elif action == "cell" and len(table):
                row = data.draw(st.integers(0, len(table) - 1))
                table[column] = table[column].astype(object)
                table.loc[row, column] = data.draw(st.text(max_size=8) | st.sampled_from(ODD_NUMBERS + ODD_NAMES))
            else:
                value = data.draw(ODD_CELLS)
                table[column] = [value] * len(table)
        try:
            table.to_parquet(path)
        except Exception:  # pyarrow cannot store that mix: not a file a user could have
            return
        _check(dyad, path, path.read_bytes(), fingerprint, "parquet")

    return run


test_malformed_eaf = _eaf_test(FUZZ)
test_malformed_textgrid = _textgrid_test(FUZZ)
test_malformed_csv = _csv_test(FUZZ)
test_malformed_parquet = _parquet_test(FUZZ)

test_malformed_eaf_long = pytest.mark.slow(_eaf_test(FUZZ_SLOW))
test_malformed_textgrid_long = pytest.mark.slow(_textgrid_test(FUZZ_SLOW))
test_malformed_csv_long = pytest.mark.slow(_csv_test(FUZZ_SLOW))
test_malformed_parquet_long = pytest.mark.slow(_parquet_test(FUZZ_SLOW))
