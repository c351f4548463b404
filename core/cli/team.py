"""``dyadlab team ...``: accounts of a team project (database logins) and its change log.

Why a command: on a team project an account *is* a PostgreSQL login in one of the project's group roles,
mapped one to one to an annotator; making one is an admin's step at a shell, and the server (not this
command) checks that whoever runs it is the project owner or an admin. The work is in
``core/store/accounts.py``; docs/team.md explains the set-up around it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "team"
HELP = "team project accounts (database logins with a role) and the server's change log"
ROLES = ("annotator", "reviewer", "admin")


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="team_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        a = sub.add_parser(name, help=help_text, description=help_text)
        a.add_argument("--project", "-p", type=Path, default=Path("."), help="project folder (default: here)")
        return a

    add = action("add-user", "create a login (or use an existing one) as an account of the project with a role")
    add.add_argument("name", help="login and account name (PostgreSQL role name, at most 63 bytes)")
    add.add_argument("--role", required=True, choices=ROLES)
    pw = add.add_mutually_exclusive_group()
    pw.add_argument("--password-file", type=Path,
                    help="read the new login's password from the first line of this file (default: ask)")
    pw.add_argument("--no-password", action="store_true",
                    help="set no password (the server authenticates this login another way: cert, gss, peer)")
    role = action("set-role", "change an account's role (acts on the server at once)")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=ROLES)
    remove = action("remove-user", "take an account out of the project (its labels keep their author)")
    remove.add_argument("name")
    action("list", "list the project's accounts and their roles")
    action("whoami", "who this connection is on the server, and its role")
    log = action("log", "show the change log the server's triggers write (who, when, what)")
    log.add_argument("--after", type=int, default=0, metavar="ID",
                     help="the entries after this id (default: the latest ones)")
    log.add_argument("--table", help="only changes of this table")
    log.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")
    log.add_argument("--verify", action="store_true", help="check the log's hash chain instead of listing it")


def _password(args: argparse.Namespace) -> str | None:
    from dyadlab.core.errors import DyadLabError

    if args.no_password:
        return None
    if args.password_file is not None:
        try:
            lines = args.password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise DyadLabError(f"cannot read the password file: {exc.strerror}", path=args.password_file) from exc
        if not lines or not lines[0]:
            raise DyadLabError("the password file's first line is empty", path=args.password_file)
        return lines[0]
    if not sys.stdin.isatty():
        raise DyadLabError("no terminal to ask for the new login's password",
                           hint="give --password-file FILE, or --no-password")
    import getpass

    first = getpass.getpass(f"password for {args.name}: ")
    if not first or first != getpass.getpass("again: "):
        raise DyadLabError("the two passwords were empty or differ; no account was made")
    return first


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.project import open_project
    from dyadlab.core.store import accounts

    password = _password(args) if args.team_command == "add-user" else None
    with open_project(args.project) as project:
        store = project.store
        if args.team_command == "add-user":
            made = accounts.add_account(store, args.name, args.role, password=password)
            print(f"{made.name} is now an account of this project with the role {made.role}")
        elif args.team_command == "set-role":
            accounts.set_account_role(store, args.name, args.role)
            print(f"{args.name} now has the role {args.role}")
        elif args.team_command == "remove-user":
            accounts.remove_account(store, args.name)
            print(f"{args.name} is no longer an account of this project; their labels stay")
        elif args.team_command == "list":
            for login, annotator in accounts.list_accounts(store):
                print(f"{login:<32} {annotator.role}")
        elif args.team_command == "whoami":
            print(accounts.connected_account(store) or "this project is a SQLite file: no server accounts")
        elif args.verify:
            check = accounts.verify_change_log(store)
            print(check)
            return 0 if check.intact else 1
        else:
            entries = accounts.change_log(store, after_id=args.after, table=args.table, limit=args.limit,
                                          latest=not args.after)
            for e in entries:
                print(f"{e.id:>8}  {e.at:%Y-%m-%d %H:%M:%S%z}  {e.login:<20} {e.op:<6} {e.table} {e.key}")
    return 0
