"""The Mermaid flowchart: sanitised ids, quoted labels, lanes as subgraphs, counted edges."""

from __future__ import annotations

import re

from backoffice.mapping.mermaid import END_ID, START_ID, mermaid_label, render_mermaid

from .map_fixtures import CHECK, domestic_declarations, large_map, small_map

NODE = re.compile(r'^\s+(n\d+)\["((?:[^"]|#quot;)*)"\]$')
EDGE = re.compile(r"^\s+(\w+) -->\|(\d+)\| (\w+)$")


def nodes(text: str) -> dict[str, str]:
    return {m[1]: m[2] for line in text.splitlines() if (m := NODE.match(line))}


def edges(text: str) -> list[tuple[str, int, str]]:
    return [(m[1], int(m[2]), m[3]) for line in text.splitlines() if (m := EDGE.match(line))]


def test_it_is_a_left_to_right_flowchart():
    assert render_mermaid(small_map()).startswith("flowchart LR\n")


def test_one_node_per_activity_with_sanitised_ids():
    process_map = small_map()
    found = nodes(render_mermaid(process_map))
    assert sorted(found) == sorted(f"n{i}" for i in range(len(process_map.activities)))
    assert all(re.fullmatch(r"n\d+", node_id) for node_id in found)


def test_one_edge_per_path_labelled_with_its_count_plus_start_and_end_edges():
    process_map = small_map()
    text = render_mermaid(process_map)
    ids = {a.name: f"n{i}" for i, a in enumerate(process_map.activities)}
    inner = [(s, c, t) for s, c, t in edges(text) if START_ID not in (s, t) and END_ID not in (s, t)]
    assert sorted(inner) == sorted((ids[e.source], e.count, ids[e.target]) for e in process_map.edges)
    assert (START_ID, 10, ids["Submit"]) in edges(text)
    assert (ids["Pay"], 7, END_ID) in edges(text)


def test_labels_are_quoted_with_entity_codes_for_markup_characters():
    found = nodes(render_mermaid(small_map()))
    assert found["n1"] == "Check #lt;docs#gt; #amp; #quot;receipts#quot;"
    assert CHECK not in render_mermaid(small_map())
    assert mermaid_label('50# "a"\nb') == '"50#35; #quot;a#quot; b"'


def test_each_lane_is_a_subgraph_holding_its_activities():
    text = render_mermaid(small_map(unassigned=True))
    subgraphs = re.findall(r'subgraph (lane\d+) \["([^"]*)"\]\n((?:\s+n\d+\[.*\]\n)+)\s+end', text)
    assert [title for _, title, _ in subgraphs] == ["role: Clerk", "role: Manager", "role: unassigned"]
    members = {title: re.findall(r"(n\d+)\[", body) for _, title, body in subgraphs}
    assert members["role: Manager"] == ["n3"]
    assert members["role: unassigned"] == ["n5"]


def test_every_edge_refers_to_a_declared_node():
    text = render_mermaid(large_map())
    declared = set(nodes(text)) | {START_ID, END_ID}
    assert all(s in declared and t in declared for s, _, t in edges(text))
    assert len(edges(text)) == len(large_map().edges) + 4


def test_the_real_log_gives_one_node_per_activity_and_one_edge_per_path():
    process_map = domestic_declarations()
    text = render_mermaid(process_map)
    assert len(nodes(text)) == len(process_map.activities)
    inner = [e for e in edges(text) if START_ID not in (e[0], e[2]) and END_ID not in (e[0], e[2])]
    assert len(inner) == len(process_map.edges)
