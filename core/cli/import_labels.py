"""``dyadlab import-labels PROJECT FILE``: bring labels edited in ELAN, Praat or a spreadsheet back in.

Unlike ``dyadlab import`` (whole corpora), this adds tiers to sessions: participants are matched by code,
annotators and tiers are created as needed, and the whole file is checked before anything is written.
ELAN and Praat tiers named freely ("Emotion") are placed with ``--map``, a ``--mapping`` file or
``--guess``; labels outside a tier's scheme are decided with ``--unknown`` (``core/io/label_files/
tier_mapping.py`` and ``unknown_labels.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dyadlab.core.formats import IMPORT_FORMATS

NAME = "import-labels"
HELP = "import labels from an ELAN .eaf, Praat TextGrid or CSV/Parquet segments table (all or nothing)"
EPILOG = """\
tiers with free names (ELAN, Praat):
  Tiers named PARTICIPANT|TIER|ANNOTATOR (what DyadLab writes) need nothing. Others are placed with
    --map "Emotion=A/emotion/alice"          participant A, tier emotion, annotator alice
    --map "Scene=*/scene/alice"              a session-level tier
    --map "Valence=B/valence/bob@vad"        and the label scheme of a new tier
    --map "Speaker B laughs=B/laughs/bob@+new"   a new scheme named after the tier, its labels as classes
    --map "Notes=skip"                       leave a tier out (listed in the report)
  or a TOML file (--mapping mapping.toml):
    [tiers]
    Emotion = "A/emotion/alice"
    "Valence Bob" = { participant = "B", tier = "valence", annotator = "bob", scheme = "vad" }
    [unknown]
    frustrated = "map:angry"
    "*" = "refuse"                           # labels not listed
  --guess places the tiers not mapped from their names (participant codes, annotators, tier names such
  as emotion/valence, ELAN's PARTICIPANT/ANNOTATOR attributes) and prints what it chose. A tier whose
  labels are mostly in no scheme of the project (laughs, gestures) gets a new scheme of its own (@+new),
  with --guess and when its scheme is left to the import alike.

labels a tier's scheme does not know (--unknown, repeatable):
    --unknown refuse                         stop the import, naming file, tier and label (default)
    --unknown add                            add them to the scheme as new classes
    --unknown map:frustrated=angry           store one label as an existing class
    --unknown laugh=add / laugh=refuse       decide one label
  What was mapped or added is listed in the report; a refused label imports nothing.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
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
    p.add_argument("--map", action="append", default=[], metavar="TIER=P/TIER/ANNOTATOR",
                   help="place a freely named file tier (repeatable; see below)")
    p.add_argument("--mapping", type=Path, default=None, metavar="FILE.toml",
                   help="tier mapping and unknown-label choices from a TOML file (see below)")
    p.add_argument("--guess", action="store_true", help="guess where tiers not mapped go (printed)")
    p.add_argument("--annotator", default=None,
                   help="with --guess: the annotator of tiers whose name and attributes name none")
    p.add_argument("--unknown", action="append", default=[], metavar="CHOICE",
                   help="labels outside a tier's scheme: refuse | add | map:LABEL=CLASS | LABEL=add|refuse")


def run(args: argparse.Namespace) -> int:
    from dyadlab.core.io.label_files.label_formats import import_label_file
    from dyadlab.core.io.label_files.tier_mapping import (
        guess_targets,
        load_mapping_file,
        merge_mappings,
        parse_map_options,
        project_names,
        read_file_tiers,
    )
    from dyadlab.core.io.label_files.unknown_labels import UnknownLabels, parse_unknown_options
    from dyadlab.core.project import open_project

    mapping, unknown = load_mapping_file(args.mapping) if args.mapping else ({}, UnknownLabels())
    mapping = merge_mappings(mapping, parse_map_options(args.map))
    unknown = unknown.merged(parse_unknown_options(args.unknown))
    with open_project(args.project) as project:
        if args.guess:
            doc = read_file_tiers(args.file, args.fmt)
            names = project_names(project, args.session or doc.session, args.annotator)
            for name, target in guess_targets(doc, names).items():
                if name in mapping or target is None or (target.key is not None and target.key.format() == name):
                    continue  # mapped by the user, not guessable, or its name says it all
                mapping[name] = target
                print(f"guessed: --map {f'{name}={target.format()}'!r}")
        report = import_label_file(project, args.file, fmt=args.fmt, session=args.session,
                                   on_existing=args.on_existing, default_scheme=args.scheme,
                                   create_session=not args.no_create_session, tier_mapping=mapping or None,
                                   unknown=unknown)
    print(report)
    return 0

