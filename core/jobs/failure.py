"""Why a job failed, in the words of the program that failed, for the Jobs panel's message column.

The supervisor only sees an exit code ("the job's process ended: exit code 1"); the real reason is what the
job said: a ``dyadlab train`` run records ``{"event": "error", "message": ...}`` in its events, and every
``dyadlab`` command prints ``dyadlab <command>: error: <message>`` on stderr (which the runner logs). An
uncaught exception leaves ``SomeError: message`` as the last line of its traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

CLI_ERROR = re.compile(r"^dyadlab [\w-]+: error: (?P<message>.+)$")
TRACEBACK_END = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception|Interrupt): .+$")


def failure_reason(events: Iterable[dict[str, Any]], log_text: str) -> str | None:
    """The job's own last word on its failure (an ``error`` event, a CLI error line, a traceback's last line),
    or None when it said nothing that explains it."""
    for event in reversed(list(events)):
        if event.get("event") == "error" and event.get("message"):
            return str(event["message"])
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    for line in reversed(lines):
        match = CLI_ERROR.match(line)
        if match:
            return match.group("message")
    return next((line for line in reversed(lines) if TRACEBACK_END.match(line)), None)
