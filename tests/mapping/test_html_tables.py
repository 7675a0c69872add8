"""The HTML report's long tables show their top rows, with the rest behind "show all"; the JSON keeps all."""

from __future__ import annotations

from lxml import html

from backoffice import read_log
from backoffice.mapping import analyze
from backoffice.mapping.html_report import render_html


def busy_log(write_csv, people: int = 30):
    """Cases passing work between many people: many handoff pairs, many variants."""
    rows = ["case_id,activity,timestamp,resource,reason"]
    for case in range(people * 2):
        first, second = f"p{case % people}", f"p{(case * 7 + 3) % people}"
        steps = [("Submit", first, ""), ("Check", second, f"reason {case % 13}")] + \
            [("Check", second, "")] * (case % 5) + [(f"Step {case % 17}", first, ""), ("Close", second, "")]
        for minute, (activity, person, reason) in enumerate(steps):
            rows.append(f"c{case},{activity},2024-01-01T{9 + minute // 60:02d}:{minute % 60:02d}:00Z,{person},{reason}")
    return read_log(write_csv("\n".join(rows) + "\n"))


def section(document, label: str):
    (found,) = document.xpath(f'//section[@aria-label="{label}"]')
    return found


def test_long_tables_show_their_top_rows_and_the_rest_behind_show_all(write_csv):
    process_map = analyze(busy_log(write_csv), lanes="resource")
    assert len(process_map.handoffs) > 10 and len(process_map.variants) > 10
    document = html.fromstring(render_html(process_map))
    for label, top, total in (("Handoffs", 10, len(process_map.handoffs)),
                              ("Variants", 10, len(process_map.variants)),
                              ("Exceptions", 10, len(process_map.exceptions.reasons))):
        part = section(document, label)
        shown = part.xpath('.//table[not(ancestor::details)]/tbody/tr')
        hidden = part.xpath('.//details[@class="show-all"]//tbody/tr')
        assert len(shown) == top, label
        assert len(shown) + len(hidden) == total, label
        (summary,) = part.xpath('.//details[@class="show-all"]/summary')
        assert summary.text_content().startswith(f"Show all {total:,}"), label


def test_a_short_table_has_no_show_all(write_csv):
    log = read_log(write_csv("case_id,activity,timestamp,resource\nc1,A,2024-01-01T09:00:00Z,ann\n"
                             "c1,B,2024-01-01T10:00:00Z,bob\n"))
    document = html.fromstring(render_html(analyze(log, lanes="resource")))
    assert not section(document, "Handoffs").xpath('.//details')
    assert len(section(document, "Handoffs").xpath('.//tbody/tr')) == 1


def test_the_report_says_how_the_log_was_read_and_the_processing_time_of_steps(write_csv):
    log = read_log(write_csv("case_id,activity,timestamp,lifecycle,role\n"
                             "c1,Check,2024-01-01T09:00:00Z,start,clerk\nc1,Check,2024-01-01T09:30:00Z,complete,clerk\n"
                             "c1,Pay,2024-01-01T11:00:00Z,start,clerk\nc1,Pay,2024-01-01T11:10:00Z,complete,clerk\n",
                             name="claims.csv"))
    document = html.fromstring(render_html(analyze(log)))
    read = section(document, "How the log was read").text_content()
    assert "2 steps from 4 events" in read and "start and complete (standard XES lifecycle)" in read
    assert "role: role comes first among role, group and system" in read
    assert "Flow efficiency" in read and "30 min" in read and "10 min" in read
    assert document.xpath("//title")[0].text_content() == "As-is map · claims.csv"
