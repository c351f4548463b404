"""Background jobs: analysis and training as separate OS processes that survive the GUI.

``JobRunner`` (no widgets) queues jobs in the store, launches each through ``dyadlab.core.jobs.supervise``
(a tiny wrapper process that owns the real command, forwards cancellation and writes the final state to
an atomically replaced status file), follows their progress, cancels them and reattaches to them after a
restart. The GUI's Jobs dock and the CLI both drive this one class.
"""

from dyadlab.core.jobs.runner import JobRunner
from dyadlab.core.jobs.status import JobStatus, read_events, read_status, write_status

__all__ = ["JobRunner", "JobStatus", "read_events", "read_status", "write_status"]
