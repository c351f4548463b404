"""Corpus files and database checks shared by the importer tests (``tests/core/io``) and the fuzzers
(``tests/hardening``).

Why one module: both suites need UDIVA metadata and a transcript written exactly as the corpus writes them
(``PART.1:`` prefixes, mixed-case headers), a tiny WAV, and a way to prove a failed import changed nothing.
Kept in two copies they drifted apart (one parts CSV grew a column, the other did not); a fix to one copy
did not reach the other. Import with a relative import (``from ...builders.corpora import SRT``): pytest
runs with ``--import-mode=importlib`` and the tests folder is not on ``sys.path``.
"""

from __future__ import annotations

import sqlite3
import wave
from pathlib import Path

import numpy as np

# -- UDIVA: one Talk recording of session 1080, participants 128 (FC1) and 129 (FC2) ---------------

SESSIONS_CSV = """\
ID,PART.1,PART.2,DURATION_TALK
1080,0128,0129,300
"""

# Header in lower and mixed case on purpose: the importer matches column names ignoring case.
PARTS_CSV = """\
id,Age,GENDER,Country,OPENMINDEDNESS_Z,CONSCIENTIOUSNESS_Z,EXTRAVERSION_Z,AGREEABLENESS_Z,NEGATIVEEMOTIONALITY_Z,LANGUAGE
128,23,F,Spain,0.5,-0.25,1.0,0.0,-1.5,ES
129,31,M,France,-0.5,0.25,-1.0,0.75,1.5,FR
"""

# Two cues within the first second (the test media are 1 s long), the second spanning two lines.
SRT = """\
1
00:00:00,100 --> 00:00:00,600
PART.1: Hola, ¿empezamos?

2
00:00:00,650 --> 00:00:00,950
PART.2: Vale,
venga.

"""

# -- folder importer: the segments CSV's header and the rows of session pair01 (alice and bob, 0-0.9 s) --

SEGMENTS_CSV_PAIR01 = """\
session,participant,start,end,label,annotator
pair01,alice,0.0,0.5,happy,rater1
pair01,alice,0.5,0.9,exc,rater1
pair01,bob,0.1,0.4,angry,rater1
pair01,bob,0.4,0.8,fru,rater1
"""


def write_wav(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    """A mono 16-bit 220 Hz sine WAV (the stdlib writes it: no codec in the way); returns ``path``."""
    n = int(seconds * rate)
    samples = (3000 * np.sin(np.arange(n) * 2 * np.pi * 220 / rate)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def table_counts(db_file: Path) -> dict[str, int]:
    """Row count of every table of a project database, read by a separate connection (committed state)."""
    con = sqlite3.connect(db_file)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()
