"""A categorical scheme of its own for an imported tier whose labels are not emotions.

ELAN and Praat users code more than emotion: a tier "Speaker B laughs" holds "laugh", "giggle", "smile".
Put on the emotion scheme, every one of those labels is unknown there, and "add to the scheme" would fill the
emotion scheme with laughs. A tier can therefore get a **new scheme for this tier**: a categorical scheme
named after the DyadLab tier it goes to, whose classes are the tier's labels in the order they first occur.

* ``NEW_SCHEME`` is that choice as a mapping target: ``--map "Speaker B laughs=B/laughs/alice@+new"``,
  ``scheme = "+new"`` in a mapping file, "new scheme for this tier" in the mapping dialog.
* ``wants_own_scheme`` is the automatic choice: a tier whose distinct labels are mostly (more than half) not
  classes of any categorical scheme of the project gets its own scheme; the mapping dialog's guess shows it.
* ``OwnSchemes`` plans such schemes while the import checks the file (a provisional scheme holding the
  labels, so the checks run as for any scheme) and writes them in the import's transaction through the scheme
  editor's own edit (``core.edits.schemes.ChangeScheme``), so its rules (names, classes) hold. When a scheme
  of that name already exists, the tier uses it (its missing labels are then unknown labels, decided as any).

The new classes have no keys: the palette offers them as buttons, and keys are given in the scheme editor
(whose clash check knows every binding of the window; an import, run from a terminal too, does not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dyadlab.core.errors import LabelSchemeError
from dyadlab.core.labels import map_label
from dyadlab.core.model import LabelScheme

if TYPE_CHECKING:
    from dyadlab.core.io.label_files.unknown_labels import UnknownLabels
    from dyadlab.core.store import UnitOfWork

NEW_SCHEME = "+new"  # a target's scheme: a new categorical scheme named after the tier


def _known(scheme: LabelScheme, label: str, unknown: UnknownLabels | None) -> bool:
    try:
        map_label(scheme.definition, label)
        return True
    except LabelSchemeError:
        pass
    choice = unknown.choice(label) if unknown is not None else ""
    return choice.startswith("map:") and choice[4:] in scheme.classes


def tier_labels(values: Iterable[str | None]) -> list[str]:
    """The distinct non-empty labels of a tier, in the order they first occur."""
    return list(dict.fromkeys(v.strip() for v in values if v is not None and v.strip()))


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def wants_own_scheme(tier: str, labels: Iterable[str | None], schemes: Iterable[LabelScheme],
                     unknown: UnknownLabels | None = None) -> bool:
    """Whether DyadLab tier ``tier`` with these labels should get a scheme of its own: it is no dimension of a
    scale, its labels are not all numbers (scores), and more than half of its distinct labels are classes (or
    mapped by the user's ``map:`` choices) of no single categorical scheme of the project."""
    distinct = tier_labels(labels)
    schemes = list(schemes)
    if not distinct or all(_number(v) for v in distinct) or any(
            d.get("name") == tier for s in schemes if s.kind == "dimensional" for d in s.definition.get("dimensions", [])):
        return False
    best = max((sum(_known(s, v, unknown) for v in distinct) for s in schemes if s.kind == "categorical"),
               default=0)
    return 2 * best < len(distinct)


@dataclass
class OwnSchemes:
    """The schemes of their own one import makes (planned during its checks, written with its segments)."""

    planned: dict[str, LabelScheme] = field(default_factory=dict)  # scheme name -> provisional scheme
    tiers: dict[str, list[str]] = field(default_factory=dict)  # scheme name -> the file tiers that use it

    def scheme_for(self, name: str, labels: Iterable[str | None], file_tier: str,
                   schemes: dict[str, LabelScheme]) -> LabelScheme:
        """The scheme named ``name`` for a tier with ``labels``: the project's (if it has one of that name) or a
        provisional new one (negative id) that takes the labels as classes (shared by tiers of the same name)."""
        existing = schemes.get(name)
        if existing is not None:
            if existing.kind != "categorical":
                raise LabelSchemeError(f"a new scheme for tier {file_tier!r} would be named {name!r}, which is a "
                                       f"{existing.kind} scheme of this project",
                                       hint="name the scheme to use, or map the tier to another tier name")
            return existing
        scheme = self.planned.get(name)
        classes = scheme.classes if scheme is not None else []
        classes += [v for v in tier_labels(labels) if v not in classes]
        from dyadlab.core.labels.scheme_editing import categorical

        definition = categorical(name, [(c, None) for c in classes]).definition
        self.planned[name] = LabelScheme(scheme.id if scheme else -1 - len(self.planned), name, "categorical",
                                         definition)
        self.tiers.setdefault(name, []).append(file_tier)
        return self.planned[name]

    def write(self, tx: UnitOfWork) -> tuple[list[str], dict[int, LabelScheme]]:
        """Create the planned schemes (in ``tx``); returns report lines and provisional id -> written scheme."""
        from dyadlab.core.edits.schemes import ChangeScheme
        from dyadlab.core.labels.scheme_editing import Revision

        lines, written = [], {}
        for name, scheme in self.planned.items():
            edit = ChangeScheme(None, Revision(name, "categorical", scheme.definition),
                                text=f"Import: new scheme {name}")
            edit.apply(tx)
            assert edit.written is not None
            written[scheme.id] = edit.written
            tiers = ", ".join(map(repr, dict.fromkeys(self.tiers[name])))
            lines.append(f"new scheme {name!r} for tier{'s' if ',' in tiers else ''} {tiers}: classes "
                         f"{', '.join(scheme.classes)} (no keys yet: click them in the palette, or give them keys "
                         f"in Edit ▸ Coding schemes and tiers)")
        return lines, written
