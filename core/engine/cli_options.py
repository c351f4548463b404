"""The engine options ``dyadlab analyze`` and ``dyadlab infer`` share: ``--workers``, ``--scheduler``, ``--cluster``.

One place so both commands say the same thing and check it the same way (they are mutually exclusive:
an engine is in-process, a LocalCluster, a running scheduler or a job-queue cluster).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dyadlab.core.engine import EngineSpec
from dyadlab.core.errors import DyadLabError


def add_engine_arguments(p: argparse.ArgumentParser, *, workers_default: int = 1) -> None:
    group = p.add_argument_group("where the work runs (default: in this process)")
    group.add_argument("--workers", type=int, default=workers_default, metavar="N",
                       help="N > 1: a Dask LocalCluster of N worker processes on this machine")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://host:8786 (its workers must see the project "
                            "folder at the same path)")
    group.add_argument("--cluster", type=Path, metavar="FILE",
                       help="a Slurm/PBS/SGE cluster described in a TOML file (kind, queue, cores, memory, "
                            "walltime, jobs, project_folder; see the README's 'Large corpora')")
    group.add_argument("--print-job-script", action="store_true",
                       help="with --cluster: print the job script it would submit, and stop")


def engine_spec(args: argparse.Namespace) -> EngineSpec:
    chosen = [name for name, given in (("--scheduler", args.scheduler), ("--cluster", args.cluster),
                                       ("--workers", args.workers > 1)) if given]
    if len(chosen) > 1:
        raise DyadLabError(f"choose one of {' / '.join(chosen)}: they are different places to run the work")
    if args.workers < 1:
        raise DyadLabError(f"--workers must be at least 1, got {args.workers}")
    if args.scheduler:
        return EngineSpec("scheduler", address=args.scheduler)
    if args.cluster:
        return EngineSpec("jobqueue", cluster_file=args.cluster)
    if args.print_job_script:
        raise DyadLabError("--print-job-script needs --cluster FILE")
    return EngineSpec.for_workers(args.workers)


def print_job_script(args: argparse.Namespace) -> bool:
    """``--print-job-script``: print the cluster's job script; True when done (the command stops)."""
    if not getattr(args, "print_job_script", False) or not args.cluster:
        return False
    from dyadlab.core.engine.cluster_config import ClusterConfig, job_script

    print(job_script(ClusterConfig.load(args.cluster)))
    return True
