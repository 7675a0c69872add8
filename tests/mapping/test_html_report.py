"""The HTML report: one offline file that explains the map, then backs it with tables."""

from __future__ import annotations

import re

from lxml import html

from backoffice.mapping.html_report import render_html
from backoffice.mapping.model import ProcessMap, Variant

from .map_fixtures import CHECK, DAY, domestic_declarations, large_map, small_map, stats


def page(process_map: ProcessMap) -> html.HtmlElement:
    return html.fromstring(render_html(process_map))


def section(document: html.HtmlElement, label: str) -> html.HtmlElement:
    (found,) = document.xpath(f"//section[@aria-label='{label}']")
    return found


def assert_offline(text: str) -> None:
    """No script, style, font or image comes from anywhere but the file itself."""
    assert "<script src" not in text.lower()
    assert "<link" not in text.lower()
    assert "@import" not in text
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.IGNORECASE)
    # The only absolute URLs left are XML namespaces of inline SVG.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls


def test_the_report_is_one_file_that_needs_no_network():
    assert_offline(render_html(small_map()))


def test_the_busy_map_report_is_offline_too():
    assert_offline(render_html(large_map()))


def test_the_summary_cards_show_volumes_and_cycle_times():
    cards = section(page(small_map()), "Summary").text_content()
    for expected in ("10", "cases", "46", "events", "6", "activities", "4", "variants", "86 d", "time span",
                     "5 d", "median cycle time", "12 d", "p90 cycle time", "70%", "within SLA (5d)"):
        assert expected in cards


def test_the_map_and_its_measure_switch_are_on_the_page():
    document = page(small_map())
    svg = section(document, "Swimlane map").xpath(".//div[@id='map-canvas']/*[local-name()='svg']")
    assert len(svg) == 1 and "process-map" in svg[0].get("class")
    assert [i.get("value") for i in document.xpath("//input[@name='measure']")] == ["frequency", "time"]
    assert document.xpath("//label[@for='measure-time']")[0].text_content() == "Time"


def test_activity_names_are_escaped_everywhere():
    text = render_html(small_map())
    assert "<docs>" not in text and "<receipt>" not in text and "case-<10>" not in text
    assert CHECK in page(small_map()).text_content()  # and still read as written


def test_notes_say_what_was_left_out():
    notes = page(small_map()).xpath("//ul[@class='notes']/li")
    assert [n.text_content() for n in notes] == ["kept the 9 most frequent paths of 9"]


def test_plain_findings_explain_the_map_without_the_tables():
    findings = section(page(small_map()), "What the map shows").text_content()
    assert "50% of cases" in findings
    assert f"between “{CHECK}” and “Approve”" in findings
    assert "30% of cases repeat a step" in findings
    assert "70% of cases meet the 5d target" in findings


def test_the_cycle_time_histogram_has_a_bar_per_bin():
    chart = section(page(small_map()), "Cycle time")
    bars = chart.xpath(".//*[local-name()='rect'][@class='hist-bar']")
    assert len(bars) == len(small_map().cycle_time.histogram)
    assert "median 5 d" in chart.text_content()


def test_where_the_time_goes_lists_paths_and_steps_by_total_wait():
    waiting = section(page(small_map()), "Where the time goes").text_content()
    assert "29 d" in waiting and f"{CHECK} → Approve" in waiting


def test_step_kinds_are_shown_as_shares_of_events():
    kinds = section(page(small_map()), "Step kinds").text_content()
    assert "Straight-through (system)" in kinds and "37% of events" in kinds
    assert "Approval" in kinds and "20% of events" in kinds


def test_the_variants_table_shows_the_top_ten_keeps_the_rest_behind_show_all_and_points_at_the_slowest():
    many = [Variant(rank=i, activities=["Submit", "Pay"], cases=100 - i, share=(100 - i) / 5000,
                    cycle_time=stats(i * DAY), example_case=f"c{i}") for i in range(1, 31)]
    process_map = small_map().model_copy(update={"variants": many, "slowest_variants": [30, 7]})
    variants = section(page(process_map), "Variants")
    assert len(variants.xpath(".//table[not(ancestor::details)]/tbody/tr")) == 10
    assert len(variants.xpath(".//details//tbody/tr")) == 20
    slowest = variants.xpath(".//ol[@class='slowest']/li")
    assert [li.text_content().split(":")[0].strip() for li in slowest] == ["Variant 30", "Variant 7"]
    assert variants.xpath(".//ol[@class='slowest']/li/a/@href") == ["#variant-7"]  # 30 is not in view


def test_handoffs_and_rework_are_tabled():
    document = page(small_map())
    handoffs = section(document, "Handoffs").xpath(".//tbody/tr")
    assert [[td.text_content() for td in row.xpath("td")][:3] for row in handoffs] == [
        ["Clerk", "Manager", "10"], ["Manager", "Clerk", "7"]]
    rework = section(document, "Rework").text_content()
    assert "30%" in rework and "5 d" in rework and "Ask for info" in rework


def test_exceptions_and_sla_show_when_the_map_has_them():
    document = page(small_map())
    assert "missing <receipt>" in section(document, "Exceptions").text_content()
    sla = section(document, "SLA attainment").text_content()
    assert "70.0%" in sla and "case-<10>" in sla and "7 d" in sla


def test_exceptions_and_sla_are_left_out_when_the_map_has_none():
    document = page(small_map().model_copy(update={"exceptions": None, "sla": None}))
    assert not document.xpath("//section[@aria-label='Exceptions' or @aria-label='SLA attainment']")


def test_a_small_map_opens_whole_and_a_busy_one_at_a_readable_level():
    small = page(small_map())
    assert small.xpath("//input[@id='detail-activities']/@value") == small.xpath("//input[@id='detail-activities']/@max")
    busy = page(large_map())
    shown = busy.xpath("//div[@id='map-canvas']//*[local-name()='g'][contains(@class, 'kind-')]")
    assert 0 < len(shown) < 60
    assert "of 60" in busy.xpath("string(//output[@id='detail-activities-value'])")


def test_the_real_domestic_declarations_log_renders():
    process_map = domestic_declarations()
    text = render_html(process_map)
    assert_offline(text)
    document = html.fromstring(text)
    last = document.xpath("//template[starts-with(@id, 'map-level-')]")[-1]
    boxes = last.xpath(".//*[local-name()='g'][contains(@class, 'kind-')]")
    assert len(boxes) == len(process_map.activities)
    assert f"{process_map.summary.cases:,}" in section(document, "Summary").text_content()
    variants = section(document, "Variants")
    assert len(variants.xpath(".//table[not(ancestor::details)]/tbody/tr")) == min(10, len(process_map.variants))
    assert len(variants.xpath(".//tbody/tr")) == len(process_map.variants)  # the rest behind "show all"


def test_small_shares_keep_a_decimal_and_a_map_without_lanes_says_so(write_csv):
    from backoffice import read_log
    from backoffice.mapping import analyze
    from backoffice.mapping.html_report import render_html

    # 1 case in 40 follows the rare variant: 2.5%, which must not read as "3%" or "0%".
    rows = ["case_id,activity,timestamp"] + [f"{n},a,2024-01-01T00:00:00Z\n{n},{'c' if n == 0 else 'b'},"
                                             f"2024-01-01T01:00:00Z" for n in range(40)]
    html = render_html(analyze(read_log(write_csv("\n".join(rows) + "\n"))))
    assert "2.5%" in html
    assert "no lanes: the log names no" in html
