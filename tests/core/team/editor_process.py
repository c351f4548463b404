"""One annotator in its own OS process, for ``test_concurrency.py`` (run as a script, prints JSON).

Why a separate process and not a thread: two annotators are two programs with their own connection pools
and their own view of the rows; only separate processes show that the store's promises hold across them.

Three kinds of edit, each as the GUI makes it (read a segment, then save with the version it showed):
- own: a segment nobody else touches; every edit must land;
- contested: both processes read the same version, meet at a file barrier, then both save; exactly one
  may win, the other must get a ConflictError;
- counter: read-modify-write of a shared score, retrying after each conflict; no increment may be lost.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from dyadlab.core.errors import ConflictError
from dyadlab.core.store import Store


def _meet(folder: Path, me: str, other: str, step: int, timeout_s: float = 30.0) -> None:
    (folder / f"{step}-{me}").touch()
    deadline = time.monotonic() + timeout_s
    while not (folder / f"{step}-{other}").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} never reached step {step}")
        time.sleep(0.0005)


def _save(store: Store, segment_id: int, version: int, **fields: Any) -> dict[str, Any]:
    try:
        with store.transaction() as tx:
            saved = tx.segments.update(segment_id, expected_version=version, **fields)
    except ConflictError:
        return {"segment": segment_id, "ack": False}
    return {"segment": segment_id, "ack": True, "version": saved.version, "value": saved.value}


def _read_version(store: Store, segment_id: int) -> tuple[int, float | None]:
    with store.transaction() as tx:
        seg = tx.segments.get(segment_id)
    return seg.version, seg.score


def main(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    me, other, barrier = cfg["me"], cfg["other"], Path(cfg["barrier"])
    store = Store(cfg["url"], migrate=False)
    log: list[dict[str, Any]] = []
    try:
        for step in range(cfg["rounds"]):
            own = cfg["own"][step % len(cfg["own"])]
            version, _ = _read_version(store, own)
            log.append({"kind": "own", **_save(store, own, version, value=f"{me}-{step}")})

            contested = cfg["contested"][step % len(cfg["contested"])]
            version, _ = _read_version(store, contested)
            _meet(barrier, me, other, step)
            log.append({"kind": "contested", **_save(store, contested, version, value=f"{me}-{step}")})

        for _ in range(cfg["increments"]):
            for _attempt in range(200):
                version, score = _read_version(store, cfg["counter"])
                result = _save(store, cfg["counter"], version, score=(score or 0) + 1)
                log.append({"kind": "counter", **result})
                if result["ack"]:
                    break
            else:
                raise RuntimeError("an increment kept conflicting 200 times")
    finally:
        store.close()
    return log


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
