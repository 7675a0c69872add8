"""The live process map: the engine's own events mapped, with moves the definition does not allow marked and listed."""

from __future__ import annotations

from lxml import etree

from backoffice.definitions.conformance import DeviationKind
from backoffice.engine import Engine
from backoffice.ops.live_map import DEVIATION_COLOUR, live_map

from .seeded_cases import NOW, at, forge_move, seed_cases

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_the_live_map_draws_the_engine_events_with_a_forbidden_move_marked(store):
    ids = seed_cases(Engine(store))
    forge_move(store, ids["E"], activity="close", from_state="new", to_state="done", moment=at(19, 9))
    live = live_map(store, "service-request", now=NOW)
    assert (live.cases, live.events) == (7, 27)  # A 4, B 7, C 4, D 3, E 2 (one forged), F 4, G 3
    [move] = live.moves
    assert (move.source_state, move.target_state, move.kind) == ("new", "done", DeviationKind.DISALLOWED_TRANSITION)
    assert (move.source_activity, move.target_activity, move.case_ids, move.drawn) == ("new", "close",
                                                                                       [str(ids["E"])], True)
    root = etree.fromstring(live.svg.encode())
    [marked] = [g for g in root.iterfind(".//svg:g", NS) if "deviation" in (g.get("class") or "").split()]
    assert {path.get("stroke") for path in marked.iterfind("svg:path", NS)} == {DEVIATION_COLOUR}
    assert "Not allowed by the definition (transition not allowed): new → done, in 1 case" in \
        marked.find("svg:title", NS).text
    # Only that path: every other one keeps the map's own colours.
    assert all(DEVIATION_COLOUR not in etree.tostring(g, encoding="unicode")
               for g in root.iterfind(".//svg:g", NS) if "edge" in (g.get("class") or "").split() and g is not marked)
    kinds = {(deviation.kind, deviation.detail) for _, deviation in live.deviations()}
    assert (DeviationKind.DISALLOWED_TRANSITION, "new -> done") in kinds


def test_the_map_style_leaves_the_svg_for_a_style_sheet(store):
    seed_cases(Engine(store))
    live = live_map(store, "service-request", now=NOW)
    root = etree.fromstring(live.svg.encode())
    assert root.find(".//svg:style", NS) is None and root.find(".//svg:script", NS) is None
    assert ".process-map.show-frequency .measure-time" in live.style
    assert live.moves == [] and all(not "deviation" in (g.get("class") or "") for g in root.iterfind(".//svg:g", NS))


def test_the_live_map_keeps_the_cases_started_since_a_moment(store):
    seed_cases(Engine(store))
    live = live_map(store, "service-request", now=NOW, since=at(18, 0))
    assert live.cases == 2  # E and F
    nothing = live_map(store, "service-request", now=NOW, since=at(21, 0))
    assert (nothing.svg, nothing.cases, nothing.report) == (None, 0, None)


def test_open_cases_past_their_sla_are_deviations_as_of_now(store):
    ids = seed_cases(Engine(store))
    live = live_map(store, "service-request", now=NOW)
    late = {case for _, d in live.deviations() if d.kind is DeviationKind.SLA_FIRST_RESPONSE for case in d.case_ids}
    # B answered late; E, in since Monday 09:00, has waited past 4 working hours and is still open.
    assert late == {str(ids["B"]), str(ids["E"])}
