"""``dyadlab import-labels PROJECT FILE``: bring labels edited in ELAN, Praat or a spreadsheet back in.

Unlike ``dyadlab import`` (whole corpora), this adds tiers to sessions: participants are matched by code,
annotators and tiers are created as needed, and the whole file is checked before anything is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dyadlab.core.formats import IMPORT_FORMATS

NAME = "import-labels"
HELP = "import labels from an ELAN .eaf, Praat TextGrid or CSV/Parquet segments table (all or nothing)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path, help="project folder")
    p.add_argument("file", type=Path, help="label file")
    p.add_argument("--session", default=None,
                   help="session to import into (default: the one the file names: EAF property, file name, "
                        "or the table's session column)")
    p.add_argument("--format", "-f", dest="fmt", choices=["auto", *IMPORT_FORMATS], default="auto",
                   help="file format (default: by suffix)")
    p.add_argument("--on-existing", choices=["error", "replace", "merge"], default="error",
                   help="a tier that already holds segments: refuse (default), replace them, or add to them")
    p.add_argument("--scheme", default=None,
                   help="label scheme for new tiers when the file does not name one (TextGrid)")
    p.add_argument("--no-create-session", action="store_true",
                   help="refuse files naming a session the project does not have (default: create it)")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.io.label_files.label_formats import import_label_file
    from dyadlab.core.project import open_project

    with open_project(args.project) as project:
        report = import_label_file(project, args.file, fmt=args.fmt, session=args.session,
                                   on_existing=args.on_existing, default_scheme=args.scheme,
                                   create_session=not args.no_create_session)
    print(report)
    return 0
