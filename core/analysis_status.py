"""Per session: is its analysis done, stale, partial or missing — without running anything.

The Analyse dialog lists the sessions with this status so the user sees what a run would (re)compute.
It plans the same tasks ``dyadlab analyze`` would (``features.pipeline.plan_tasks``: content hashes of the
media and the parameters, offsets and crops included) and asks the feature cache whether each result
exists under its key: present → done; another result for the same (session, participant, task) but under
another key → **stale** (a file, an offset or a setting changed since); none → missing. Asked without
settings of its own (the project panel), a result made with other settings than the defaults (``dyadlab
analyze --window 1064``) is done as long as it is current for the settings it was made with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DONE, STALE, PARTLY, MISSING = "analysed", "stale", "partly analysed", "not analysed"


@dataclass(frozen=True)
class SessionAnalysis:
    session_id: int
    name: str
    done: int = 0
    stale: int = 0
    missing: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)  # e.g. "A faces: no video view"

    @property
    def state(self) -> str:
        if self.stale:
            return STALE
        if self.done and not self.missing:
            return DONE
        return PARTLY if self.done else MISSING

    def describe(self) -> str:
        counts = f"{self.done} done, {self.stale} stale, {self.missing} to compute"
        return f"{self.name}: {self.state} ({counts})" + (f"; {'; '.join(self.problems)}" if self.problems else "")


def _tally(project: Any, what: Sequence[str], sessions: Iterable[int | str] | None,
           params: dict[str, dict[str, Any]] | None) -> tuple[list[Any], dict[tuple[int, str], dict[str, int]],
                                                              dict[tuple[str, str], list[str]]]:
    """The chosen sessions; done/stale/missing counts per (session id, task); problems per (session, task)."""
    from dyadlab.core.features.cache import FeatureCache
    from dyadlab.core.features.pipeline import plan_tasks, select_sessions

    tasks, warnings = plan_tasks(project, sessions, what, params)
    cache = FeatureCache(project.root)
    counts: dict[tuple[int, str], dict[str, int]] = {}
    for task in tasks:
        latest = cache.latest(task.session_id, task.participant_id, task.task)
        if cache.is_done(task.session_id, task.participant_id, task.task, task.key):
            state = "done"
        elif latest is None:
            state = "missing"
        elif params is None and _done_with_its_settings(project, cache, task, latest.manifest.get("params")):
            state = "done"  # analysed with settings the user chose (``--window``, ``--face-size``): nothing changed
        else:
            state = "stale"
        bucket = counts.setdefault((task.session_id, task.task), {"done": 0, "stale": 0, "missing": 0})
        bucket[state] += 1
    with project.store.transaction() as tx:
        chosen = select_sessions(tx.sessions.list(), sessions)
    problems: dict[tuple[str, str], list[str]] = {}
    for w in warnings:
        problems.setdefault((w.session, w.task), []).append(f"{w.participant} {w.task}: {w.message}")
    return chosen, counts, problems


def _done_with_its_settings(project: Any, cache: Any, task: Any, used: dict[str, Any] | None) -> bool:
    """Whether the latest result of ``task`` is still current for the settings it was made with: planned again
    with those, its key (media content, offsets, crops, settings) is the one cached."""
    from dyadlab.core.features.pipeline import plan_tasks

    if not used:
        return False
    again, _ = plan_tasks(project, [task.session_id], [task.task], {task.task: used})
    return any(t.participant_id == task.participant_id and t.task == task.task
               and cache.is_done(t.session_id, t.participant_id, t.task, t.key) for t in again)


def analysis_status(project: Any, what: Sequence[str], *, sessions: Iterable[int | str] | None = None,
                    params: dict[str, dict[str, Any]] | None = None) -> list[SessionAnalysis]:
    """One ``SessionAnalysis`` per chosen session (all by default), in the project's session order."""
    chosen, counts, problems = _tally(project, what, sessions, params)
    out = []
    for s in chosen:
        total = {k: sum(counts.get((s.id, t), {}).get(k, 0) for t in what) for k in ("done", "stale", "missing")}
        found = tuple(p for t in what for p in problems.get((s.name, t), ()))
        out.append(SessionAnalysis(s.id, s.name, **total, problems=found))
    return out


def analysis_by_task(project: Any, what: Sequence[str], *, sessions: Iterable[int | str] | None = None,
                     params: dict[str, dict[str, Any]] | None = None) -> dict[int, dict[str, SessionAnalysis]]:
    """Per chosen session id, per analysis of ``what``: its own ``SessionAnalysis`` (the project panel's rows)."""
    chosen, counts, problems = _tally(project, what, sessions, params)
    return {s.id: {t: SessionAnalysis(s.id, s.name, **counts.get((s.id, t), {}),
                                      problems=tuple(problems.get((s.name, t), ())))
                   for t in what} for s in chosen}
