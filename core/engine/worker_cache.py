"""Things a worker process loads once and keeps for every item it runs: models, open projects, media readers.

Why: a Dask worker runs hundreds of items (time-chunks) of the same corpus; loading a model per item would
cost more than many items' work. A worker process is long-lived, so a module-level, bounded, least-recently
used table is the simplest per-worker cache (a Dask worker plugin would add nothing here). In the in-process
engine it is the client's own process, so the same code keeps one model for a whole run there too.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
KEEP = 4  # resources kept per process (e.g. models of a few projects); the least recently used is closed

_resources: OrderedDict[Hashable, Any] = OrderedDict()
loads: dict[Hashable, int] = {}  # how often each key was loaded in this process (tests, the benchmark)


def worker_resource(key: Hashable, factory: Callable[[], T]) -> T:
    """The resource under ``key``, made by ``factory`` the first time this process asks for it."""
    if key in _resources:
        _resources.move_to_end(key)
        return _resources[key]
    value = factory()
    loads[key] = loads.get(key, 0) + 1
    _resources[key] = value
    while len(_resources) > KEEP:
        _, old = _resources.popitem(last=False)
        with contextlib.suppress(Exception):
            old.close()
    return value


def load_count(key: Hashable) -> int:
    return loads.get(key, 0)
