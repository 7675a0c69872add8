"""Durations as people write them, and as the reports print them."""

from __future__ import annotations

import pytest

from backoffice.errors import BadOption
from backoffice.mapping.durations import humanize, parse_duration

HOUR, DAY = 3600, 86400


@pytest.mark.parametrize(("text", "seconds"), [
    ("5d", 5 * DAY), ("36h", 36 * HOUR), ("1d12h", 36 * HOUR), ("90m", 5400), ("2w", 14 * DAY),
    (" 1.5 d ", 1.5 * DAY), ("45s", 45),
])
def test_sla_targets_read_as_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "d5", "0d", "five days", "5d-2h"])
def test_unreadable_durations_are_refused_with_the_option_named(text):
    with pytest.raises(BadOption, match="--sla"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (45, "45 s"), (12 * 60, "12 min"), (4 * HOUR, "4 h"), (90 * 60, "1.5 h"),
    (3.2 * DAY, "3.2 d"), (30 * DAY, "30 d"), (400 * DAY, "1.1 y"), (None, "–"), (-2 * DAY, "-2 d"),
])
def test_durations_read_as_short_human_units(seconds, text):
    assert humanize(seconds) == text
