"""One spelling per person: the canonical id that separation of duties and quorums compare.

`'Bob '`, `'bob'` and `'ＢＯＢ'` are one person. Every id that enters the engine (an actor, a
directory entry, a requester, a voter) goes through `canonical_id` first, so no control ever
compares two spellings of the same person.
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
    return folded
