"""A plain-text (Markdown) summary of a project, shared by ``dyadlab info`` and the headless GUI run."""

from __future__ import annotations

from collections import Counter

from dyadlab.core.model import us_to_seconds
from dyadlab.core.project import Project


def _fmt_s(us: int | None) -> str:
    return "?" if us is None else f"{us_to_seconds(us):.2f}s"


def project_summary(project: Project) -> str:
    lines: list[str] = []
    with project.store.transaction() as tx:
        name = tx.settings.get("name", project.root.name)
        sessions = tx.sessions.list()
        annotators = {a.id: a for a in tx.annotators.list()}
        schemes = {s.id: s for s in tx.schemes.list()}
        lines.append(f"# DyadLab project: {name}")
        lines.append(f"folder: {project.root.resolve()}")
        lines.append(f"sessions: {len(sessions)}   annotators: {', '.join(a.name for a in annotators.values()) or '-'}")
        totals: Counter[str] = Counter()
        for session in sessions:
            lines.append("")
            group = f" [{session.group}]" if session.group else ""
            lines.append(f"## {session.name}{group}  duration {_fmt_s(session.duration_us)}")
            participants = tx.participants.list(session.id)
            codes = {p.id: p.code for p in participants}
            for p in participants:
                extra = ", ".join(f"{k}={v}" for k, v in (("role", p.role), ("age", p.age), ("gender", p.gender),
                                                          ("speaker", p.speaker)) if v is not None)
                lines.append(f"- participant {p.code}: {extra or '-'}")
            for v in tx.views.list(session.id):
                who = codes.get(v.participant_id, "both") if v.participant_id else "both"
                fps = f"{v.fps:.3f} fps" if v.fps else "? fps"
                size = f"{v.width}x{v.height}" if v.width else "?x?"
                crop = f" crop {v.crop.width}x{v.crop.height}+{v.crop.x}+{v.crop.y}" if v.crop else ""
                lines.append(f"- view {v.name} ({who}): {v.path}  {size} {fps}, {v.frame_count or '?'} frames, "
                             f"{_fmt_s(v.duration_us)}{crop}, offset {v.offset_us} µs")
            for a in tx.audio.list(session.id):
                lines.append(f"- audio {a.name}: {a.path}  {a.sample_rate or '?'} Hz × {a.channels or '?'} ch, "
                             f"{_fmt_s(a.duration_us)}")
            n_utt = len(tx.utterances.list(session.id))
            lines.append(f"- utterances: {n_utt}")
            for tier in tx.tiers.list(session.id):
                counts = tx.segments.count_by_value([tier.id])
                scheme = schemes[tier.scheme_id]
                if scheme.kind == "categorical":
                    totals.update({f"{annotators[tier.annotator_id].name}/{k}": n for k, n in counts.items()})
                who = codes.get(tier.participant_id, "session") if tier.participant_id else "session"
                if scheme.kind == "dimensional":
                    scores = [g.score for g in tx.segments.list(tier.id) if g.score is not None]
                    body = (f"{len(scores)} ratings, mean {sum(scores) / len(scores):.2f}" if scores else "empty")
                else:
                    body = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "empty"
                lines.append(f"- tier {tier.name} ({who}, {annotators[tier.annotator_id].name}, "
                             f"{scheme.name}): {body}")
        lines.append("")
        lines.append("## Label counts per class (all sessions, per annotator)")
        for key, n in sorted(totals.items()):
            lines.append(f"- {key}: {n}")
        if not totals:
            lines.append("- none")
    return "\n".join(lines)
