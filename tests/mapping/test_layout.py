"""The swimlane layout: layers left to right, lanes as bands, routes through bend points."""

from __future__ import annotations

import itertools

from backoffice.mapping.layout import NodeKind, RouteShape, layout_map

from .map_fixtures import APPROVE, ASK, CHECK, PAY, REJECT, SUBMIT, large_map, small_map


def test_every_activity_gets_exactly_one_box_plus_a_start_and_an_end():
    layout = layout_map(small_map())
    activities = [node.activity for node in layout.nodes if node.kind is NodeKind.ACTIVITY]
    assert sorted(activities) == sorted(a.name for a in small_map().activities)
    assert [node.kind for node in layout.nodes].count(NodeKind.START) == 1
    assert [node.kind for node in layout.nodes].count(NodeKind.END) == 1
    assert len({node.id for node in layout.nodes}) == len(layout.nodes)


def test_start_comes_first_and_end_last_with_the_flow_left_to_right():
    layout = layout_map(small_map())
    start = layout.node_by_id("start")
    end = layout.node_by_id("end")
    activities = [n for n in layout.nodes if n.kind is NodeKind.ACTIVITY]
    assert start.layer == 0
    assert all(start.layer < n.layer < end.layer for n in activities)
    assert layout.node_for(SUBMIT).x < layout.node_for(CHECK).x < layout.node_for(APPROVE).x < layout.node_for(PAY).x


def test_each_box_sits_inside_the_band_of_its_lane():
    layout = layout_map(small_map(unassigned=True))
    bands = {band.key: band for band in layout.lanes}
    for node in layout.nodes:
        band = bands[node.lane]
        assert band.y <= node.y and node.y + node.height <= band.y + band.height, node


def test_activities_without_a_lane_go_to_an_unassigned_band_at_the_bottom():
    layout = layout_map(small_map(unassigned=True))
    assert [band.label for band in layout.lanes] == ["Clerk", "Manager", "unassigned"]
    assert layout.lanes[-1].key is None
    assert layout.node_for(REJECT).lane is None


def test_bands_stack_without_gaps_or_overlaps():
    layout = layout_map(small_map(unassigned=True))
    for upper, lower in itertools.pairwise(layout.lanes):
        assert upper.y + upper.height == lower.y


def test_start_and_end_edges_carry_the_case_counts_of_the_summary():
    layout = layout_map(small_map())
    from_start = {layout.node_by_id(r.target).activity: r.count for r in layout.edges if r.source == "start"}
    to_end = {layout.node_by_id(r.source).activity: r.count for r in layout.edges if r.target == "end"}
    assert from_start == {SUBMIT: 10}
    assert to_end == {PAY: 7, REJECT: 3}


def test_a_self_loop_is_a_small_loop_above_its_box():
    layout = layout_map(small_map())
    ask = layout.node_for(ASK)
    loops = [r for r in layout.edges if r.shape is RouteShape.SELF_LOOP]
    assert len(loops) == 1 and loops[0].source == loops[0].target == ask.id
    assert all(p.y <= ask.y for p in loops[0].points)
    assert all(ask.x <= p.x <= ask.x + ask.width for p in loops[0].points)


def test_the_rework_loop_runs_back_against_the_flow():
    layout = layout_map(small_map())
    ask, check = layout.node_for(ASK), layout.node_for(CHECK)
    back = next(r for r in layout.edges if (r.source, r.target) == (ask.id, check.id))
    forward = next(r for r in layout.edges if (r.source, r.target) == (check.id, ask.id))
    assert back.shape is RouteShape.BACKWARD and forward.shape is RouteShape.FORWARD
    assert back.points[0].x == ask.x  # leaves from the left side
    assert back.points[-1].x == check.x + check.width  # arrives on the right side


def test_a_path_that_skips_layers_bends_through_the_layers_between():
    layout = layout_map(small_map())
    submit, pay = layout.node_for(SUBMIT), layout.node_for(PAY)
    skip = next(r for r in layout.edges if (r.source, r.target) == (submit.id, pay.id))
    assert len(skip.points) == 2 + (pay.layer - submit.layer - 1)
    xs = [p.x for p in skip.points]
    assert xs == sorted(xs)


def test_every_route_starts_on_its_source_and_ends_on_its_target():
    layout = layout_map(small_map())
    for route in layout.edges:
        source, target = layout.node_by_id(route.source), layout.node_by_id(route.target)
        first, last = route.points[0], route.points[-1]
        assert source.x <= first.x <= source.x + source.width and source.y <= first.y <= source.y + source.height
        assert target.x <= last.x <= target.x + target.width and target.y <= last.y <= target.y + target.height


def test_max_edges_keeps_the_most_frequent_paths_and_counts_the_rest():
    layout = layout_map(small_map(), max_edges=3)
    kept = sorted((r.count for r in layout.edges if r.edge is not None), reverse=True)
    assert kept == [10, 9, 7]
    assert layout.omitted_edges == len(small_map().edges) - 3


def test_boxes_never_overlap_even_on_a_busy_map():
    layout = layout_map(large_map())
    boxes = [n for n in layout.nodes]
    assert len([n for n in boxes if n.kind is NodeKind.ACTIVITY]) == 60
    for a, b in itertools.combinations(boxes, 2):
        apart = (a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y)
        assert apart, (a, b)
    assert all(0 <= n.x and n.x + n.width <= layout.width and n.y + n.height <= layout.height for n in boxes)


def test_a_map_without_paths_still_lays_out_its_activities():
    bare = small_map().model_copy(update={"edges": []})
    layout = layout_map(bare)
    assert len([n for n in layout.nodes if n.kind is NodeKind.ACTIVITY]) == len(bare.activities)
    assert all(r.edge is None for r in layout.edges)


def test_laying_out_maps_again_and_again_gives_the_same_picture():
    # igraph 1.0.0 drifted into garbage (NaN coordinates, layers out of range) and crashed
    # after some hundred layouts in one process; a page must come out the same every time.
    busy, bare = small_map(), small_map().model_copy(update={"edges": []})
    first = (layout_map(busy), layout_map(bare))
    for _ in range(600):
        assert (layout_map(busy), layout_map(bare)) == first


def test_a_step_nothing_leads_to_sits_just_before_what_it_leads_to_never_level_with_the_start():
    # At a low level of detail Approve's ways in are hidden: it leads to Pay, and nothing
    # leads to it. It must sit after the start, and must not push Submit, where cases
    # start, a layer further than the start's arrow needs.
    from backoffice.mapping.model import ActivityCount

    base = small_map()
    keep = {SUBMIT, CHECK, APPROVE, PAY}
    summary = base.summary.model_copy(update={
        "start_activities": [ActivityCount(activity=SUBMIT, cases=10)],
        "end_activities": [ActivityCount(activity=CHECK, cases=3), ActivityCount(activity=PAY, cases=7)]})
    process_map = base.model_copy(update={
        "activities": [a for a in base.activities if a.name in keep], "summary": summary,
        "edges": [e for e in base.edges if (e.source, e.target) in {(SUBMIT, CHECK), (APPROVE, PAY)}]})
    layout = layout_map(process_map)
    start, submit = layout.node_by_id("start"), layout.node_for(SUBMIT)
    approve, pay = layout.node_for(APPROVE), layout.node_for(PAY)
    assert submit.layer == start.layer + 1
    assert start.layer < approve.layer == pay.layer - 1
