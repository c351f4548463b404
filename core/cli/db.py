"""``dyadlab db migrate PROJECT --to TARGET``: move a project's database between SQLite and PostgreSQL.

Why a command: going to team mode (or archiving a team project) is a one-off step an admin runs from a
shell, and it must say plainly whether the copy was complete. The work and the row-for-row verification
are in ``core/store/transfer.py``; this only parses arguments and draws the progress bar.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "db"
HELP = "project database tools: copy a project between SQLite and a PostgreSQL server (team mode)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    m = sub.add_parser("migrate", help="copy a project's database, verified row for row, in one transaction",
                       description="Copy every row of PROJECT's database into an empty target and verify "
                                   "row counts and per-table checksums before committing.")
    m.add_argument("project", type=Path, help="project folder")
    m.add_argument("--to", required=True, metavar="TARGET",
                   help="postgresql+psycopg://user@host:port/db (no password: use ~/.pgpass or PGPASSWORD), "
                        "sqlite:///path/file.sqlite, or a project folder")
    m.add_argument("--switch", action="store_true",
                   help="afterwards make PROJECT use the copy (server: project.toml names it and the SQLite "
                        "file moves to backups/; PROJECT's own folder: back to its SQLite file)")
    m.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.progress import cli_progress
    from dyadlab.core.store.transfer import migrate_project

    with cli_progress("migrate", enabled=not args.quiet) as progress:
        result = migrate_project(args.project, args.to, switch=args.switch, progress=progress)
    print(result)
    if args.switch:
        print(f"{args.project} now uses {result.target}")
    return 0
