"""Write the as-is map as a Mermaid flowchart, for wikis and Markdown that render Mermaid.

Activity names never become ids: nodes are n0, n1, ... and the names go into quoted
labels, with Mermaid's entity codes for the characters its parser would trip on.
"""

from __future__ import annotations

from backoffice.mapping.model import ProcessMap, StepKind

START_ID = "startNode"
END_ID = "endNode"  # "end" alone is a Mermaid keyword
UNASSIGNED = "unassigned"

# Mermaid reads #name; and #number; as entity codes inside quoted labels.
_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"}
_KIND_CLASS = {StepKind.STRAIGHT_THROUGH: "straight", StepKind.HUMAN: "human", StepKind.APPROVAL: "approval"}


def mermaid_label(text: str) -> str:
    """Return text as a quoted Mermaid label: entity codes for # " < > &, newlines as spaces."""
    cleaned = " ".join(text.split())
    return '"' + "".join(_ENTITIES.get(char, char) for char in cleaned) + '"'


def render_mermaid(process_map: ProcessMap) -> str:
    """Render the map as a Mermaid `flowchart LR` with one subgraph per lane.

    Args:
        process_map: the as-is map.

    Returns:
        Mermaid source: a start and an end node, one node per activity (ids n0, n1, ...)
        inside its lane's subgraph, and one edge per path labelled with its count; the
        start and end edges are labelled with the number of cases.
    """
    ids = {activity.name: f"n{i}" for i, activity in enumerate(process_map.activities)}
    lines = ["flowchart LR", f'    {START_ID}(("start"))', f'    {END_ID}((("end")))']

    lanes: dict[str | None, list[str]] = {}
    for activity in process_map.activities:
        lanes.setdefault(activity.lane, []).append(activity.name)
    # Unassigned activities last, as on the SVG map.
    for index, lane in enumerate(sorted(lanes, key=lambda key: key is None)):
        title = f"{process_map.lanes.value}: {lane if lane is not None else UNASSIGNED}"
        lines.append(f"    subgraph lane{index} [{mermaid_label(title)}]")
        for name in lanes[lane]:
            lines.append(f"        {ids[name]}[{mermaid_label(name)}]")
        lines.append("    end")

    for start in process_map.summary.start_activities:
        if start.activity in ids:
            lines.append(f"    {START_ID} -->|{start.cases}| {ids[start.activity]}")
    for edge in process_map.edges:
        if edge.source in ids and edge.target in ids:
            lines.append(f"    {ids[edge.source]} -->|{edge.count}| {ids[edge.target]}")
    for end in process_map.summary.end_activities:
        if end.activity in ids:
            lines.append(f"    {ids[end.activity]} -->|{end.cases}| {END_ID}")

    lines += ["    classDef straight fill:#e3f4e8,stroke:#2f855a",
              "    classDef human fill:#e6eefb,stroke:#2c5fa8",
              "    classDef approval fill:#fdf0d8,stroke:#b7791f"]
    for kind, css in _KIND_CLASS.items():
        members = [ids[a.name] for a in process_map.activities if a.kind is kind]
        if members:
            lines.append(f"    class {','.join(members)} {css}")
    return "\n".join(lines) + "\n"
