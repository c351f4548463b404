"""The names tiers had in the ELAN or Praat file they were imported from, so an export gives them back.

A file with freely named tiers ("Emotion", "Valence Bob") is imported through a tier mapping
(``tier_mapping.py``) onto DyadLab tiers (participant, tier, annotator). Exporting such a tier under
``PARTICIPANT|TIER|ANNOTATOR`` would break the user's ELAN templates and scripts, so the import records
each tier's original name in the project's settings (one small JSON table, no schema change) and the ELAN
and Praat exporters use it. An entry also holds the key the tier had when it was imported: a tier
renamed or moved since then (or a tier id reused after a deletion) no longer matches, and is exported
under its key again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dyadlab.core.labels.naming import TierKey

if TYPE_CHECKING:
    from dyadlab.core.labels.snapshot import TierLabels
    from dyadlab.core.project import Project
    from dyadlab.core.store import UnitOfWork

SETTING = "label_import.source_tier_names"  # {tier id: [name in the file, key at import]}


def remember_source_names(tx: UnitOfWork, renamed: list[tuple[int, str, TierKey]]) -> None:
    """Record (tier id, name in the file, key) for tiers imported under another name (in ``tx``)."""
    if not renamed:
        return
    table = dict(tx.settings.get(SETTING, {}))
    for tier_id, name, key in renamed:
        table[str(tier_id)] = [name, key.format()]
    tx.settings.set(SETTING, table)


def read_source_names(project: Project) -> dict[int, tuple[str, str]]:
    """tier id -> (name in the file, key at import) for every tier imported under another name."""
    with project.store.transaction() as tx:
        table = tx.settings.get(SETTING, {})
    return {int(tier_id): (str(entry[0]), str(entry[1])) for tier_id, entry in table.items()
            if isinstance(entry, list) and len(entry) == 2}


def export_names(tiers: list[TierLabels], source_names: dict[int, tuple[str, str]]) -> dict[int, str]:
    """tier id -> the name to write for one session's tiers: the file's original name where the tier is
    unchanged since its import and no other tier of the session is written under that name."""
    taken = {t.key.format() for t in tiers}
    names = {}
    for t in tiers:
        name, key = source_names.get(t.tier.id, ("", ""))
        if name and key == t.key.format() and name not in taken:
            names[t.tier.id] = name
            taken.add(name)
    return names
