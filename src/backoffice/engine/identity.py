"""One spelling per person: the canonical id that separation of duties and quorums compare.

`'Bob '`, `'bob'` and `'ＢＯＢ'` are one person. Every id that enters the engine (an actor, a
directory entry, a requester, a voter) goes through `canonical_id` first, so no control ever
compares two spellings of the same person.

Spellings are not the only disguise: `bea` with a Cyrillic `а`, or with a zero-width space,
reads as `bea` and is another id. Invisible characters are refused in every id, and a new
principal's id may neither mix Latin with a look-alike script nor read like one already in the
directory (`check_unmistakable`), so a second account that passes for someone cannot be made to
split one person into two voters.
"""

from __future__ import annotations

import unicodedata


def canonical_id(text: str) -> str:
    """Return the canonical form of a person's or service account's id: NFKC, trimmed, case-folded.

    Raises:
        ValueError: the id is blank once trimmed, or holds control characters (NUL, newlines).
    """
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    if not folded:
        raise ValueError("an id cannot be blank; expected a person's or service account's id such as alice")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in folded):
        raise ValueError(f"{text!r} holds a control character or a lone surrogate; expected a plain id such as alice")
    if any(unicodedata.category(ch) == "Cf" for ch in folded):
        # Zero-width spaces and joiners, soft hyphens, direction marks: an id that shows as another.
        raise ValueError(f"{text!r} holds an invisible character; expected a plain id such as alice")
    return folded


# Letters of other scripts that read as Latin ones (after NFKC and case folding), after the
# confusables of Unicode TS #39: enough to tell `bea` from a `bеa` made to pass for her.
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "ь": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "х": "x",
    "ԝ": "w", "ѵ": "v", "ɡ": "g", "ı": "i", "ɑ": "a", "ο": "o", "α": "a", "ρ": "p", "ν": "v", "υ": "u", "ι": "i",
    "κ": "k", "τ": "t", "χ": "x", "γ": "y", "ϲ": "c", "ϳ": "j", "ε": "e", "η": "n", "ω": "w", "օ": "o", "ս": "u",
    "ո": "n", "հ": "h", "ց": "g", "ք": "p", "ɩ": "i", "ʋ": "u",
})
# Scripts whose letters pass for each other: one id may use one of them, not two.
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


def lookalike(person_id: str) -> str:
    """Return the form two canonical ids share when a reader could take one for the other."""
    return person_id.translate(_LOOKALIKES)


def check_unmistakable(new_id: str, known: dict[str, str]) -> None:
    """Refuse a new canonical id that mixes look-alike scripts or reads like a known one.

    `known` maps `lookalike(id)` to the id, for every person and service account there.

    Raises:
        ValueError: the id, with what it could be taken for.
    """
    scripts = {unicodedata.name(ch, "").split(" ")[0] for ch in new_id if ch.isalpha()} & _CONFUSABLE_SCRIPTS
    if len(scripts) > 1:
        raise ValueError(f"{new_id!r} mixes the {' and '.join(sorted(scripts)).lower()} scripts, whose letters "
                         f"look alike; expected an id in one script")
    twin = known.get(lookalike(new_id))
    if twin is not None and twin != new_id:
        raise ValueError(f"{new_id!r} reads like {twin!r}, who is in the directory already; expected an id that "
                         f"cannot be taken for another's")
