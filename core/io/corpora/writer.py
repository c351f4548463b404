"""Turning checked ``SessionPlan`` objects into rows: the one place an import writes, in one transaction.

Every importer follows the same three steps: find its sessions in the corpus, read and check each one
into a plan (``plan_sessions``), then write all plans at once (``write_sessions``). Only the last step
opens a write transaction, so a malformed line in the hundredth file leaves the project untouched,
and a failure while writing (disk full, cancelled) rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from dyadlab.core.errors import ImportFormatError, LabelSchemeError, StoreError
from dyadlab.core.io.corpora.plan import SessionPlan
from dyadlab.core.io.corpora.report import ImportProgress, ImportReport
from dyadlab.core.model import LabelScheme
from dyadlab.core.progress import ProgressCallback
from dyadlab.core.project import Project
from dyadlab.core.store import UnitOfWork


class SessionSource(Protocol):
    """What an importer found for one session before reading it: its name and where it lives."""

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> Path: ...


SourceT = TypeVar("SourceT", bound=SessionSource)


def project_schemes(project: Project) -> dict[str, LabelScheme]:
    """The project's label schemes by name (importers map corpus labels through them)."""
    with project.store.transaction() as tx:
        return {s.name: s for s in tx.schemes.list()}


def require_scheme(schemes: dict[str, LabelScheme], name: str) -> LabelScheme:
    if name not in schemes:
        raise LabelSchemeError(f"the project has no label scheme {name!r}",
                               hint="it ships with DyadLab; reopen the project to reinstall the shipped schemes")
    return schemes[name]


def check_new_sessions(project: Project, sources: Sequence[SessionSource], *, replace: bool) -> None:
    """Refuse two corpus folders giving the same session, and (unless ``replace``) re-importing one."""
    first: dict[str, Path] = {}
    for src in sources:
        if src.name in first:
            raise ImportFormatError(f"two folders give session {src.name!r}: {first[src.name]} and {src.source}",
                                    path=src.source, hint="import them separately or rename one")
        first[src.name] = src.source
    if replace:
        return
    with project.store.transaction() as tx:
        existing = [name for name in first if tx.sessions.by_name(name) is not None]
    if existing:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise StoreError(f"session(s) already in this project: {shown}; nothing was imported", path=project.root,
                         hint="import into a new project or leave them out with --sessions; "
                              "run_import(..., replace=True) replaces them")


def plan_sessions(project: Project, sources: Sequence[SourceT], read: Callable[[SourceT], SessionPlan], *,
                  replace: bool, progress: ProgressCallback | None) -> tuple[list[SessionPlan], ImportProgress]:
    """Read every session into a plan (nothing is written); the progress counts reading then writing."""
    if not sources:
        raise ImportFormatError("no sessions to import")
    check_new_sessions(project, sources, replace=replace)
    steps = ImportProgress(progress, total=2 * len(sources))
    plans = []
    for src in sources:
        steps.step(f"reading {src.name}")
        plans.append(read(src))
    return plans, steps


def write_sessions(project: Project, plans: Sequence[SessionPlan], report: ImportReport, *, replace: bool,
                   steps: ImportProgress) -> ImportReport:
    """Write all plans in one transaction; on any error nothing is written and the error propagates."""
    with project.store.transaction() as tx:
        writer = _PlanWriter(project, tx, report)
        for plan in plans:
            steps.step(f"writing {plan.name}")
            existing = tx.sessions.by_name(plan.name)
            if existing is not None and replace:
                tx.sessions.delete(existing.id)
                report.replaced.append(plan.name)
            writer.write(plan)
    steps.finish()
    return report


class _PlanWriter:
    """Writes one plan after another into an open unit of work, counting rows into the report."""

    def __init__(self, project: Project, tx: UnitOfWork, report: ImportReport) -> None:
        self.project, self.tx, self.report = project, tx, report
        self._schemes: dict[str, int] = {}
        self._annotators: dict[str, int] = {}
        self._warned: set[Path] = set()  # media files whose problem the report already names

    def scheme_id(self, name: str) -> int:
        if name not in self._schemes:
            scheme = self.tx.schemes.by_name(name)
            if scheme is None:
                raise LabelSchemeError(f"the project has no label scheme {name!r}")
            self._schemes[name] = scheme.id
        return self._schemes[name]

    def annotator_id(self, name: str, kind: str) -> int:
        if name not in self._annotators:
            annotator = self.tx.annotators.by_name(name)
            if annotator is None:
                annotator = self.tx.annotators.add(name, kind=kind)
                self.report.annotators_added += 1
            self._annotators[name] = annotator.id
        return self._annotators[name]

    def write(self, plan: SessionPlan) -> None:
        tx, report = self.tx, self.report
        session = tx.sessions.add(plan.name, group=plan.group, duration_us=plan.duration_us,
                                  attributes=plan.attributes)
        ids: dict[str | None, int | None] = {None: None}
        for p in plan.participants:
            ids[p.code] = tx.participants.add(session.id, p.code, role=p.role, age=p.age, gender=p.gender,
                                              speaker=p.speaker, attributes=p.attributes).id
        for v in plan.views:
            video = v.media.video
            assert video is not None  # mediafiles.probe_video checked it
            if video.problem and v.media.path not in self._warned:
                self._warned.add(v.media.path)
                report.warn(f"{v.media.path}: {video.problem}")
            tx.views.add(session.id, v.name, self.project.relative_media_path(v.media.path),
                         participant_id=ids[v.participant], crop=v.crop, offset_us=v.offset_us,
                         width=video.width, height=video.height, fps=video.fps, frame_count=video.frame_count,
                         duration_us=video.duration_us or v.media.duration_us)
        for a in plan.audio:
            audio = a.media.audio
            assert audio is not None
            tx.audio.add(session.id, a.name, self.project.relative_media_path(a.media.path), offset_us=a.offset_us,
                         sample_rate=audio.sample_rate, channels=audio.channels,
                         channel_participants=[ids[c] for c in a.channel_participants],
                         duration_us=audio.duration_us or a.media.duration_us)
        for u in plan.utterances:
            tx.utterances.add(session.id, u.name, u.start_us, u.end_us, participant_id=ids[u.participant],
                              text=u.text, attributes=u.attributes)
        rows = []
        for t in plan.tiers.values():
            annotator_id = self.annotator_id(t.annotator, t.annotator_kind)
            tier = tx.tiers.add(session.id, t.name, scheme_id=self.scheme_id(t.scheme), annotator_id=annotator_id,
                                kind=t.kind, participant_id=ids[t.participant], read_only=t.read_only)
            rows += [{"tier_id": tier.id, "start_us": s.start_us, "end_us": s.end_us, "value": s.value,
                      "score": s.score, "annotator_id": annotator_id, "provenance": s.provenance}
                     for s in t.segments]
        report.segments += tx.segments.add_many(rows)  # one bulk insert per session
        report.sessions.append(plan.name)
        report.participants += len(plan.participants)
        report.views += len(plan.views)
        report.audio_tracks += len(plan.audio)
        report.utterances += len(plan.utterances)
        report.tiers += len(plan.tiers)
