"""Loading, validating and installing label schemes (see the package docstring)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from dyadlab.core.errors import LabelSchemeError

THESIS_4CLASS = "emotion-4class"
KINDS = {"categorical", "dimensional", "keypoints"}


def validate_scheme(data: dict[str, Any], source: str | Path = "<scheme>") -> tuple[str, str, dict[str, Any]]:
    """Check a parsed scheme; returns (name, kind, definition) or raises LabelSchemeError naming the file."""
    name = data.get("name")
    kind = data.get("kind")
    if not isinstance(name, str) or not name.strip():
        raise LabelSchemeError("scheme needs a non-empty string 'name'", path=source)
    if kind not in KINDS:
        raise LabelSchemeError(f"scheme 'kind' must be one of {sorted(KINDS)}, got {kind!r}", path=source)
    definition = {k: v for k, v in data.items() if k not in {"name", "kind"}}
    if kind == "categorical":
        classes = definition.get("classes")
        if not isinstance(classes, list) or not classes:
            raise LabelSchemeError("a categorical scheme needs a non-empty [[classes]] list", path=source)
        seen: set[str] = set()
        for i, c in enumerate(classes):
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"]:
                raise LabelSchemeError(f"class #{i + 1} needs a string 'name'", path=source)
            if c["name"] in seen:
                raise LabelSchemeError(f"class {c['name']!r} is defined twice", path=source)
            seen.add(c["name"])
        mapping = definition.get("map", {})
        if not isinstance(mapping, dict):
            raise LabelSchemeError("'map' must be a table of source label -> class (or \"\" to drop)", path=source)
        for src, dst in mapping.items():
            if dst != "" and dst not in seen:
                raise LabelSchemeError(f"map {src!r} -> {dst!r}: {dst!r} is not a class of this scheme", path=source)
    elif kind == "dimensional":
        dims = definition.get("dimensions")
        if not isinstance(dims, list) or not dims:
            raise LabelSchemeError("a dimensional scheme needs a non-empty [[dimensions]] list", path=source)
        for i, d in enumerate(dims):
            if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                raise LabelSchemeError(f"dimension #{i + 1} needs a string 'name'", path=source)
            lo, hi = d.get("min"), d.get("max")
            if not isinstance(lo, int | float) or not isinstance(hi, int | float) or lo >= hi:
                raise LabelSchemeError(f"dimension {d['name']!r} needs numeric min < max", path=source)
    else:
        points = definition.get("keypoints")
        if not isinstance(points, list) or not points or not all(isinstance(p, str) for p in points):
            raise LabelSchemeError("a keypoints scheme needs a non-empty list of keypoint names", path=source)
        for edge in definition.get("edges", []):
            if (not isinstance(edge, list) or len(edge) != 2
                    or not all(isinstance(i, int) and 0 <= i < len(points) for i in edge)):
                raise LabelSchemeError(f"edge {edge!r} must be two keypoint indices below {len(points)}",
                                       path=source)
    return name.strip(), kind, definition


def load_scheme_file(path: str | Path) -> tuple[str, str, dict[str, Any]]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LabelSchemeError("label scheme file not found", path=path) from exc
    except UnicodeDecodeError as exc:
        raise LabelSchemeError(f"not UTF-8 text (byte {exc.start})", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise LabelSchemeError(f"invalid TOML: {exc}", path=path) from exc
    return validate_scheme(data, path)


def shipped_scheme_files() -> list[Path]:
    folder = resources.files("dyadlab.resources") / "schemes"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


SCHEMES_LOCK_KEY = 0x6479_6164_6C61_6201  # pg_advisory_xact_lock key; core.store.database uses ...00


def install_default_schemes(tx) -> None:
    """Add every shipped scheme the project does not have yet (by name).

    Several clients may open a new project at once (a team on a server, two processes on a shared
    folder): when something is missing, the adding waits for the write lock (``tx.lock_for_writing``) and
    looks again, so each scheme is added exactly once instead of the second client failing on the unique
    name. Opening a project that has them all takes one query and parses no file (a shipped file is
    named after its scheme).
    """
    present = tx.schemes.names()
    missing = [load_scheme_file(file) for file in shipped_scheme_files() if file.stem not in present]
    if missing:
        tx.lock_for_writing(SCHEMES_LOCK_KEY)
        present = tx.schemes.names()
        missing = [s for s in missing if s[0] not in present]
    for name, kind, definition in missing:
        tx.schemes.add(name, kind, definition)


def map_label(definition: dict[str, Any], raw: str) -> str | None:
    """Map a corpus label through a scheme: a class name, or None when the scheme drops it.

    Raises LabelSchemeError for a label the scheme neither knows nor maps.
    """
    classes = {c["name"] for c in definition.get("classes", [])}
    mapping = definition.get("map", {})
    if raw in mapping:
        return mapping[raw] or None
    if raw in classes:
        return raw
    raise LabelSchemeError(f"unknown label {raw!r}; known: {sorted(classes | set(mapping))}")
