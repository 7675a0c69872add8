"""Recent reads: a value serves until it is `fresh_for` old by the clock passed in, then is read again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backoffice.ops.dashboard_cache import RecentReads

T = datetime(2024, 3, 20, 12, 0, tzinfo=timezone.utc)


def test_a_read_serves_until_it_is_stale_then_is_read_again():
    reads = []
    recent = RecentReads[int](fresh_for=timedelta(minutes=5))

    def read() -> int:
        reads.append(1)
        return len(reads)

    assert recent.get("a", T, read) == (1, T)
    assert recent.get("a", T + timedelta(minutes=4, seconds=59), read) == (1, T)
    assert recent.get("b", T, read) == (2, T)  # another scope reads its own
    assert recent.get("a", T + timedelta(minutes=5), read) == (3, T + timedelta(minutes=5))
    assert recent.get("a", T - timedelta(minutes=1), read) == (4, T - timedelta(minutes=1))  # a clock set back


def test_the_least_recently_used_entry_goes_first():
    recent = RecentReads[str](size=2)
    recent.get("a", T, lambda: "a1")
    recent.get("b", T, lambda: "b1")
    recent.get("a", T, lambda: "a2")  # a used again: b is now the oldest
    recent.get("c", T, lambda: "c1")
    assert recent.get("a", T, lambda: "a3") == ("a1", T)
    assert recent.get("b", T, lambda: "b2") == ("b2", T)
