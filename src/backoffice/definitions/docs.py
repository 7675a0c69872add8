"""Document workflow definitions: one page per workflow, in HTML and Markdown, and an index.

The state diagram is the as-is map's own swimlane drawing: the definition is presented to
`render_svg` as a map whose steps are its states, whose lanes are its roles and whose paths
are its moves (transitions, exceptions raised and resolved, retries run out). The figures a
map shows on its boxes and arrows (events, counts, waits) mean nothing for a definition, so
the drawing is then relabelled with each state's kind and each move's name, and every arrow
drawn alike. The HTML page is self-contained and works offline; the Markdown page shows the
same content with the diagram as an SVG file beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from lxml import etree
from markupsafe import Markup

from backoffice.definitions.loader import load_definition
from backoffice.definitions.model import Definition, Party, StateKind
from backoffice.errors import UserError
from backoffice.mapping.layout import MapLayout, layout_map
from backoffice.mapping.model import (Activity, ActivityCount, CycleTime, DurationStats, Edge, Filters, Lanes,
                                      ProcessMap, Rework, StepKind, Summary)
from backoffice.mapping.svg import SVG_NS, _curve

EDGE_WIDTH = 1.8
EDGE_COLOUR = "#4a5568"
DETOUR_COLOUR = "#b7791f"  # exceptions and exhausted retries: the ways off the main line
LABEL_CHARS = 30
_STEP_OF = {StateKind.AUTOMATED: StepKind.STRAIGHT_THROUGH, StateKind.APPROVAL: StepKind.APPROVAL}
# The map's words for its kinds of step, in a definition's terms (no longer than the map's own,
# which set the legend's spacing).
_LEGEND = {"Straight-through (system)": "Automated", "Human work": "People"}
_NO_WAIT = DurationStats(count=0, total=0, mean=0, median=0, p90=0, max=0)


class DocsError(UserError):
    """Two definitions that would write the same page."""


@dataclass(frozen=True)
class Move:
    """An arrow of the state diagram: why a case may go from one state to another."""

    source: str
    target: str
    label: str
    detour: bool  # an exception or an exhausted retry, not a transition


def document_folder(folder: Path | str) -> dict[str, str]:
    """Load every definition directly in a folder (*.yaml, *.yml) and render its pages.

    Returns:
        file name -> text: index.html, index.md, and per workflow <id>.html, <id>.md, <id>.svg.

    Raises:
        DefinitionError: a file is not a valid definition (every problem of it is listed).
        DocsError: the folder holds no definition, or two files would write the same page.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DocsError(f"{folder}: not a folder; expected a folder of workflow definitions (*.yaml)")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise DocsError(f"{folder}: no definition files; expected workflow definitions (*.yaml) in the folder")
    return render_docs([load_definition(path) for path in files], sources=[p.name for p in files])


def render_docs(definitions: Sequence[Definition], *, sources: Sequence[str] | None = None) -> dict[str, str]:
    """Render the pages of some definitions, all in memory, so nothing is half-written on failure.

    A workflow's pages are named by its id, or by id and version when two versions are given.
    """
    ids = [d.id for d in definitions]
    names = [d.id if ids.count(d.id) == 1 else f"{d.id}-v{d.version}" for d in definitions]
    for name in set(names):
        if names.count(name) > 1:
            which = [s for s, n in zip(sources or ids, names, strict=True) if n == name]
            raise DocsError(f"{' and '.join(which)} both define {name}; expected one file per workflow version")
    environment = Environment(loader=PackageLoader("backoffice.definitions", "doc_templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(party=_party, md=_md_cell, parties=lambda items: ", ".join(map(_party, items)))
    markdown = Environment(loader=PackageLoader("backoffice.definitions", "doc_templates"), autoescape=False,
                           undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    markdown.filters.update(environment.filters)
    pages: dict[str, str] = {}
    entries = []
    for definition, name, source in zip(definitions, names, sources or [None] * len(names), strict=True):
        svg = state_diagram(definition)
        context = dict(d=definition, name=name, source=source, sla=_sla_text(definition),
                       sla_short=_sla_text(definition, short=True), proof=_proof_text(definition),
                       kinds={sid: s.kind.value.replace("_", " ") for sid, s in definition.states.items()})
        pages[f"{name}.html"] = environment.get_template("workflow.html.j2").render(diagram=Markup(svg), **context)
        pages[f"{name}.md"] = markdown.get_template("workflow.md.j2").render(**context)
        pages[f"{name}.svg"] = svg
        entries.append(context)
    pages["index.html"] = environment.get_template("index.html.j2").render(entries=entries)
    pages["index.md"] = markdown.get_template("index.md.j2").render(entries=entries)
    return pages


def moves(definition: Definition) -> list[Move]:
    """Return the arrows of a definition's diagram: transitions, then exceptions and exhausted retries.

    An exception that may be raised anywhere (no raised_in) would draw an arrow from every
    state; it is left to the table of exceptions.
    """
    found: dict[tuple[str, str], list[str]] = {}
    detours: set[tuple[str, str]] = set()

    def add(source: str, target: str | None, label: str, detour: bool) -> None:
        if target is None or source == target:
            return
        labels = found.setdefault((source, target), [])
        if label and label not in labels:
            labels.append(label)
        if detour and (source, target) not in found_transitions:
            detours.add((source, target))

    found_transitions: set[tuple[str, str]] = set()
    for transition in definition.transitions:
        for source in transition.from_:
            found_transitions.add((source, transition.to))
            add(source, transition.to, transition.name or "", False)
    cancelled = next((sid for sid, s in definition.states.items() if s.kind is StateKind.CANCELLED), None)
    for code, reason in definition.exceptions.items():
        after = reason.returns_to or (reason.ends if isinstance(reason.ends, str) else cancelled)
        for source in reason.raised_in:
            add(source, reason.state or after, code, True)
        if reason.state:
            add(reason.state, after, f"{code} resolved", True)
    for step in definition.automated_steps:
        add(step.state, step.on_exhausted, "retries run out", True)
    return [Move(s, t, " / ".join(labels), (s, t) in detours) for (s, t), labels in found.items()]


def diagram_map(definition: Definition) -> ProcessMap:
    """Present a definition as a map: a step per state, lanes by role, a path per move."""
    titles = [state.title or sid for sid, state in definition.states.items()]
    label = {sid: (title if titles.count(title) == 1 else f"{title} ({sid})")
             for (sid, _), title in zip(definition.states.items(), titles, strict=True)}
    lanes = _lanes(definition)
    activities = [Activity(name=label[sid], events=1, cases=1, lane=lanes[sid],
                           kind=_STEP_OF.get(state.kind, StepKind.HUMAN), wait_before=None, repeats=0)
                  for sid, state in definition.states.items()]
    edges = [Edge(source=label[m.source], target=label[m.target], count=1, cases=1, wait=_NO_WAIT, handoffs=0)
             for m in moves(definition) if m.source in label and m.target in label]
    summary = Summary(source=definition.title, cases=1, events=len(activities), steps=len(activities),
                      activities=len(activities),
                      variants=0, first_event=None, last_event=None,
                      start_activities=[ActivityCount(activity=label[definition.intake_state], cases=1)],
                      end_activities=[ActivityCount(activity=label[sid], cases=1) for sid in definition.end_states])
    return ProcessMap(lanes=Lanes.ROLE, summary=summary, filters=Filters(), activities=activities, edges=edges,
                      variants=[], slowest_variants=[], cycle_time=CycleTime(stats=_NO_WAIT, histogram=[]),
                      waiting_paths=[], waiting_activities=[], handoffs=[],
                      rework=Rework(cases_affected=0, share_of_cases=0, repeated_activities=[], loops=[],
                                    median_cycle_time_with=None, median_cycle_time_without=None, added_time=None),
                      exceptions=None, sla=None, step_kinds=[], notes=[])


def state_diagram(definition: Definition) -> str:
    """Draw a definition's states and moves as an inline SVG, in swimlanes by role."""
    from backoffice.mapping.svg import render_svg
    process_map = diagram_map(definition)
    layout = layout_map(process_map)
    root = etree.fromstring(render_svg(process_map, layout).encode())
    _relabel(root, definition, process_map, layout)
    return etree.tostring(root, encoding="unicode")


def _lanes(definition: Definition) -> dict[str, str]:
    """Return each state's lane: its role's title; automated steps in System; others beside what leads in."""
    def title(role: str) -> str:
        spec = definition.roles.get(role)
        return spec.title if spec and spec.title else role.replace("-", " ").capitalize()

    lanes: dict[str, str] = {}
    for sid, state in definition.states.items():
        if state.role:
            lanes[sid] = title(state.role)
        elif state.kind is StateKind.AUTOMATED:
            lanes[sid] = "System"
        elif state.kind is StateKind.INTAKE:
            lanes[sid] = "Requester"
    for move in moves(definition):  # an end state joins the lane of the first state leading to it
        if move.target not in lanes and move.source in lanes:
            lanes[move.target] = lanes[move.source]
    return {sid: lanes.get(sid, "Unassigned") for sid in definition.states}


def _relabel(root: etree._Element, definition: Definition, process_map: ProcessMap, layout: MapLayout) -> None:
    """Put the definition's words on the map's drawing: kinds on boxes, names on arrows, no figures."""
    ns = {"s": SVG_NS}
    root.set("aria-label", f"State diagram of {definition.title}: {len(definition.states)} states in "
                           f"{len(layout.lanes)} lanes")
    for element in root.xpath("//s:*[contains(concat(' ', @class, ' '), ' measure-time ')]", namespaces=ns):
        element.getparent().remove(element)
    for group in root.xpath("//s:g[@class='legend']/s:g", namespaces=ns):  # the measures' legend
        group.getparent().remove(group)
    for text in root.xpath("//s:g[@class='legend']/s:text", namespaces=ns):
        text.text = _LEGEND.get(text.text or "", text.text)
    state_of_name = {activity.name: sid for activity, sid in zip(process_map.activities, definition.states,
                                                                 strict=True)}
    sid_of_node = {node.id: state_of_name[node.activity] for node in layout.nodes if node.activity}
    for group in root.xpath("//s:g[@data-id]", namespaces=ns):
        sid = sid_of_node.get(group.get("data-id"))
        if sid is None:  # the start and end circles
            ends = ", ".join(definition.end_states)
            group.find(f"{{{SVG_NS}}}title").text = (f"Start: every case begins in {definition.intake_state}"
                                                     if group.get("data-id") == "start" else f"End: {ends}")
            continue
        state = definition.states[sid]
        kind = state.kind.value.replace("_", " ")
        paused = " · SLA paused" if definition.pauses_sla(sid) else ""
        for text in group.xpath("s:text[contains(@class, 'node-value')]", namespaces=ns):
            text.text = f"{kind}{paused}"
        group.set("class", f"node state-{state.kind.value}")
        title = group.find(f"{{{SVG_NS}}}title")
        details = [f"{state.title or sid} ({sid})", kind + (f"; role {state.role}" if state.role else "")]
        queue = definition.queue_of(sid)
        if queue:
            details.append(f"queue {queue}")
        if state.description:
            details.append(state.description)
        title.text = "\n".join(details)
    # Node ids in the drawing, back to state ids, to find each arrow's move.
    by_pair = {(m.source, m.target): m for m in moves(definition)}
    node_state = {**sid_of_node}
    routes = {(route.source, route.target): route for route in layout.edges}
    for group in root.xpath("//s:g[contains(@class, 'edge ')]", namespaces=ns):
        pair = (group.get("data-source"), group.get("data-target"))
        route = routes[pair]
        move = by_pair.get((node_state.get(pair[0], ""), node_state.get(pair[1], "")))
        colour = DETOUR_COLOUR if move and move.detour else EDGE_COLOUR
        path, head = _curve(route.points, route.shape, EDGE_WIDTH)
        for element in group.xpath("s:path", namespaces=ns):
            element.attrib.update({"d": path, "stroke": colour, "stroke-width": f"{EDGE_WIDTH}"})
            if move and move.detour:
                element.set("stroke-dasharray", "5 4")
        for element in group.xpath("s:polygon", namespaces=ns):
            element.attrib.update({"points": head, "fill": colour})
        title = group.find(f"{{{SVG_NS}}}title")
        source, target = node_state.get(pair[0], "start"), node_state.get(pair[1], "end")
        title.text = f"{source} → {target}" + (f": {move.label}" if move and move.label else "")
    labels = root.xpath("//s:g[@class='edge-labels']", namespaces=ns)
    for group in labels:
        for child in list(group):
            group.remove(child)
        for (source_node, target_node), route in routes.items():
            move = by_pair.get((node_state.get(source_node, ""), node_state.get(target_node, "")))
            if move and move.label:
                text = etree.SubElement(group, f"{{{SVG_NS}}}text", {
                    "x": f"{route.label_at.x:.1f}", "y": f"{route.label_at.y + 4:.1f}",
                    "class": "edge-label measure-frequency", "text-anchor": "middle"})
                text.text = move.label if len(move.label) <= LABEL_CHARS else move.label[:LABEL_CHARS - 1] + "…"


def _party(party: Party | None) -> str:
    return "–" if party is None else f"{party.kind} {party.name}"


def _md_cell(value: object) -> str:
    """Make a value safe inside a Markdown table cell: one line, pipes escaped."""
    text = "–" if value is None or value == "" else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _proof_text(definition: Definition) -> str:
    proof = definition.proof_of_completion
    parts = [f"field {proof.field}" if proof.field else "",
             f"{proof.record}" + (f" (in {proof.system})" if proof.system else "") if proof.record else "",
             f"when {proof.condition}" if proof.condition else ""]
    return "; ".join(part for part in parts if part)


def _sla_text(definition: Definition, *, short: bool = False) -> str:
    sla = definition.sla
    if sla is None or not (sla.first_response or sla.resolution):
        return "none set"
    parts = [f"first response {sla.first_response}" if sla.first_response else "",
             f"resolution {sla.resolution}" if sla.resolution else ""]
    text = ", ".join(p for p in parts if p)
    if short:
        return text
    text += " of business time"
    calendar = definition.calendar
    if calendar:
        hours = ", ".join(str(r) for r in calendar.working_hours)
        days = ", ".join(day.value for day in calendar.working_days)
        holidays = ""
        if calendar.holidays:
            region = calendar.holidays.country + (f"-{calendar.holidays.subdivision}"
                                                  if calendar.holidays.subdivision else "")
            holidays = f", public holidays of {region}"
        text += f" on the {calendar.name} calendar ({calendar.timezone}, {hours}, {days}{holidays})"
    if sla.pause_in:
        text += f"; the clock stops in {', '.join(sla.pause_in)}"
    return text
