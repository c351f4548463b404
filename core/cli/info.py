"""``dyadlab info PROJECT``: what a project holds — sessions, participants, views, label counts — and how
fast exact seeking is in each view (its longest GOP, and whether a proxy exists).

Why the seeking section: a camera file with a keyframe every 10 s makes every scrub decode hundreds of
frames; the fix (``dyadlab proxy``) is cheap, but only if the user learns which views need it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "info"
HELP = "summarise a project: sessions, participants, views (fps, duration, GOP, proxy), label counts per class"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("--output", "-o", type=Path, help="also write the summary (Markdown) to this file")
    p.add_argument("--no-seek", action="store_true",
                   help="skip the seeking section (it indexes every video file not indexed yet: a demux pass each)")


def seek_section(project) -> str:
    """Markdown lines: per session and view, the file's longest GOP and whether a proxy exists; then a
    warning per file that holds fewer frames than its header declares (the counts shown are the file's)."""
    from dyadlab.core.errors import MediaError
    from dyadlab.core.media.proxy import SLOW_SEEK_GOP, proxy_dir_of, seek_cost
    from dyadlab.core.media.session_media import INDEX_CACHE

    index_cache, proxy_dir = Path(project.cache_dir) / INDEX_CACHE, proxy_dir_of(project.cache_dir)
    lines = ["", f"## Seeking (GOP = longest run of frames between keyframes; over {SLOW_SEEK_GOP} is slow)"]
    costs: dict[Path, object] = {}  # one look per file, however many views crop it
    wanted = False
    warnings: dict[Path, str] = {}
    with project.store.transaction() as tx:
        views = [(s, v) for s in tx.sessions.list() for v in tx.views.list(s.id)]
    for session, view in views:
        path = project.media_path(view.path)
        if path not in costs:
            try:
                costs[path] = seek_cost(path, proxy_dir, index_cache)
            except MediaError as exc:
                costs[path] = exc
        cost = costs[path]
        if isinstance(cost, MediaError):
            text = f"unreadable: {cost}"
        else:
            proxy = f"proxy {cost.proxy.name}" if cost.proxy else "no proxy"
            if cost.needs_proxy:
                verdict = "slow to seek, make a proxy"
            else:
                verdict = "seeks use the proxy" if cost.proxy else "fast to seek"
            wanted |= cost.needs_proxy
            text = f"GOP {cost.gop}, {proxy}: {verdict}"
            if cost.index.problem:
                warnings[path] = cost.index.problem
        lines.append(f"- {session.name} / view {view.name}: {text}")
    if not views:
        lines.append("- no views")
    if wanted:
        lines.append(f"- make the missing proxies: dyadlab proxy {project.root}")
    if warnings:
        lines += ["", "## Media warnings"] + [f"- ⚠ {path}: {problem}" for path, problem in warnings.items()]
    return "\n".join(lines)


def team_section(project) -> str:
    """Markdown lines for a team project: the server, who this connection is there with which role, and
    whether the server enforces the rules this DyadLab greys its controls by."""
    from dyadlab.core.store.accounts import connected_account
    from dyadlab.core.store.server import describe

    account = connected_account(project.store)
    if account is None:
        return ""
    return (f"\n\n## Team server\n- database: {describe(project.store.url)}\n- connected as: {account}"
            f"\n- server rules: {account.rules_line()}")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.atomic_write import write_text_atomically
    from dyadlab.core.project import open_project
    from dyadlab.core.summary import project_summary

    with open_project(args.project) as project:
        text = project_summary(project) + team_section(project)
        text += "".join(f"\n- note: {notice}" for notice in project.notices)
        if not args.no_seek:
            text += "\n" + seek_section(project)
    print(text)
    if args.output:
        write_text_atomically(args.output, text + "\n")
    return 0
