"""Estimate how wide a line of text will be drawn, without a font at hand.

The widths are DejaVu Sans Bold's advance widths (in ems) for printable ASCII: the font
Debian's browsers fall back to for `system-ui`, and wider than Segoe UI, Roboto, Helvetica
or Arial. Measuring every label as if it were bold DejaVu errs on the wide side, so a
label placed with room for this width has room in any of the fonts the map asks for.
"""

from __future__ import annotations

import unicodedata

_ASCII_BOLD = (
    0.348, 0.456, 0.521, 0.838, 0.696, 1.002, 0.872, 0.306, 0.457, 0.457, 0.523, 0.838, 0.38, 0.415,
    0.38, 0.365, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.4, 0.4, 0.838,
    0.838, 0.838, 0.58, 1.0, 0.774, 0.762, 0.734, 0.83, 0.683, 0.683, 0.821, 0.837, 0.372, 0.372, 0.775,
    0.637, 0.995, 0.837, 0.85, 0.733, 0.85, 0.77, 0.72, 0.682, 0.812, 0.774, 1.103, 0.771, 0.724, 0.725,
    0.457, 0.365, 0.457, 0.838, 0.5, 0.5, 0.675, 0.716, 0.593, 0.716, 0.678, 0.435, 0.716, 0.712, 0.343,
    0.343, 0.665, 0.343, 1.042, 0.712, 0.687, 0.716, 0.716, 0.493, 0.595, 0.478, 0.712, 0.652, 0.924,
    0.645, 0.652, 0.582, 0.712, 0.365, 0.712, 0.838,
)
LINE_HEIGHT = 1.17  # DejaVu's ascent plus descent, in ems: the height a browser gives a line's box
ASCENT = 0.93  # from the top of that box to the baseline, in ems


def char_width(char: str) -> float:
    """Return the advance width of one character in ems, erring wide for what the table lacks."""
    code = ord(char)
    if 32 <= code < 127:
        return _ASCII_BOLD[code - 32]
    if unicodedata.combining(char):
        return 0.0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    base = unicodedata.normalize("NFKD", char)[:1]  # é is as wide as e
    if base and 32 <= ord(base) < 127:
        return _ASCII_BOLD[ord(base) - 32] * 1.02
    return 1.0  # arrows, ellipses, other scripts: a full em is the safe side


def text_width(text: str, size: float) -> float:
    """Return the width in pixels of `text` drawn at `size` pixels."""
    return sum(char_width(c) for c in text) * size


def fit_lines(text: str, width: float, size: float, *, lines: int = 2) -> list[str]:
    """Split text into at most `lines` lines no wider than `width`, ending in … where it was cut.

    Words longer than a line are cut too; the caller keeps the full text for a tooltip.
    """
    words, result, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if not current or text_width(candidate, size) <= width:
            current = candidate
        else:
            result.append(current)
            current = word
    result.append(current)
    cut = len(result) > lines
    result = result[:lines]
    if cut or any(text_width(line, size) > width for line in result):
        # Refill so a long word does not leave the lines before it half empty.
        result = _hard_wrap(" ".join(words), width, size, lines)
    return result


def _hard_wrap(text: str, width: float, size: float, lines: int) -> list[str]:
    result: list[str] = []
    rest = text
    while rest and len(result) < lines:
        last = len(result) == lines - 1
        room = width - (text_width("…", size) if last else 0.0)
        take = _longest_prefix(rest, room, size)
        if not last or take == len(rest):
            head = rest[:take]
            space = head.rfind(" ")
            # Break at a space when one is near enough the end; else mid-word.
            if take < len(rest) and space > take // 2 and rest[take] != " ":
                take = space
            result.append(rest[:take].rstrip())
            rest = rest[take:].lstrip()
        else:
            result.append(rest[:take].rstrip() + "…")
            rest = ""
    return result


def _longest_prefix(text: str, width: float, size: float) -> int:
    total = 0.0
    for i, char in enumerate(text):
        total += char_width(char) * size
        if total > width:
            return max(i, 1)
    return len(text)
