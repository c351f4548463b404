"""One exact reproducer per bug in ``known_bugs.py``, each a strict xfail.

Why strict: the fuzzers let a registered bug pass as "known" so they keep hunting for new ones; these
reproducers make sure the registry does not outlive the bugs. When an owner fixes one, its reproducer
passes, the strict xfail fails the run, and the entry (and its reproducer) must be deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dyadlab.core.errors import DyadLabError

from . import seeds
from .known_bugs import KNOWN_BUGS, known_bug


def _server_url_port(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.store.server import read_database_url

    (tmp_path / "project.toml").write_text('database = "postgresql+psycopg://ann@127.0.0.1:-0.5/lab"\n',
                                           encoding="utf-8")
    read_database_url(tmp_path)


def _job_status_shape(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.jobs.status import read_status

    (tmp_path / "status.json").write_bytes(b"[1, 2]")
    read_status(tmp_path / "status.json")


def _job_events_bytes(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.jobs.status import read_events

    (tmp_path / "events.jsonl").write_bytes(b'\xff{"event": "start"}\n')
    read_events(tmp_path / "events.jsonl")


def _time_infinite(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.io import import_iemocap
    from dyadlab.core.project import create_project

    evaluation = seeds.EMO_EVALUATION.replace("[0.1000 - 0.3500]", "[0.1000 - " + "9" * 400 + "]")
    root = seeds.write_iemocap(tmp_path / "IEMOCAP", media["wav"], evaluation.encode(), None)
    with create_project(tmp_path / "project") as project:
        import_iemocap(project, root)


def _time_past_int64(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.io import import_udiva
    from dyadlab.core.project import create_project

    srt = seeds.SRT.replace("00:00:00,600", "99999999999999999999:00:00,600")
    root = seeds.write_udiva(tmp_path / "UDIVA", media["mp4"], srt.encode(), seeds.SESSIONS_CSV.encode(),
                             seeds.PARTS_CSV.encode())
    with create_project(tmp_path / "project") as project:
        import_udiva(project, root)


def _udiva_age(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.io import import_udiva
    from dyadlab.core.project import create_project

    parts = seeds.PARTS_CSV.replace(",23,", ",nan,")
    root = seeds.write_udiva(tmp_path / "UDIVA", media["mp4"], seeds.SRT.encode(), seeds.SESSIONS_CSV.encode(),
                             parts.encode())
    with create_project(tmp_path / "project") as project:
        import_udiva(project, root)


def _parquet_lazy_utf8(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.io.label_files.label_formats import export_labels, read_label_file

    with seeds.build_label_project(tmp_path / "project") as project:
        (table,) = [f for f in export_labels(project, "parquet", tmp_path / "out") if f.name == "segments.parquet"]
    damaged = tmp_path / "S1.parquet"
    damaged.write_bytes(table.read_bytes().replace(b"happy", b"\xfcappy", 1))
    read_label_file(damaged, "parquet", session="S1")


def _eaf_unknown_encoding(tmp_path: Path, media: dict[str, Path]) -> None:
    from dyadlab.core.io.label_files.label_formats import export_labels, import_label_file

    with seeds.build_label_project(tmp_path / "project") as project:
        (eaf,) = export_labels(project, "eaf", tmp_path / "out")
        damaged = tmp_path / "S1.eaf"
        damaged.write_bytes(eaf.read_bytes().replace(b'encoding="UTF-8"', b'encoding="bogus"', 1))
        import_label_file(project, damaged, fmt="eaf", session="S1", on_existing="replace")


def _index_sub_us_timebase(tmp_path: Path, media: dict[str, Path]) -> None:
    import struct

    from dyadlab.core.media.frame_index import FrameIndex

    from .test_fuzz_media import _check_frame_times

    data = bytearray(media["avi"].read_bytes())
    strh = data.index(b"strh")  # AVISTREAMHEADER: fccType, fccHandler, flags, priority+language, initial
    scale_at = strh + 8 + 20  # frames, then dwScale, dwRate (time base = scale / rate)
    data[scale_at:scale_at + 8] = struct.pack("<II", 1, 4_063_257)
    path = tmp_path / "fine.avi"
    path.write_bytes(bytes(data))
    _check_frame_times(FrameIndex.build(path))


REPRODUCERS: dict[str, Callable[[Path, dict[str, Path]], None]] = {}  # one per entry of KNOWN_BUGS

# Found by this suite and since fixed: each reproducer must now succeed or be refused with a DyadLabError.
FIXED: dict[str, Callable[[Path, dict[str, Path]], None]] = {
    "server-url-port": _server_url_port,
    "job-status-shape": _job_status_shape,
    "job-events-bytes": _job_events_bytes,
    "udiva-age": _udiva_age,
    "parquet-lazy-utf8": _parquet_lazy_utf8,
    "eaf-unknown-encoding": _eaf_unknown_encoding,
    "index-sub-us-timebase": _index_sub_us_timebase,
    "time-infinite": _time_infinite,
    "time-past-int64": _time_past_int64,
}


@pytest.mark.parametrize("key", sorted(FIXED))
def test_fixed_bug_stays_fixed(key: str, tmp_path: Path, hardening_media: dict[str, Path]) -> None:
    try:
        FIXED[key](tmp_path, hardening_media)
    except DyadLabError as exc:
        assert str(exc)  # refused cleanly, with a message


def test_every_known_bug_has_a_reproducer() -> None:
    assert sorted(REPRODUCERS) == sorted(bug.key for bug in KNOWN_BUGS)


# Defined only while bugs are registered: an empty parametrisation would show up as a skipped test.
if KNOWN_BUGS:
    @pytest.mark.parametrize("bug", KNOWN_BUGS, ids=lambda bug: bug.key)
    @pytest.mark.xfail(strict=True, reason="a reported bug in another module (see known_bugs.py)")
    def test_known_bug_is_still_there(bug, tmp_path: Path, hardening_media: dict[str, Path]) -> None:
        try:
            REPRODUCERS[bug.key](tmp_path, hardening_media)
        except DyadLabError:
            return  # fixed: the input is refused cleanly
        except Exception as exc:
            assert known_bug(exc) == bug, f"{bug.key}: a different failure: {exc!r}"
            raise
