"""Activity normalization: one label per step, whatever the source system called it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.errors import ConfigFileError
from backoffice.events import arrow_numpy


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
    import yaml  # only when a file is given: most reads need no YAML parser

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(path, f"cannot read the synonyms file ({exc})",
                              expected="a UTF-8 YAML file") from exc
    from backoffice.limits import check_yaml
    check_yaml(text, str(path))
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
                         synonyms: dict[str, str] | None = None) -> pa.ChunkedArray:
    """Fold spaces and case of activity labels and apply synonyms.

    Labels that fold to the same key get one spelling: the canonical name from the synonyms
    file, else the most frequent original spelling (trimmed, spaces collapsed), so the map
    still reads like the source ("Approve invoice", not "approve invoice"). The work is done
    on the dictionary of distinct labels, never row by row; the result is dictionary-encoded
    with one entry per name.
    """
    if isinstance(labels, pa.Array):
        labels = pa.chunked_array([labels])
    if not pa.types.is_dictionary(labels.type):
        labels = pc.dictionary_encode(labels)
    if labels.num_chunks == 0:
        return labels
    encoded = labels.unify_dictionaries().combine_chunks() if labels.num_chunks > 1 else labels.chunk(0)
    dictionary = encoded.dictionary.to_pylist()
    codes = arrow_numpy.dictionary_codes(encoded)
    synonyms = synonyms or {}
    folded = [fold_label(label) for label in dictionary]
    # How often each spelling occurs decides only between labels that fold alike: counted
    # (one pass over every row) only when some do.
    if len(set(folded)) < len(folded):
        frequency = np.bincount(codes + 1, minlength=len(dictionary) + 1)[1:].tolist()  # -1, missing, counts at 0
    else:
        frequency = [0] * len(dictionary)
    best: dict[str, tuple[int, str]] = {}
    for index, label in enumerate(dictionary):
        key = folded[index]
        seen = frequency[index]
        if key not in synonyms and (key not in best or seen > best[key][0]):
            best[key] = (seen, re.sub(r"\s+", " ", label).strip())
    spelled = [synonyms.get(fold_label(label)) or best[fold_label(label)][1] for label in dictionary]
    names = list(dict.fromkeys(spelled))
    position = {name: number for number, name in enumerate(names)}
    if names == dictionary and encoded.type == pa.dictionary(pa.int32(), pa.string()):
        return pa.chunked_array([encoded])  # labels already clean: nothing to rename
    remap = np.array([position[name] for name in spelled] or [0], dtype=np.int32)
    renamed = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return pa.chunked_array([arrow_numpy.dictionary_array(renamed, arrow_numpy.strings(names))])
