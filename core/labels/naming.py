"""How a DyadLab tier is named in files that know only flat tier names (ELAN, Praat, CSV).

A DyadLab tier is identified within a session by (participant, tier name, annotator). ELAN and Praat have
one flat name per tier, so every exporter writes, and every importer parses, the same form::

    PARTICIPANT|TIER|ANNOTATOR            e.g.  A|emotion|gold   B|valence|rater2   *|topic|alice
    PARTICIPANT|TIER|ANNOTATOR|EXTRA      a companion tier: EXTRA is "confidence" or "score"

* ``PARTICIPANT`` is the participant's ``code`` within the session, or ``*`` for a session-level tier
  (a tier with no participant).
* A ``|`` or ``%`` inside a component is written percent-encoded (``%7C``, ``%25``), and a participant
  coded ``*`` as ``%2A``, so any name survives the round trip.
* A companion tier carries one number per segment of its main tier (same start and end): ELAN writes it as
  a symbolic-association child tier, Praat as a parallel interval tier.

Keeping the rule in one module means an EAF written by one exporter is read back by every importer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATOR = "|"
SESSION_LEVEL = "*"
EXTRAS = ("confidence", "score")

_ESCAPES = {"%": "%25", SEPARATOR: "%7C"}
_UNESCAPE = re.compile(r"%(25|7C|7c|2A|2a)")
_UNESCAPED = {"25": "%", "7C": SEPARATOR, "2A": "*"}
_UNSAFE_FILE_CHARS = re.compile(r"[^\w.\-+]+")


def _escape(part: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in part)


def _unescape(part: str) -> str:
    return _UNESCAPE.sub(lambda m: _UNESCAPED[m.group(1).upper()], part)


@dataclass(frozen=True)
class TierKey:
    """(participant code or None, tier name, annotator name, extra) — a tier's identity across formats."""

    participant: str | None
    tier: str
    annotator: str
    extra: str = ""  # "" for a main tier, else one of EXTRAS

    def main(self) -> TierKey:
        """The key of the main tier this (companion) key belongs to."""
        return TierKey(self.participant, self.tier, self.annotator)

    def with_extra(self, extra: str) -> TierKey:
        return TierKey(self.participant, self.tier, self.annotator, extra)

    def format(self) -> str:
        code = self.participant
        # A participant literally coded "*" must not read back as a session-level tier.
        parts = [SESSION_LEVEL if code is None else "%2A" if code == SESSION_LEVEL else _escape(code),
                 _escape(self.tier), _escape(self.annotator)]
        if self.extra:
            parts.append(self.extra)
        return SEPARATOR.join(parts)

    def __str__(self) -> str:
        return self.format()


def parse_tier_name(name: str) -> TierKey | None:
    """The key a flat tier name stands for, or None when the name does not follow the naming rule."""
    parts = name.split(SEPARATOR)
    if len(parts) not in (3, 4):
        return None
    if len(parts) == 4 and parts[3] not in EXTRAS:
        return None
    if parts[0].strip() == SESSION_LEVEL:
        participant: str | None = None
    else:
        participant = _unescape(parts[0]).strip()
    tier, annotator = (_unescape(p).strip() for p in parts[1:3])
    if participant == "" or not tier or not annotator:
        return None
    return TierKey(participant, tier, annotator,
                   parts[3] if len(parts) == 4 else "")


def safe_filename(name: str) -> str:
    """A file-name-safe rendering of a session, tier or annotator name (readable, never empty)."""
    cleaned = _UNSAFE_FILE_CHARS.sub("_", name).strip("._")
    return cleaned or "unnamed"
