"""Path labels: placed clear of boxes, badges and each other, busiest first, dropped when there is no room."""

from __future__ import annotations

import itertools

import pytest

from backoffice.mapping.labels import Rect, place_labels
from backoffice.mapping.layout import EdgeRoute, Point, RouteShape, layout_map
from backoffice.mapping.svg import edge_label_texts, place_edge_labels

from .map_fixtures import domestic_declarations, large_map, small_map


def boxes_of(layout) -> list[Rect]:
    return [Rect(n.x, n.y, n.width, n.height) for n in layout.nodes]


def assert_clear(layout, placed) -> None:
    boxes = boxes_of(layout)
    for labels in placed.values():
        rects = [label.box for label in labels.values()]
        for a, b in itertools.combinations(rects, 2):
            assert not a.overlaps(b), (a, b)
        for rect in rects:
            assert not any(rect.overlaps(box) for box in boxes), rect
            assert 0 <= rect.x and rect.right <= layout.width and 0 <= rect.y and rect.bottom <= layout.height


@pytest.mark.parametrize("process_map", [small_map, large_map, domestic_declarations], ids=["small", "busy", "real"])
def test_no_label_touches_another_label_or_a_box(process_map):
    layout = layout_map(process_map())
    placed = place_edge_labels(layout, boxes_of(layout))
    assert_clear(layout, placed)
    assert set(placed) == {"measure-frequency", "measure-time stat-total", "measure-time stat-mean",
                           "measure-time stat-median"}


def test_every_path_of_a_small_map_keeps_its_label():
    layout = layout_map(small_map())
    placed = place_edge_labels(layout, boxes_of(layout))
    assert len(placed["measure-frequency"]) == len(layout.edges)
    texts = edge_label_texts(layout)["measure-time stat-median"]
    assert len(placed["measure-time stat-median"]) == sum(t is not None for t in texts)


def test_the_busiest_paths_of_a_crowded_map_keep_their_labels():
    layout = layout_map(large_map())
    placed = place_edge_labels(layout, boxes_of(layout))["measure-frequency"]
    busiest = sorted(range(len(layout.edges)), key=lambda i: -layout.edges[i].count)[:10]
    assert all(i in placed for i in busiest)


def _straight(y: float, length: float = 100) -> EdgeRoute:
    return EdgeRoute(source="a", target="b", shape=RouteShape.FORWARD, points=(Point(0, y), Point(length, y)),
                     label_at=Point(50, y), count=1, edge=None)


def test_a_label_with_no_room_is_left_out_rather_than_drawn_over_a_box():
    route = _straight(50)
    placed = place_labels([route], ["1,234"], [1.0], [Rect(-10, 0, 130, 100)], bounds=Rect(-50, -50, 300, 300))
    assert placed == {}


def test_where_two_labels_compete_for_one_spot_the_busier_path_wins_it():
    routes = [_straight(50, 40), _straight(50, 40)]
    # Walls above and below leave room for one label, on the line.
    walls = [Rect(-10, 0, 60, 38), Rect(-10, 62, 60, 38)]
    placed = place_labels(routes, ["12", "9,999"], [1.0, 5.0], walls, bounds=Rect(0, 0, 40, 100))
    assert list(placed) == [1]


def test_labels_stay_clear_of_the_badges_they_are_given():
    layout = layout_map(small_map())
    badge_everywhere = [Rect(0, 0, layout.width, layout.height)]
    assert place_edge_labels(layout, badge_everywhere)["measure-frequency"] == {}


def test_no_label_sits_on_an_arrowhead():
    from lxml import etree

    from backoffice.mapping.svg import render_svg

    process_map = domestic_declarations()
    layout = layout_map(process_map)
    root = etree.fromstring(render_svg(process_map, layout).encode())
    ns = {"s": "http://www.w3.org/2000/svg"}
    labels = root.xpath("//s:text[contains(@class, 'edge-label')]", namespaces=ns)
    assert labels
    tips = [r.points[-1] for r in layout.edges]
    for label in labels:
        x, baseline = float(label.get("x")), float(label.get("y"))
        for tip in tips:  # the label's box, roughly: 11px text centred on x
            assert not (abs(tip.x - x) < 8 and baseline - 10 < tip.y < baseline + 2), (label.text, tip)
