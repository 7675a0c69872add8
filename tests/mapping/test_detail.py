"""Levels of detail: the sliders' positions, each a map of its own, and the level the page opens at."""

from __future__ import annotations

import pytest

from backoffice.mapping.detail import (
    READABLE_SCALE,
    SCREEN_HEIGHT,
    SCREEN_WIDTH,
    activity_steps,
    detail_levels,
    keep_activities,
    readable_level,
)

from .map_fixtures import domestic_declarations, large_map, small_map


def test_the_activity_slider_starts_small_and_ends_at_every_activity():
    assert activity_steps(6) == (6,)
    assert activity_steps(24) == (6, 10, 15, 24)
    assert activity_steps(150) == (6, 10, 15, 25, 40, 70, 100, 150)
    assert activity_steps(400)[0] == 6 and activity_steps(400)[-1] == 400


@pytest.mark.parametrize("process_map", [small_map, large_map, domestic_declarations], ids=["small", "busy", "real"])
def test_the_last_level_is_the_whole_map(process_map):
    whole = process_map()
    full = detail_levels(whole).full_level
    assert [a.name for a in full.map.activities] == [a.name for a in whole.activities]
    assert full.map.edges == whole.edges


def test_levels_grow_along_both_sliders_and_draw_only_paths_between_shown_steps():
    levels = detail_levels(large_map())
    for row in levels.levels:
        counts = [level.paths for level in row]
        assert counts == sorted(counts)
        for level in row:
            names = {a.name for a in level.map.activities}
            assert all(e.source in names and e.target in names for e in level.map.edges)
            assert all(c.activity in names for c in level.map.summary.start_activities)
    shown = [{a.name for a in row[0].map.activities} for row in levels.levels]
    assert all(smaller <= larger for smaller, larger in zip(shown, shown[1:]))


def test_the_fewest_paths_still_connect_every_step_that_has_a_way_in_or_out():
    whole = large_map()
    for row in detail_levels(whole).levels:
        level = row[0]
        names = {a.name for a in level.map.activities}
        between = [e for e in whole.edges if e.source in names and e.target in names and e.source != e.target]
        for name in names:
            ways_in = [e for e in between if e.target == name]
            if ways_in:
                busiest = max(ways_in, key=lambda e: e.count)
                assert any(e.target == name and e.count == busiest.count for e in level.map.edges), name
            ways_out = [e for e in between if e.source == name]
            if ways_out:
                assert any(e.source == name for e in level.map.edges), name


def test_the_most_frequent_activities_are_kept_and_ties_go_to_where_cases_start():
    process_map = small_map()
    assert keep_activities(process_map, 2) == ["Check <docs> & \"receipts\"", "Submit"]
    tied = process_map.model_copy(update={"activities": [a.model_copy(update={"events": 5, "cases": 5})
                                                         for a in process_map.activities]})
    assert keep_activities(tied, 1) == ["Submit"]  # every case starts there


def test_the_page_opens_at_the_richest_level_that_fits_a_screen_at_a_legible_zoom():
    levels = detail_levels(large_map())
    limit = (SCREEN_WIDTH / READABLE_SCALE, SCREEN_HEIGHT / READABLE_SCALE)

    def sizes(fitting: set[tuple[int, int]]):
        return {(a, p): (limit[0] if (a, p) in fitting else limit[0] + 1, limit[1])
                for a, row in enumerate(levels.levels) for p in range(len(row))}

    assert readable_level(levels, sizes({(0, 0), (0, 3), (1, 1)})) == (1, 1)
    assert readable_level(levels, sizes(set())) == (0, 0)  # nothing fits: the smallest, seen from its start


def test_the_page_does_not_open_on_a_tangle_even_when_it_fits():
    levels = detail_levels(large_map())
    everything_fits = {(a, p): (100.0, 100.0) for a, row in enumerate(levels.levels) for p in range(len(row))}
    a, p = readable_level(levels, everything_fits)
    chosen = levels.level(a, p)
    assert a == len(levels.levels) - 1  # every activity, since all fit
    assert chosen.paths <= max(1.6 * chosen.activities, levels.level(a, 0).paths)
    assert chosen.paths < levels.full_level.paths
