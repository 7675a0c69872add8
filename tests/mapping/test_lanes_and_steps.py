"""Lanes by majority, the lane attribute chosen and said, and exceptions and rework placed on their steps."""

from __future__ import annotations

from lxml import html

from backoffice import read_log
from backoffice.mapping import analyze
from backoffice.mapping.exceptions import raised_at
from backoffice.mapping.html_report import render_html


def section(document, label: str):
    (found,) = document.xpath(f'//section[@aria-label="{label}"]')
    return found


def log_of(write_csv, header: str, rows: list[str]):
    return read_log(write_csv(header + "\n" + "\n".join(rows) + "\n"))


def cases_of(steps: list[tuple[str, ...]], cases: int, *, start_day: int = 1) -> list[str]:
    """The same steps (activity, then the other columns) for `cases` cases, an hour apart."""
    rows = []
    for case in range(cases):
        for hour, step in enumerate(steps):
            rows.append(",".join([f"c{start_day}-{case}", step[0], f"2024-01-{start_day:02d}T{hour + 8:02d}:00:00Z",
                                  *step[1:]]))
    return rows


def test_an_activity_sits_in_a_lane_only_when_that_lane_does_60_percent_of_it(write_csv):
    # "Check" is done by clerks in 7 cases of 10 (70%); "Approve" half by managers, half by directors.
    rows = cases_of([("Submit", "clerk"), ("Check", "clerk"), ("Approve", "manager")], 5, start_day=1)
    rows += cases_of([("Submit", "clerk"), ("Check", "clerk"), ("Approve", "director")], 2, start_day=2)
    rows += cases_of([("Submit", "clerk"), ("Check", "auditor"), ("Approve", "director")], 3, start_day=3)
    process_map = analyze(log_of(write_csv, "case_id,activity,timestamp,role", rows))
    activity = {a.name: a for a in process_map.activities}
    assert activity["Check"].lane == "clerk" and not activity["Check"].shared
    assert [(s.lane, s.events, s.share) for s in activity["Check"].lane_split] == [("clerk", 7, 0.7),
                                                                                ("auditor", 3, 0.3)]
    approve = activity["Approve"]
    assert approve.lane is None and approve.shared
    assert [(s.lane, s.events, s.share) for s in approve.lane_split] == [("director", 5, 0.5), ("manager", 5, 0.5)]


def test_lanes_default_to_role_then_group_or_system_and_resources_only_when_asked(write_csv):
    rows = cases_of([("Submit", "ann", "finance"), ("Pay", "bob", "treasury")], 2)
    grouped = log_of(write_csv, "case_id,activity,timestamp,resource,group", rows)
    by_group = analyze(grouped)
    assert by_group.lanes.value == "group" and by_group.lane_choice.startswith("group: the log has no role")
    assert "resources make lanes only when asked (--lanes resource)" in by_group.lane_choice
    people_only = log_of(write_csv, "case_id,activity,timestamp,resource",
                         cases_of([("Submit", "ann"), ("Pay", "bob")], 2))
    unasked = analyze(people_only)
    assert unasked.handoffs == [] and all(a.lane is None and not a.shared for a in unasked.activities)
    assert unasked.lane_choice.startswith("no lanes: the log names no role, group or system")
    asked = analyze(people_only, lanes="resource")
    assert asked.lane_choice == "resource, as asked (--lanes resource)"
    assert {a.name: a.lane for a in asked.activities} == {"Submit": "ann", "Pay": "bob"}
    assert [(h.from_lane, h.to_lane, h.count) for h in asked.handoffs] == [("ann", "bob", 2)]


def test_exception_reasons_and_rework_are_placed_on_the_steps_where_they_happen(write_csv):
    rows = cases_of([("Submit", ""), ("Check", "missing receipt"), ("Ask", ""), ("Check", ""), ("Pay", "")], 2)
    rows += cases_of([("Submit", ""), ("Check", ""), ("Pay", "wrong amount")], 3, start_day=2)
    rows += cases_of([("Submit", ""), ("Check", "missing receipt"), ("Pay", "")], 1, start_day=3)
    process_map = analyze(log_of(write_csv, "case_id,activity,timestamp,reason", rows))
    activity = {a.name: a for a in process_map.activities}
    assert [(r.reason, r.cases, r.events) for r in activity["Check"].exception_reasons] == [("missing receipt", 3, 3)]
    assert [(r.reason, r.cases, r.events) for r in activity["Pay"].exception_reasons] == [("wrong amount", 3, 3)]
    assert activity["Submit"].exception_reasons == []
    assert activity["Check"].rework_cases == 2 and activity["Check"].repeats == 2
    assert activity["Pay"].rework_cases == 0
    assert raised_at(process_map) == {"missing receipt": [("Check", 3)], "wrong amount": [("Pay", 3)]}
    raised = section(html.fromstring(render_html(process_map)), "Exceptions").xpath(".//tbody/tr/td[4]")
    assert [cell.text_content() for cell in raised] == ["Check (3)", "Pay (3)"]


def test_the_report_names_the_log_by_its_file_name(write_csv):
    path = write_csv("case_id,activity,timestamp\nc1,A,2024-01-01T09:00:00Z\n", name="expenses.csv")
    assert analyze(read_log(path)).summary.source == "expenses.csv"
