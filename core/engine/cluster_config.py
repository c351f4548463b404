"""``--cluster slurm.toml``: a job-queue cluster (Slurm, PBS, SGE) described in a small TOML file.

Why a file: a cluster's queue, account, memory and walltime are site facts a user writes once and reuses for
every corpus, and a file can be checked into the thesis repository next to the project. Example::

    kind = "slurm"                      # slurm | pbs | sge
    queue = "cpu"                       # partition / queue
    cores = 16                          # per job
    memory = "64GB"                     # per job
    walltime = "04:00:00"
    jobs = 8                            # jobs to submit (each runs `processes` workers)
    project_folder = "/shared/thesis/iemocap"   # the project, as the nodes see it (shared storage)
    # optional: processes (default = cores), account, python, interface, local_directory, log_directory,
    #           prologue = ["module load ffmpeg"], directives = ["--gres=gpu:1"]

The client (``dyadlab analyze`` on the login node) must see the project at ``project_folder`` too: workers get
absolute paths. Each job ``cd``s into the project and runs ``processes`` single-threaded workers.
``job_script`` renders the script dask-jobqueue would submit, without needing the queue system (tests, and
``dyadlab analyze --cluster FILE --print-job-script`` to check it before spending an allocation).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dyadlab.core.errors import DyadLabError

KINDS = ("slurm", "pbs", "sge")
REQUIRED = ("kind", "cores", "memory", "walltime", "jobs", "project_folder")
THREAD_ENV = "export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1"
# dask_engine.WORKER_CONFIG for workers the client does not start itself (dask reads DASK_* variables)
QUIET_WORKER_ENV = ("export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=1s "
                    "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL=5s")


@dataclass(frozen=True)
class ClusterConfig:
    kind: str
    cores: int
    memory: str
    walltime: str
    jobs: int
    project_folder: Path
    queue: str | None = None
    processes: int | None = None  # worker processes per job (default: one per core)
    account: str | None = None
    python: str | None = None  # the nodes' Python with DyadLab installed (default: this one)
    interface: str | None = None  # network interface the nodes reach the scheduler on (e.g. ib0)
    local_directory: str | None = None  # node-local scratch for the workers
    log_directory: str | None = None
    prologue: tuple[str, ...] = ()
    directives: tuple[str, ...] = ()
    scheduler_host: str | None = None  # where the scheduler listens (default: this machine's address)
    source: Path | None = field(default=None, compare=False)

    @classmethod
    def load(cls, path: str | Path) -> ClusterConfig:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise DyadLabError(f"cannot read the cluster file: {exc.strerror or exc}", path=path) from exc
        except tomllib.TOMLDecodeError as exc:
            raise DyadLabError(f"not valid TOML: {exc}", path=path) from exc
        return cls.from_dict(data, source=path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: Path | None = None) -> ClusterConfig:
        known = {f.name for f in fields(cls)} - {"source"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DyadLabError(f"unknown cluster setting {', '.join(unknown)}", path=source,
                               hint=f"known: {', '.join(sorted(known))}")
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise DyadLabError(f"the cluster file lacks {', '.join(missing)}", path=source,
                               hint="see `dyadlab analyze --help` and the README's 'Large corpora'")
        if data["kind"] not in KINDS:
            raise DyadLabError(f"kind = {data['kind']!r} is not a supported job queue", path=source,
                               hint=f"one of {', '.join(KINDS)}")
        for name in ("cores", "jobs", "processes"):
            if name in data and (not isinstance(data[name], int) or data[name] < 1):
                raise DyadLabError(f"{name} must be a whole number ≥ 1, got {data[name]!r}", path=source)
        values = dict(data, project_folder=Path(data["project_folder"]),
                      prologue=tuple(data.get("prologue", ())), directives=tuple(data.get("directives", ())))
        return cls(**values, source=source)

    def check_project(self, project_root: str | Path) -> None:
        """The client must open the project where the nodes see it: tasks carry absolute paths."""
        here, there = Path(project_root).resolve(), self.project_folder.resolve()
        if here != there:
            raise DyadLabError(f"the project is open at {here}, but the cluster's nodes see it at {there}",
                               path=self.source, hint="run the command on a machine that mounts the shared "
                                                      "storage at the same path (e.g. the login node), or fix "
                                                      "project_folder")

    def cluster_kwargs(self) -> dict[str, Any]:
        """Arguments of the dask-jobqueue cluster class (see ``make_cluster``)."""
        kw: dict[str, Any] = {
            "cores": self.cores, "processes": self.processes or self.cores, "memory": self.memory,
            "walltime": self.walltime, "queue": self.queue, "python": self.python, "interface": self.interface,
            "local_directory": self.local_directory, "log_directory": self.log_directory,
            "job_script_prologue": [THREAD_ENV, QUIET_WORKER_ENV, f"cd {self.project_folder}", *self.prologue],
            "job_extra_directives": list(self.directives), "dashboard_address": None, "silence_logs": "error",
            "job_name": "dyadlab-worker",
        }
        if self.account:
            kw["account" if self.kind != "sge" else "project"] = self.account
        if self.scheduler_host:
            kw["scheduler_options"] = {"host": self.scheduler_host}
        return {k: v for k, v in kw.items() if v is not None}


def make_cluster(config: ClusterConfig) -> Any:
    """The dask-jobqueue cluster (its scheduler starts here; no job is submitted until ``scale``)."""
    import dask_jobqueue

    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster,
           "sge": dask_jobqueue.SGECluster}[config.kind]
    return cls(**config.cluster_kwargs())


def job_script(config: ClusterConfig) -> str:
    """The job script the cluster would submit (rendered by dask-jobqueue; no queue system needed)."""
    cluster = make_cluster(config)
    try:
        return str(cluster.job_script())
    finally:
        cluster.close()


def jobqueue_engine(config: ClusterConfig) -> Any:
    """A ``DaskEngine`` on a job-queue cluster of ``config.jobs`` jobs, submitted when there is work."""
    from distributed import Client

    from dyadlab.core.engine.dask_engine import DaskEngine

    def start() -> tuple[Any, Any]:
        cluster = make_cluster(config)
        try:
            cluster.scale(jobs=config.jobs)
        except Exception as exc:
            cluster.close()
            raise DyadLabError(f"could not submit the {config.kind} jobs: {exc}", path=config.source,
                               hint=f"is this a {config.kind} login node? check queue/account/memory") from exc
        return Client(cluster), cluster

    per_job = config.processes or config.cores
    return DaskEngine(start=start, description=f"{config.kind} cluster, {config.jobs} jobs × {per_job} workers "
                                               f"({config.jobs * per_job} in all)")
