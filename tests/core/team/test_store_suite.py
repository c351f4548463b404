"""The store's own test suite, run again on each backend (SQLite file and PostgreSQL server).

Why re-run rather than rewrite: ``tests/core/store/test_repositories.py`` states what the rest of DyadLab
relies on; team mode must keep exactly those promises. The tests listed here only touch
``project.store``; the two that open the SQLite file directly are covered for PostgreSQL by
``test_portability.py`` and ``test_server_project.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SUITE_FILE = Path(__file__).parents[1] / "store" / "test_repositories.py"
BACKEND_NEUTRAL = [
    "test_stale_segment_edit_is_a_conflict_not_an_overwrite",
    "test_delete_and_restore_keeps_identity",
    "test_segments_window_query_returns_overlaps",
    "test_series_round_trip_across_blocks_with_gaps",
    "test_series_rejects_wrong_width",
    "test_job_claim_is_exclusive",
]


def _load_suite():
    spec = importlib.util.spec_from_file_location("dyadlab_store_suite_for_team", _SUITE_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_suite = _load_suite()


@pytest.mark.parametrize("name", BACKEND_NEUTRAL)
def test_store_suite_on_each_backend(name: str, project) -> None:
    getattr(_suite, name)(project)
