"""What an import does with a label its tier's categorical scheme does not know: map it, add it, or refuse it.

ELAN and Praat files written by other people use their own vocabularies ("frustrated", "Joy", "laugh").
Before this policy such a label stopped the import; dropping it quietly would lose the annotation. The
user now decides per label:

* ``map:CLASS`` — store it as an existing class of the tier's scheme;
* ``add`` — add it to the scheme as a new class (written in the import's transaction, so a refused import
  adds nothing);
* ``refuse`` — stop the import with an error naming the file, tier and label (the default).

Every mapped or added label is listed in the import report: nothing is changed silently. The same object
runs a dry run (``collect=True``): it records every unknown label per scheme instead of failing, which is
what the GUI's mapping step shows before the user decides.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dyadlab.core.errors import DyadLabError, LabelSchemeError
from dyadlab.core.labels import map_label

if TYPE_CHECKING:
    from dyadlab.core.model import LabelScheme
    from dyadlab.core.store import UnitOfWork

REFUSE, ADD = "refuse", "add"
MAP_PREFIX = "map:"


def parse_choice(text: str) -> str:
    """A choice as the user typed it (``refuse``, ``add``, ``map:CLASS``), checked and normalised."""
    choice = text.strip()
    if choice in (REFUSE, ADD):
        return choice
    if choice.startswith(MAP_PREFIX) and choice[len(MAP_PREFIX):].strip():
        return MAP_PREFIX + choice[len(MAP_PREFIX):].strip()
    raise DyadLabError(f"unknown-label choice {text!r} is not refuse, add or map:CLASS")


def parse_unknown_options(options: list[str]) -> UnknownLabels:
    """The policy of ``--unknown`` options: ``refuse`` / ``add`` (all labels not named otherwise),
    ``LABEL=refuse|add|CLASS`` or ``map:LABEL=CLASS`` (one label)."""
    policy = UnknownLabels()
    for option in options:
        text = option.strip()
        if text in (REFUSE, ADD):
            policy.default = text
            continue
        body = text[len(MAP_PREFIX):] if text.startswith(MAP_PREFIX) else text
        label, sep, target = body.rpartition("=")  # a label may hold "=", a class name or choice not
        if not sep or not label.strip() or not target.strip():
            raise DyadLabError(f"--unknown {option!r}: expected refuse, add, map:LABEL=CLASS, LABEL=add or "
                               f"LABEL=refuse")
        target = target.strip()
        choice = target if target in (REFUSE, ADD) and not text.startswith(MAP_PREFIX) else MAP_PREFIX + target
        if policy.choices.get(label.strip(), choice) != choice:
            raise DyadLabError(f"--unknown: label {label.strip()!r} is given two different choices")
        policy.choices[label.strip()] = choice
    return policy


@dataclass
class UnknownLabels:
    """The user's choices for labels outside a tier's scheme, and what an import did with them."""

    choices: dict[str, str] = field(default_factory=dict)  # label -> "refuse" | "add" | "map:CLASS"
    default: str = REFUSE  # for labels not in ``choices``
    collect: bool = False  # dry run: record unknown labels instead of refusing them
    found: dict[str, Counter[str]] = field(default_factory=dict)  # scheme name -> label -> segments
    added: dict[str, list[str]] = field(default_factory=dict)  # scheme name -> classes to add
    applied: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (tier, label, outcome) -> count

    def merged(self, other: UnknownLabels) -> UnknownLabels:
        """These choices plus ``other``'s (a mapping file's and ``--unknown`` options); a label given two
        different choices is refused."""
        for label, choice in other.choices.items():
            if self.choices.get(label, choice) != choice:
                raise DyadLabError(f"label {label!r} is given two different choices ({self.choices[label]}, "
                                   f"{choice})")
        default = other.default if other.default != REFUSE else self.default
        return UnknownLabels({**self.choices, **other.choices}, default)

    def choice(self, label: str) -> str:
        return self.choices.get(label, self.default)

    def accepts(self, definition: dict, label: str) -> bool:
        """Whether a scheme can take ``label`` under this policy (used to pick a scheme for a tier)."""
        try:
            map_label(definition, label)
            return True
        except LabelSchemeError:
            pass
        choice = self.choice(label)
        if choice == ADD or self.collect:
            return True
        if choice.startswith(MAP_PREFIX):
            return choice[len(MAP_PREFIX):] in {c["name"] for c in definition.get("classes", [])}
        return False

    def resolve(self, scheme: LabelScheme, tier: str, label: str) -> str:
        """The class to store for ``label``, which ``scheme`` does not know; raises LabelSchemeError with
        the reason when the policy refuses it (the caller adds the file and place)."""
        self.found.setdefault(scheme.name, Counter())[label] += 1
        if self.collect:
            return label
        choice = self.choice(label)
        classes = [c["name"] for c in scheme.definition.get("classes", [])]
        if choice.startswith(MAP_PREFIX):
            target = choice[len(MAP_PREFIX):]
            if target not in classes:
                raise LabelSchemeError(f"{label!r} is to be mapped to {target!r}, which is not a class of scheme "
                                       f"{scheme.name!r} either", hint=f"classes: {', '.join(classes)}")
            self.applied[(tier, label, f"mapped to {target!r}")] += 1
            return target
        if choice == ADD:
            if label not in self.added.setdefault(scheme.name, []):
                self.added[scheme.name].append(label)
            self.applied[(tier, label, f"added to scheme {scheme.name!r}")] += 1
            return label
        raise LabelSchemeError(f"{label!r} is not a class of scheme {scheme.name!r}",
                               hint=f"classes: {', '.join(classes)}; map it to one, add it to the scheme, or "
                                    f"correct the file (dyadlab import-labels --unknown)")

    def notes(self) -> list[str]:
        """One line per (tier, label, outcome) for the import report."""
        return [f"{tier}: {label!r} {outcome} ({n} segment{'s' if n != 1 else ''})"
                for (tier, label, outcome), n in sorted(self.applied.items())]

    def write_added_classes(self, tx: UnitOfWork, schemes: dict[str, LabelScheme]) -> tuple[list[str],
                                                                                         dict[int, LabelScheme]]:
        """Add the classes this import's ``add`` choices need (inside the import's transaction) through the
        scheme editor's own edit (``core.edits.schemes.ChangeScheme``), so its rules hold: a shipped scheme is
        never changed — the project gets a copy, and the project's tiers move onto it. Returns report lines
        and, per scheme id replaced by a copy, the copy (the import's new tiers use it)."""
        from dyadlab.core.edits.schemes import ChangeScheme
        from dyadlab.core.labels.scheme_editing import add_class, start

        lines, replaced = [], {}
        for name, labels in self.added.items():
            scheme = schemes[name]
            revision = start(scheme)
            for label in labels:
                revision = add_class(revision, label)
            edit = ChangeScheme(scheme.id, revision, text=f"Import: new classes in {name}")
            edit.apply(tx)
            written = edit.written
            plural = "es" if len(labels) != 1 else ""
            if written is not None and written.id != scheme.id:
                replaced[scheme.id] = written
                lines.append(f"scheme {name!r} is a shipped template: new class{plural} {', '.join(labels)} went "
                             f"into its project copy {written.name!r}, which the project's tiers of {name!r} now use")
            else:
                lines.append(f"scheme {name!r}: new class{plural} {', '.join(labels)}")
        return lines, replaced
