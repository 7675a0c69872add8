"""The live process map: the as-is map of the engine's own events, with the moves the definition does not allow marked.

The map is the one `backoffice map --db` draws (the same analysis, layout and SVG renderer);
conformance is the one `backoffice conform --db` runs, each case against the version it runs
on, as of a moment. A move the definition does not allow (or one that jumps an approval) is
found on the map as the path between the two events of the case: that path is redrawn dashed
in magenta, with the move in its tooltip, and every deviation is listed beside the map.

    live = live_map(store, "service-request", now=now, since=now - timedelta(weeks=12))
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
from lxml import etree

from backoffice.definitions.conformance import (
    Deviation,
    DeviationKind,
    VersionsReport,
    allowed_moves,
    approvals_skipped,
    conform_versions,
)
from backoffice.definitions.model import Definition, StateKind
from backoffice.events.schema import Column, EventLog
from backoffice.mapping import analyze
from backoffice.mapping.layout import MapLayout, layout_map
from backoffice.mapping.svg import SVG_NS, render_svg
from backoffice.store.event_log import ENGINE_STATES, read_live_work
from backoffice.store.sql_store import SqlStore

DEVIATION_COLOUR = "#b0127a"
"""Magenta: apart from the map's blues (how often) and its oranges to reds (how long)."""
MIN_SCALE = 0.7
"""The map's 12px step names drawn at 0.7 read at about 8px: smaller, and the page scrolls instead."""
_FONT_SIZE = re.compile(r"font-size:\s*(\d{1,2})px")
PAGE_RULES = "".join(f"\n.process-map .font-size-{size} {{ font-size: {size}px; }}" for size in range(6, 25)) + f"""
.process-map .edge.deviation path {{ stroke: {DEVIATION_COLOUR}; stroke-dasharray: 7 4; }}
.process-map .edge.deviation polygon {{ fill: {DEVIATION_COLOUR}; stroke: none; }}"""
"""What a page adds to the map's own style sheet: the classes that replace style attributes, and the
deviation's look, stronger than a hot path's (a move not allowed matters more than a busy one)."""


@dataclass(frozen=True)
class MarkedMove:
    """A move the definition does not allow, and the path of the map it was walked on.

    Attributes:
        source_state, target_state: the move, in the definition's states.
        kind: not allowed at all, or jumping over an approval.
        source_activity, target_activity: the path on the map (None for the map's start).
        case_ids: the cases that made it, in the order of the log.
        drawn: whether the path is on the map (a map past its limits leaves rare paths out).
    """

    source_state: str
    target_state: str
    kind: DeviationKind
    source_activity: str | None
    target_activity: str
    case_ids: list[str]
    drawn: bool = False


@dataclass(frozen=True)
class LiveMap:
    """What the live map page shows: the map (None when no case is in scope), its deviations, and its extent."""

    workflow: str
    version: int | None
    since: datetime | None
    as_of: datetime
    svg: str | None
    style: str
    """The map's CSS, taken out of the SVG so a page can serve it as a style sheet (no inline style)."""
    cases: int
    events: int
    report: VersionsReport | None
    moves: list[MarkedMove] = field(default_factory=list)

    def deviations(self) -> list[tuple[int, Deviation]]:
        """Return every deviation with the version it was found in, in the report's order."""
        if self.report is None:
            return []
        return [(report.version, deviation) for report in self.report.reports for deviation in report.deviations]


def live_map(store: SqlStore, workflow: str, *, now: datetime, version: int | None = None,
             since: datetime | None = None, fit_width: float | None = None) -> LiveMap:
    """Map a workflow's live work (one version, or all; the cases started since a moment) and mark its deviations.

    `fit_width` draws a wider map smaller to fit that width, down to MIN_SCALE (past it, the page scrolls):
    a map seen whole at a glance beats a sharper one seen a piece at a time, until its names get too small.

    Raises:
        UnknownWorkflow: nothing is deployed under that name, or not that version.
    """
    live = read_live_work(store, workflow, version=version, started_since=since)
    if not live.logs:
        return LiveMap(workflow, version, since, now, None, "", 0, 0, None)
    log = live.log()
    process_map = analyze(log, lanes="role")
    layout = layout_map(process_map)
    report = conform_versions(live.logs, live.definitions, workflow=live.workflow, source=live.source, as_of=now,
                              states=ENGINE_STATES)
    moves = [move for number in sorted(live.logs)
             for move in disallowed_moves(live.logs[number], live.definitions[number])]
    svg, style, drawn = mark_moves(render_svg(process_map, layout), layout, moves, fit_width=fit_width)
    moves = [MarkedMove(**{**move.__dict__, "drawn": (move.source_activity, move.target_activity) in drawn})
             for move in moves]
    return LiveMap(workflow, version, since, now, svg, style, process_map.summary.cases, len(log), report, moves)


def disallowed_moves(log: EventLog, definition: Definition) -> list[MarkedMove]:
    """Replay each case's moves as conformance does, and return the moves not allowed with the map path of each."""
    table = log.table
    cases = table.column(Column.CASE_ID).to_pylist()
    activities = table.column(Column.ACTIVITY).to_pylist()
    entered = (table.column(ENGINE_STATES.entered).cast(pa.string()).to_pylist()
               if ENGINE_STATES.entered in table.column_names else [None] * len(cases))
    moves = allowed_moves(definition)
    approvals = frozenset(sid for sid, s in definition.states.items() if s.kind is StateKind.APPROVAL)
    found: dict[tuple[str, str, str | None, str], dict[str, None]] = defaultdict(dict)
    kinds: dict[tuple[str, str], DeviationKind] = {}
    state, previous = definition.intake_state, None
    for index, (case, activity, target) in enumerate(zip(cases, activities, entered, strict=True)):
        if index == 0 or cases[index - 1] != case:
            state, previous = definition.intake_state, None
        if target is not None and target != state:
            if state in definition.states and target in definition.states and target not in moves.get(state, ()):
                if (state, target) not in kinds:
                    skipped = approvals_skipped(moves, approvals, state, target)
                    kinds[state, target] = (DeviationKind.SKIPPED_APPROVAL if skipped
                                            else DeviationKind.DISALLOWED_TRANSITION)
                found[state, target, previous, activity][case] = None
            state = target
        previous = activity
    return [MarkedMove(source, target, kinds[source, target], before, activity, list(case_ids))
            for (source, target, before, activity), case_ids in found.items()]


def mark_moves(svg: str, layout: MapLayout, moves: list[MarkedMove], *, fit_width: float | None = None
               ) -> tuple[str, str, set[tuple[str | None, str]]]:
    """Redraw the paths of the moves dashed in the deviation colour; return the SVG, its CSS, and the paths marked.

    The SVG's own style element is taken out and returned as text, for a page to serve as a
    style sheet under a Content-Security-Policy that forbids inline styles. With `fit_width`,
    the SVG's drawn size shrinks to fit it (see `live_map`); its coordinates stay as laid out.
    """
    root = etree.fromstring(svg.encode())
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    if fit_width is not None and width > fit_width:
        scale = max(MIN_SCALE, fit_width / width)
        root.set("width", f"{width * scale:.0f}")
        root.set("height", f"{height * scale:.0f}")
    style_element = root.find(f"{{{SVG_NS}}}style")
    style = style_element.text if style_element is not None else ""
    if style_element is not None:
        root.remove(style_element)
    _inline_styles_as_classes(root)
    activity_of = {node.id: node.activity for node in layout.nodes}
    by_path: dict[tuple[str | None, str], list[MarkedMove]] = defaultdict(list)
    for move in moves:
        by_path[move.source_activity, move.target_activity].append(move)
    marked: set[tuple[str | None, str]] = set()
    for group in root.iter(f"{{{SVG_NS}}}g"):
        if "edge" not in (group.get("class") or "").split():
            continue
        path = (activity_of.get(group.get("data-source", "")), activity_of.get(group.get("data-target", "")))
        if path not in by_path or path[1] is None:
            continue
        marked.add(path)  # type: ignore[arg-type]
        group.set("class", f"{group.get('class')} deviation")
        for part in group:
            if part.tag == f"{{{SVG_NS}}}path":
                part.set("stroke", DEVIATION_COLOUR)
                part.set("stroke-dasharray", "7 4")
            elif part.tag == f"{{{SVG_NS}}}polygon":
                part.set("fill", DEVIATION_COLOUR)
            elif part.tag == f"{{{SVG_NS}}}title":
                part.text = (part.text or "") + "".join(
                    f"\nNot allowed by the definition ({move.kind.label}): {move.source_state} → {move.target_state}, "
                    f"in {len(move.case_ids)} case{'s' if len(move.case_ids) != 1 else ''}" for move in by_path[path])
    return etree.tostring(root, encoding="unicode"), style or "", marked


def _inline_styles_as_classes(root: etree._Element) -> None:
    """Turn the renderer's style attributes (a smaller font for a long lane name) into classes that `PAGE_RULES` define.

    A strict Content-Security-Policy ignores style attributes; classes in a served sheet are allowed.
    """
    for element in root.iter():
        inline = element.attrib.pop("style", None) if isinstance(element.tag, str) else None
        found = _FONT_SIZE.fullmatch(inline.strip().rstrip(";")) if inline else None
        if found is not None:
            element.set("class", f"{element.get('class', '')} font-size-{found.group(1)}".strip())
