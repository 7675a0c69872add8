"""Activity normalization: one label per step, whatever the source system called it."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from backoffice.errors import ConfigFileError


def fold_label(label: str) -> str:
    """Return the key two labels share when they name the same step: trimmed, one space, lower case."""
    return re.sub(r"\s+", " ", label).strip().casefold()


def load_synonyms(path: Path | str) -> dict[str, str]:
    """Read a synonyms file: a YAML mapping of canonical name to a list of labels.

    Returns:
        folded label -> canonical name (the canonical name maps to itself).

    Raises:
        ConfigFileError: unreadable file, bad YAML (with line and column), or a wrong shape.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(path, f"cannot read the synonyms file ({exc})",
                              expected="a UTF-8 YAML file") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigFileError(path, f"not valid YAML ({getattr(exc, 'problem', exc)})",
                              line=mark.line + 1 if mark else None,
                              column=mark.column + 1 if mark else None,
                              expected="a mapping of canonical name to a list of labels") from exc
    if not isinstance(document, dict):
        raise ConfigFileError(path, "the synonyms file is not a mapping",
                              expected="canonical name: [label, label, ...]")
    table: dict[str, str] = {}
    for canonical, labels in document.items():
        if isinstance(labels, str):
            labels = [labels]
        if not isinstance(canonical, str) or not isinstance(labels, list) \
                or not all(isinstance(label, str) for label in labels):
            raise ConfigFileError(path, f"entry {canonical!r} is not a name with a list of labels",
                                  expected="canonical name: [label, label, ...]")
        for label in [canonical, *labels]:
            key = fold_label(label)
            if table.get(key, canonical) != canonical:
                raise ConfigFileError(path, f"label {label!r} is listed under both {table[key]!r} "
                                            f"and {canonical!r}", expected="each label under one name")
            table[key] = canonical
    return table


def normalize_activities(labels: pa.Array | pa.ChunkedArray,
                         synonyms: dict[str, str] | None = None) -> pa.Array:
    """Fold spaces and case of activity labels and apply synonyms.

    Labels that fold to the same key get one spelling: the canonical name from the synonyms
    file, else the most frequent original spelling (trimmed, spaces collapsed), so the map
    still reads like the source ("Approve invoice", not "approve invoice").
    """
    encoded = pc.dictionary_encode(labels).combine_chunks() if isinstance(labels, pa.ChunkedArray) \
        else pc.dictionary_encode(labels)
    dictionary = encoded.dictionary.to_pylist()
    counts = pc.value_counts(encoded.indices).to_pylist()
    frequency = {item["values"]: item["counts"] for item in counts}
    synonyms = synonyms or {}
    best: dict[str, tuple[int, str]] = {}
    for index, label in enumerate(dictionary):
        tidy = re.sub(r"\s+", " ", label).strip()
        key = fold_label(label)
        if key in synonyms:
            continue
        seen = frequency.get(index, 0)
        if key not in best or seen > best[key][0]:
            best[key] = (seen, tidy)
    spelled = [synonyms.get(fold_label(label)) or best[fold_label(label)][1] for label in dictionary]
    return pc.take(pa.array(spelled, pa.string()), encoded.indices)
