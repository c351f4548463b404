"""Shared machinery of the fuzz tests: file mutations, the two run profiles and the outcome contract.

Why one module: every reader (corpus text files, label files, TOML, media) is fuzzed the same way — take a
valid file, damage it the ways real files get damaged (cut off by a full disk or an interrupted copy,
flipped bits, a line pasted from somewhere else, fields in the wrong order, a Windows-1252 or UTF-16 save,
a number in the wrong unit or sign) — and must hold to the same contract:

* the outcome is a success or a ``DyadLabError`` subclass (never ``ValueError``, ``OverflowError`` ...);
* a failed import leaves the project database exactly as it was (row counts of every table);
* nothing hangs (pytest-timeout bounds every test; decoders are asked with timeouts).

Profiles: ``ci`` runs ~150 cases per reader in the default suite; ``slow`` (``@pytest.mark.slow``) runs
``SLOW_EXAMPLES`` cases. Both are derandomized (a failure reproduces on every run) and keep no example
database in the working tree.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as _event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from dyadlab.core.errors import DyadLabError

from ..builders.corpora import table_counts
from ..builders.mutations import edit_lines
from .known_bugs import known_bug

CI_EXAMPLES = 150
SLOW_EXAMPLES = 1200

settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile("slow", settings.get_profile("ci"), max_examples=SLOW_EXAMPLES)

# Parametrize a fuzz test over these: the slow profile only runs under `make test-slow`.
PROFILES = [
    pytest.param("ci", id="ci", marks=pytest.mark.timeout(240)),
    pytest.param("slow", id="slow", marks=[pytest.mark.slow, pytest.mark.timeout(3600)]),
]


def fuzz(profile: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], None], *,
         ci_examples: int | None = None) -> None:
    """Run ``check`` on cases drawn from ``strategy`` under the named profile.

    ``ci_examples`` lowers the default-suite count for readers whose cases are slow (real media, full
    imports); the slow profile always runs ``SLOW_EXAMPLES``.
    """
    chosen = settings.get_profile(profile)
    if profile == "ci" and ci_examples is not None:
        chosen = settings(chosen, max_examples=ci_examples)

    @settings(chosen)
    @given(strategy)
    def run(case: Any) -> None:
        check(case)

    run()


def event(text: str) -> None:
    """Count ``text`` in hypothesis' statistics when running under ``@given`` (a no-op outside)."""
    with contextlib.suppress(InvalidArgument):
        _event(text)


# -- mutations -------------------------------------------------------------------------------------

_NUMBER = re.compile(rb"\d+(?:\.\d+)?")
_FIELD_SEPARATORS = (b"\t", b",", b";", b" = ", b" - ", b" --> ", b" ")
ODD_NUMBERS = [b"-1", b"-0.5", b"0", b"1e308", b"1e999", b"-1e999", b"9" * 400, b"99999999999999999999",
               b"18446744073709551616", b"nan", b"inf", b"-inf", b"", b"0x1F", b"1_000", b"1.2.3", b"+5", b" ",
               b"-99999999999", "\u0663".encode(), "\uff15".encode(), b"1e-320", b"00000000000000000000001"]
GARBAGE_LINES = [b"", b"\x00\x00\x00", b"\xff\xfe\xfd", b"[", b"]", b"[1 - 2]", b"[-5.0 - -1.0]\tx_F000\tneu\t[1, 2, 3]",
                 b"-->", b"00:00:01,000 --> 00:00:00,500", b"99:99:99,999 --> 99:99:99,999", b"%", b"C-E1:",
                 b"A-E1:\tval ; act ; dom ;", b"A-E1:\tval 9e999; act -1; dom  x;\t()", b"=", b"[[classes]]",
                 b'name = 5', b'kind = "categorical"', b'database = "sqlite:///x"', b'"', b",,,,",
                 b"\t\t\t", b"session,participant,start,end,label", b"<", b"<?xml", b"</ANNOTATION_DOCUMENT>",
                 b'File type = "ooTextFile"', b"intervals: size = 99999999999", b"item [1]:",
                 b"x" * 5000]
ODD_BYTES = [b"\xff", b"\xc3\x28", b"\x80\x81", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe",
             b"\x00", b"\r", b"\r\n", b"\x1a", "\u2028".encode(), "\U0001f600".encode()]
MUTATIONS = ("truncate", "flip", "insert_line", "lines", "swap_fields", "non_utf8", "number", "negative",
             "reencode")


def _number_spots(data: bytes) -> list[re.Match[bytes]]:
    return list(_NUMBER.finditer(data))


@st.composite
def mutation(draw: st.DrawFn, data: bytes, kinds: tuple[str, ...] = MUTATIONS) -> bytes:
    """``data`` damaged once, in one of the ways real files get damaged."""
    kind = draw(st.sampled_from(kinds))
    event(f"mutation: {kind}")
    if kind == "truncate":
        return data[:draw(st.integers(0, max(len(data) - 1, 0)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            if out:
                at = draw(st.integers(0, len(out) - 1))
                out[at] ^= draw(st.integers(1, 255))
        return bytes(out)
    if kind == "non_utf8":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from(ODD_BYTES)) + data[at:]
    if kind == "reencode":
        text = data.decode("utf-8", "replace")
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "cp1252", "latin-1", "utf-8-sig"]))
        return text.encode(codec, "replace")
    if kind in ("number", "negative"):
        spots = _number_spots(data)
        if not spots:
            return data
        spot = draw(st.sampled_from(spots))
        new = b"-" + spot.group() if kind == "negative" else draw(
            st.sampled_from(ODD_NUMBERS) | st.integers(-(10**30), 10**30).map(lambda n: str(n).encode())
            | st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).encode()))
        return data[:spot.start()] + new + data[spot.end():]
    lines = data.split(b"\n")
    if kind == "insert_line":
        at = draw(st.integers(0, len(lines)))
        garbage = draw(st.sampled_from(GARBAGE_LINES) | st.binary(max_size=40)
                       | st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")))
        return b"\n".join([*lines[:at], garbage, *lines[at:]])
    if kind == "lines":
        return b"\n".join(edit_lines(draw, lines))
    # swap_fields: exchange two fields of one line, as a column-order mistake would
    candidates = [(n, sep) for n, line in enumerate(lines) for sep in _FIELD_SEPARATORS if line.count(sep) >= 1]
    if not candidates:
        return data
    n, sep = draw(st.sampled_from(candidates))
    fields = lines[n].split(sep)
    i, j = draw(st.integers(0, len(fields) - 1)), draw(st.integers(0, len(fields) - 1))
    fields[i], fields[j] = fields[j], fields[i]
    lines[n] = sep.join(fields)
    return b"\n".join(lines)


def mutated(data: bytes, *, max_mutations: int = 4, kinds: tuple[str, ...] = MUTATIONS) -> st.SearchStrategy[bytes]:
    """``data`` after one to ``max_mutations`` mutations (sometimes left valid: that must import too)."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        out = data
        for _ in range(draw(st.integers(1, max_mutations))):
            out = draw(mutation(out, kinds))
        return out

    return build()


# -- the contract ----------------------------------------------------------------------------------

def outcome(call: Callable[[], Any], *, names: Path | None = None) -> DyadLabError | None:
    """Run ``call``; None on success, the DyadLabError it raised otherwise.

    Any other exception propagates (hypothesis then shrinks the input and reports it), unless it is a
    bug already reported (``known_bugs.py``): that is counted and treated like a refusal. ``names``: the
    error must name this file.
    """
    try:
        call()
    except DyadLabError as exc:
        if names is not None:
            assert names.name in str(exc), f"error does not name {names.name}: {exc}"
        event(f"refused: {type(exc).__name__}")
        return exc
    except Exception as exc:
        bug = known_bug(exc)
        if bug is None:
            raise
        event(f"known bug: {bug.key}")
        return DyadLabError(f"known bug {bug.key}: {exc}")
    event("accepted")
    return None


def import_outcome(db_file: Path, call: Callable[[], Any], *, names: Path | None = None) -> DyadLabError | None:
    """``outcome`` of an import, plus: when it fails, no table of ``db_file`` gained or lost a row."""
    before = table_counts(db_file)
    error = outcome(call, names=names)
    if error is not None:
        assert table_counts(db_file) == before, f"a failed import changed the database: {error}"
    return error


def integrity_problems(db_file: Path) -> list[str]:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` findings ([] for a healthy database)."""
    con = sqlite3.connect(db_file)
    try:
        found = [r[0] for r in con.execute("PRAGMA integrity_check")]
        problems = [] if found == ["ok"] else found
        problems += [f"foreign key: {row}" for row in con.execute("PRAGMA foreign_key_check")]
        return problems
    finally:
        con.close()
