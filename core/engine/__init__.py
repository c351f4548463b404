"""Where analysis and batch inference run: in this process (default) or on Dask (``dask_engine``).

``EngineSpec`` is what the user chose (``--workers N``, ``--scheduler ADDRESS``, ``--cluster FILE``);
``open_engine`` turns it into an ``Engine`` (``base``) to use as a context manager. Dask is imported only
when a Dask engine is opened, so the default path needs nothing beyond DyadLab's own dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dyadlab.core.engine.base import Engine, EngineLost, Outcome, WorkItem
from dyadlab.core.engine.local import InProcessEngine


@dataclass(frozen=True)
class EngineSpec:
    """``kind``: "in-process", "local-cluster" (``workers`` processes), "scheduler" (``address``) or
    "jobqueue" (``cluster_file``)."""

    kind: str = "in-process"
    workers: int = 1
    address: str | None = None
    cluster_file: Path | None = None

    @classmethod
    def for_workers(cls, workers: int) -> EngineSpec:
        """The CLI's ``--workers``: 1 (or less) in this process, more on a LocalCluster."""
        return cls("local-cluster", workers) if workers > 1 else cls()


def open_engine(spec: EngineSpec, *, project_root: str | Path | None = None) -> Engine:
    """The engine ``spec`` asks for (a jobqueue cluster checks it sees the project where its nodes do)."""
    if spec.kind == "in-process":
        return InProcessEngine()
    if spec.kind == "local-cluster":
        from dyadlab.core.engine.dask_engine import local_cluster

        return local_cluster(spec.workers)
    if spec.kind == "scheduler":
        from dyadlab.core.engine.dask_engine import connect

        assert spec.address is not None
        return connect(spec.address)
    if spec.kind == "jobqueue":
        from dyadlab.core.engine.cluster_config import ClusterConfig, jobqueue_engine

        assert spec.cluster_file is not None
        config = ClusterConfig.load(spec.cluster_file)
        if project_root is not None:
            config.check_project(project_root)
        return jobqueue_engine(config)
    raise ValueError(f"unknown engine kind {spec.kind!r}")


__all__ = ["Engine", "EngineLost", "EngineSpec", "InProcessEngine", "Outcome", "WorkItem", "open_engine"]
