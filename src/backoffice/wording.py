"""Counts in words: "1 case", "2 cases", "1 activity", "3 activities"."""

from __future__ import annotations

_IRREGULAR = {"person": "people", "child": "children", "analysis": "analyses"}


def plural(count: int | float, noun: str, many: str | None = None) -> str:
    """The count with its noun, singular for exactly one: plural(1, "case") == "1 case".

    Args:
        count: how many; whole numbers get thousands separators.
        noun: the singular; the plural adds "s" (or "es" after s, x, ch, sh) unless `many` is given.
    """
    number = f"{count:,}" if isinstance(count, int) or float(count).is_integer() else f"{count:,.1f}"
    return f"{number} {noun if count == 1 else (many or plural_of(noun))}"


def plural_of(noun: str) -> str:
    """The plural of an English noun as the project uses them."""
    words = noun.split(" ")
    last = words[-1]
    if last in _IRREGULAR:
        words[-1] = _IRREGULAR[last]
    elif len(last) > 1 and last.endswith("y") and last[-2] not in "aeiou":
        words[-1] = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        words[-1] = last + "es"
    else:
        words[-1] = last + "s"
    return " ".join(words)
