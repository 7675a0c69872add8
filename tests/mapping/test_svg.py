"""The swimlane SVG: one box per step, weighted arrows for both measures, escaped text."""

from __future__ import annotations

import pytest
from lxml import etree

from backoffice.errors import BadOption
from backoffice.mapping.layout import layout_map
from backoffice.mapping.svg import render_svg

from .map_fixtures import (
    APPROVE,
    ASK,
    CHECK,
    PAY,
    REJECT,
    SUBMIT,
    DAY,
    domestic_declarations,
    edge,
    large_map,
    small_map,
)

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode("utf-8"))


def edge_group(root: etree._Element, layout, source: str, target: str) -> etree._Element:
    source_id, target_id = layout.node_for(source).id, layout.node_for(target).id
    (group,) = root.xpath(f"//svg:g[@data-source='{source_id}'][@data-target='{target_id}']", namespaces=NS)
    return group


def stroke(group: etree._Element, measure: str) -> float:
    """The stroke width of a route under one measure: "frequency", or "time stat-<total|mean|median>"."""
    (path,) = group.xpath(f"svg:path[@class='measure-{measure}']", namespaces=NS)
    return float(path.get("stroke-width"))


def test_every_activity_is_drawn_as_exactly_one_box():
    process_map = small_map()
    layout = layout_map(process_map)
    root = parse(render_svg(process_map, layout))
    for activity in process_map.activities:
        node_id = layout.node_for(activity.name).id
        assert len(root.xpath(f"//svg:g[@data-id='{node_id}']", namespaces=NS)) == 1
    boxes = root.xpath("//svg:g[contains(@class, 'kind-')]", namespaces=NS)
    assert len(boxes) == len(process_map.activities)


def test_activity_names_with_markup_characters_are_escaped():
    svg = render_svg(small_map())
    assert "<docs>" not in svg
    assert "&lt;docs&gt; &amp;" in svg
    titles = [t.text for t in parse(svg).iterfind(".//svg:title", NS)]
    assert any(t.startswith(CHECK) for t in titles)  # the full name survives, unescaped, in the tooltip


def test_the_more_frequent_path_gets_the_thicker_and_darker_arrow():
    process_map = small_map()
    layout = layout_map(process_map)
    root = parse(render_svg(process_map, layout))
    busy = edge_group(root, layout, SUBMIT, CHECK)  # 10 times
    rare = edge_group(root, layout, CHECK, REJECT)  # once
    assert stroke(busy, "frequency") > stroke(rare, "frequency")
    busy_colour = busy.xpath("svg:path[@class='measure-frequency']/@stroke", namespaces=NS)[0]
    rare_colour = rare.xpath("svg:path[@class='measure-frequency']/@stroke", namespaces=NS)[0]
    assert sum(bytes.fromhex(busy_colour[1:])) < sum(bytes.fromhex(rare_colour[1:]))


def test_the_longer_wait_gets_the_thicker_arrow_in_the_time_measure():
    process_map = small_map()
    layout = layout_map(process_map)
    root = parse(render_svg(process_map, layout))
    slow = edge_group(root, layout, CHECK, APPROVE)  # median 3.2 d
    quick = edge_group(root, layout, APPROVE, PAY)  # median 2 h
    for stat in ("total", "mean", "median"):
        assert stroke(slow, f"time stat-{stat}") > stroke(quick, f"time stat-{stat}")


def test_the_time_view_weighs_paths_by_total_waiting_so_a_rare_long_wait_stays_thin():
    # One case waited 56 days on a side path; 9,911 cases waited 3.6 days each on the main one.
    base = small_map()
    rare = edge(CHECK, REJECT, 1, 56 * DAY)
    main = edge(CHECK, APPROVE, 9911, 3.6 * DAY)
    edges = [main if (e.source, e.target) == (CHECK, APPROVE) else rare if (e.source, e.target) == (CHECK, REJECT)
             else e for e in base.edges]
    process_map = base.model_copy(update={"edges": edges})
    layout = layout_map(process_map)
    svg = render_svg(process_map, layout, measure="time")
    root = parse(svg)
    assert "time-total" in root.get("class").split()  # total is what the time view opens with
    main_group, rare_group = edge_group(root, layout, CHECK, APPROVE), edge_group(root, layout, CHECK, REJECT)
    assert stroke(main_group, "time stat-total") > 3 * stroke(rare_group, "time stat-total")
    assert stroke(main_group, "time stat-median") < stroke(rare_group, "time stat-median")  # the switch shows it
    total_labels = root.xpath("//svg:text[contains(@class, 'stat-total')][contains(@class, 'edge-label')]/text()",
                              namespaces=NS)
    assert "98 y" in total_labels  # 9,911 times 3.6 days


def test_both_measures_are_drawn_and_the_root_class_picks_one():
    frequency = parse(render_svg(small_map(), measure="frequency"))
    time = parse(render_svg(small_map(), measure="time"))
    assert "show-frequency" in frequency.get("class").split()
    assert "show-time" in time.get("class").split()
    for root in (frequency, time):
        labels = root.xpath("//svg:text[contains(@class, 'edge-label')]", namespaces=NS)
        assert {"measure-frequency", "measure-time"} <= {c for t in labels for c in t.get("class").split()}


def test_edges_are_labelled_with_their_count_and_their_median_wait():
    process_map = small_map()
    layout = layout_map(process_map)
    root = parse(render_svg(process_map, layout))
    frequency = [t.text for t in root.xpath("//svg:text[contains(@class, 'edge-label measure-frequency')]",
                                            namespaces=NS)]
    time = [t.text for t in root.xpath("//svg:text[contains(@class, 'edge-label measure-time stat-median')]",
                                       namespaces=NS)]
    assert sorted(frequency).count("10") == 2  # Submit -> Check, and the start arrow
    assert "3.2 d" in time and "2 h" in time
    # One count label per drawn route; time labels only on real paths, not on start/end arrows.
    assert len(frequency) == len(layout.edges)
    assert len(time) == len(process_map.edges)


def test_the_legend_names_the_three_kinds_of_step():
    svg = render_svg(small_map())
    for label in ("Straight-through (system)", "Human work", "Approval"):
        assert label in svg


def test_lanes_are_labelled_bands():
    root = parse(render_svg(small_map(unassigned=True)))
    labels = [t.text for t in root.xpath("//svg:text[@class='lane-label']", namespaces=NS)]
    assert labels == ["Clerk", "Manager", "unassigned"]


def test_the_svg_references_nothing_outside_itself():
    svg = render_svg(large_map())
    root = parse(svg)
    assert not root.xpath("//@href | //@*[local-name()='href']")
    assert "url(" not in svg
    assert svg.count("http") == svg.count("http://www.w3.org/2000/svg")


def test_a_busy_map_renders_with_every_path_it_was_given():
    process_map = large_map()
    root = parse(render_svg(process_map))
    groups = root.xpath("//svg:g[contains(@class, 'edge ')]", namespaces=NS)
    starts_and_ends = len(process_map.summary.start_activities) + len(process_map.summary.end_activities)
    assert len(groups) == len(process_map.edges) + starts_and_ends


def test_the_real_log_draws_every_activity_and_path():
    process_map = domestic_declarations()
    root = parse(render_svg(process_map))
    assert len(root.xpath("//svg:g[contains(@class, 'kind-')]", namespaces=NS)) == len(process_map.activities)
    real_paths = root.xpath("//svg:g[contains(@class, 'edge ')][not(@data-source='start')][not(@data-target='end')]",
                            namespaces=NS)
    assert len(real_paths) == len(process_map.edges)


def test_an_unknown_measure_is_refused_with_the_choices():
    with pytest.raises(BadOption, match="frequency or time"):
        render_svg(small_map(), measure="cost")  # type: ignore[arg-type]


def test_the_self_loop_is_drawn_once_per_measure():
    process_map = small_map()
    layout = layout_map(process_map)
    root = parse(render_svg(process_map, layout))
    loop = edge_group(root, layout, ASK, ASK)
    assert "self_loop" in loop.get("class")
    classes = [p.get("class") for p in loop.xpath("svg:path", namespaces=NS)]
    assert classes == ["measure-frequency", "measure-time stat-total", "measure-time stat-mean",
                       "measure-time stat-median"]


def test_a_path_with_no_waiting_gets_no_time_label_but_keeps_its_count():
    base = small_map()
    edges = [edge(APPROVE, PAY, 7, 0.0) if (e.source, e.target) == (APPROVE, PAY) else e for e in base.edges]
    process_map = base.model_copy(update={"edges": edges})
    layout = layout_map(process_map)
    root = parse(render_svg(process_map, layout))
    approve, pay = layout.node_for(APPROVE).id, layout.node_for(PAY).id
    labels = root.xpath(f"//svg:text[@data-source='{approve}'][@data-target='{pay}']/@class", namespaces=NS)
    assert labels == ["edge-label measure-frequency"]
