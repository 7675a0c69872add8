"""What the instance analysis adds to a step, on the drawing: shared lanes, rework and
exception badges, time at work, and the reading in the report's header."""

from __future__ import annotations

from lxml import etree, html

from backoffice.mapping.html_report import render_html
from backoffice.mapping.labels import Rect
from backoffice.mapping.layout import SHARED_LANE, layout_map
from backoffice.mapping.svg import render_svg

from .map_fixtures import ASK, CHECK, small_map
from .picture_fixtures import instance_map, reading

NS = {"s": "http://www.w3.org/2000/svg"}


def node_group(root, layout, name):
    (group,) = root.xpath(f"//s:g[@data-id='{layout.node_for(name).id}']", namespaces=NS)
    return group


def test_a_shared_step_sits_in_the_shared_band_not_in_a_lane():
    layout = layout_map(instance_map())
    check = layout.node_for(CHECK)
    assert check.lane == SHARED_LANE
    shared = next(band for band in layout.lanes if band.key == SHARED_LANE)
    assert shared.label == "shared" and shared.y <= check.y and check.y + check.height <= shared.y + shared.height
    assert layout.lanes[-1].key == SHARED_LANE  # below the lanes that own their steps
    assert layout.node_for(ASK).lane == "Clerk"


def test_a_shared_step_is_outlined_dashed_and_its_tooltip_gives_the_split():
    process_map = instance_map()
    layout = layout_map(process_map)
    group = node_group(etree.fromstring(render_svg(process_map, layout).encode()), layout, CHECK)
    assert "shared" in group.get("class").split()
    assert group.xpath("s:rect", namespaces=NS)[0].get("stroke-dasharray")
    title = group.find("s:title", NS).text
    assert "done by: Clerk 54% (7), Manager 46% (6)" in title


def test_rework_and_exceptions_are_badges_under_the_step_with_details_on_hover():
    process_map = instance_map()
    layout = layout_map(process_map)
    group = node_group(etree.fromstring(render_svg(process_map, layout).encode()), layout, CHECK)
    rework, exception = group.xpath("s:g[contains(@class, 'badge')]", namespaces=NS)
    assert rework.xpath("string(s:text)", namespaces=NS) == "↻ 3"
    assert exception.xpath("string(s:text)", namespaces=NS) == "! 4"
    assert "missing <receipt>: 3 cases, 4 events" in exception.find("s:title", NS).text
    assert "wrong amount: 1 case, 1 event" in exception.find("s:title", NS).text
    box = layout.node_for(CHECK)
    for badge in (rework, exception):
        rect = badge.find("s:rect", NS)
        y = float(rect.get("y"))
        assert y >= box.y + box.height  # under the box, not on its text


def test_without_instance_fields_rework_comes_from_the_rework_table_and_nothing_fails():
    process_map = small_map()  # Check is repeated in 3 cases in its rework table
    layout = layout_map(process_map)
    group = node_group(etree.fromstring(render_svg(process_map, layout).encode()), layout, CHECK)
    badges = group.xpath("s:g[contains(@class, 'badge')]", namespaces=NS)
    assert [b.xpath("string(s:text)", namespaces=NS) for b in badges] == ["↻ 3"]


def test_the_time_view_shows_each_steps_time_at_work_for_the_chosen_statistic():
    process_map = instance_map()
    layout = layout_map(process_map)
    group = node_group(etree.fromstring(render_svg(process_map, layout).encode()), layout, CHECK)
    texts = {t.get("class"): t.text for t in group.xpath("s:text[contains(@class, 'node-value')]", namespaces=NS)}
    assert texts["node-value measure-time stat-total"] == "total work 3.3 h"  # 10 instances of 20 min
    assert texts["node-value measure-time stat-median"] == "median work 20 min"
    assert texts["node-value measure-frequency"].startswith("13 times")


def test_badges_keep_path_labels_off_them():
    from backoffice.mapping.svg import place_edge_labels

    process_map = instance_map()
    layout = layout_map(process_map)
    root = etree.fromstring(render_svg(process_map, layout).encode())
    badges = [Rect(float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height")))
              for r in root.xpath("//s:g[contains(@class, 'badge')]/s:rect", namespaces=NS)]
    assert badges
    for labels in place_edge_labels(layout, badges).values():
        assert not any(label.box.overlaps(badge) for label in labels.values() for badge in badges)


def test_the_header_says_how_the_log_was_read_and_why_these_lanes():
    header = html.fromstring(render_html(instance_map())).xpath("//header")[0].text_content()
    assert "Reading: one step per activity instance, start and complete paired" in header
    assert "Lanes: role: the first of role, group, system the log has" in header
    plain = small_map().model_copy(update={"reading": reading(""), "lane_choice": ""})
    assert "Reading:" not in html.fromstring(render_html(plain)).xpath("//header")[0].text_content()


def test_an_empty_lane_choice_is_left_out_of_the_header():
    process_map = instance_map().model_copy(update={"lane_choice": ""})
    header = html.fromstring(render_html(process_map)).xpath("//header")[0].text_content()
    assert "Reading: one step per activity instance" in header
    assert "Lanes:" not in header


def test_the_hint_explains_only_the_marks_the_map_shows():
    def marks(process_map):
        document = html.fromstring(render_html(process_map))
        return document.xpath("//section[@id='map']//p[@class='hint']/span/@class")

    assert marks(instance_map()) == ["mark rework", "mark exception"]
    assert marks(small_map()) == ["mark rework"]  # no reasons on its steps
