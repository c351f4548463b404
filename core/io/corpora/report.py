"""What an import tells its caller: progress while it runs, and a report of what it wrote at the end.

The report is what ``dyadlab import`` prints and what the GUI shows after an import, so its ``str`` is
a short human-readable summary; the counts and the full list of warnings stay available as fields
for tests and callers that want them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dyadlab.core.progress import ProgressCallback, report

_SHOWN = 20  # warnings and session names printed before "... and N more"


@dataclass
class ImportReport:
    """Counts of the rows an import wrote (all in one transaction) and warnings about what it skipped."""

    format: str
    source: Path
    sessions: list[str] = field(default_factory=list)
    participants: int = 0
    views: int = 0
    audio_tracks: int = 0
    utterances: int = 0
    tiers: int = 0
    segments: int = 0
    annotators_added: int = 0
    replaced: list[str] = field(default_factory=list)  # sessions that existed and were replaced
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the importer chose (e.g. each speaker's audio source)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def __str__(self) -> str:
        lines = [
            f"Imported {len(self.sessions)} session(s) ({self.format}) from {self.source}",
            f"  participants {self.participants}, views {self.views}, audio tracks {self.audio_tracks}, "
            f"utterances {self.utterances}, tiers {self.tiers}, segments {self.segments}, "
            f"new annotators {self.annotators_added}",
        ]
        if self.sessions:
            lines.append("  sessions: " + _shorten(self.sessions, ", "))
        if self.replaced:
            lines.append("  replaced: " + _shorten(self.replaced, ", "))
        lines.extend(f"  {n}" for n in self.notes[:_SHOWN])
        if len(self.notes) > _SHOWN:
            lines.append(f"  ... and {len(self.notes) - _SHOWN} more notes")
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines.extend(f"  - {w}" for w in self.warnings[:_SHOWN])
            if len(self.warnings) > _SHOWN:
                lines.append(f"  ... and {len(self.warnings) - _SHOWN} more")
        return "\n".join(lines)


def _shorten(items: list[str], sep: str) -> str:
    text = sep.join(items[:_SHOWN])
    return text + (f"{sep}... and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


@dataclass
class ImportProgress:
    """Counts steps (reading, then writing, each session) and forwards them to a ProgressCallback."""

    callback: ProgressCallback | None
    total: int
    done: int = 0

    def step(self, message: str) -> None:
        report(self.callback, self.done, self.total, message)
        self.done += 1

    def finish(self, message: str = "done") -> None:
        self.done = self.total
        report(self.callback, self.done, self.total, message)
