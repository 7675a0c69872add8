"""Place the as-is map on a page: layers left to right, lanes as horizontal bands.

igraph's Sugiyama layout decides the layers (breaking cycles at the rarest paths) and
the order of nodes within a layer; the dummy vertices it adds on long paths become the
bend points of those paths. We then stack each layer's nodes inside their lane band, so
a reader sees who does what as well as what follows what. Nothing here draws: the
coordinates serve the SVG map and the BPMN diagram alike.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

import igraph

from backoffice.mapping.model import Edge, ProcessMap

NODE_WIDTH = 168.0
NODE_HEIGHT = 68.0
TERMINAL_SIZE = 30.0  # the start and end circles
LANE_LABEL_WIDTH = 150.0
MARGIN = 24.0
LANE_PAD_TOP = 44.0  # room for a self-loop and its label above a node
LANE_PAD_BOTTOM = 22.0
NODE_GAP = 26.0
DUMMY_SLOT = 9.0  # vertical room a long path takes when it passes through a layer
UNASSIGNED = "unassigned"
# The band of activities no single lane does most of (see Activity.shared); a key no lane
# value can take, since lane values come from text columns and never hold a NUL.
SHARED_LANE = "\x00shared"
SHARED_LABEL = "shared"


class NodeKind(StrEnum):
    """What a box on the map stands for."""

    ACTIVITY = "activity"
    START = "start"
    END = "end"


class RouteShape(StrEnum):
    """How a path runs: with the flow, against it (a loop back), or onto itself."""

    FORWARD = "forward"
    BACKWARD = "backward"
    SELF_LOOP = "self_loop"


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class NodeBox:
    """A placed node; x and y are its top-left corner."""

    id: str
    kind: NodeKind
    activity: str | None  # None for the virtual start and end
    lane: str | None
    layer: int
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> Point:
        return Point(self.x + self.width / 2, self.y + self.height / 2)


@dataclass(frozen=True)
class LaneBand:
    """A horizontal band holding the nodes of one lane value."""

    key: str | None  # the lane value; None for activities without one
    label: str
    y: float
    height: float


@dataclass(frozen=True)
class EdgeRoute:
    """A placed path from one node to another.

    `points` run from the source port to the target port through the bend points; for
    a self-loop they are the four points of one cubic curve. `edge` is None for the
    virtual paths from the start and to the end, whose `count` is the number of cases.
    """

    source: str
    target: str
    shape: RouteShape
    points: tuple[Point, ...]
    label_at: Point
    count: int
    edge: Edge | None


@dataclass(frozen=True)
class MapLayout:
    """Where everything goes, in pixels, with the origin at the top left."""

    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    lanes: tuple[LaneBand, ...]
    edges: tuple[EdgeRoute, ...]
    layer_x: tuple[tuple[float, float], ...]  # left and right of each layer's column
    omitted_edges: int
    label_width: float = LANE_LABEL_WIDTH  # the column of lane names at the left; 0 when there is none

    def node_for(self, activity: str) -> NodeBox:
        """Return the box of an activity; raise KeyError when it is not on the map."""
        for node in self.nodes:
            if node.kind is NodeKind.ACTIVITY and node.activity == activity:
                return node
        raise KeyError(activity)

    def node_by_id(self, node_id: str) -> NodeBox:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


@dataclass
class _Slot:
    """Something that takes vertical room in one layer of one lane: a node or a bend."""

    order: float
    height: float
    node: int | None = None  # vertex index
    bend: tuple[int, int] | None = None  # (route index, bend index)
    center_y: float = 0.0


def layout_map(process_map: ProcessMap, *, max_edges: int | None = None,
               layer_gap: float = 112.0, node_width: float = NODE_WIDTH,
               label_width: float = LANE_LABEL_WIDTH) -> MapLayout:
    """Lay out the map as swimlanes: layers flow left to right, lanes are horizontal bands.

    Args:
        process_map: the as-is map.
        max_edges: keep only this many paths, the most frequent ones; None keeps all that
            the analysis gave.
        layer_gap: horizontal room between two layers, for arrows and their labels.
        node_width: how wide an activity's box is.
        label_width: how wide the column of lane names is; 0 leaves it out (a map without lanes).

    Returns:
        A MapLayout with a box per activity plus a virtual start and end node, a band per
        lane and a route per path (self-loops drawn as a small loop above the node).
    """
    names = [activity.name for activity in process_map.activities]
    index = {name: i + 2 for i, name in enumerate(names)}  # 0 is start, 1 is end
    kept = sorted(process_map.edges, key=lambda e: -e.count)
    if max_edges is not None:
        kept = kept[:max(max_edges, 0)]
    kept = [e for e in kept if e.source in index and e.target in index]
    omitted = len(process_map.edges) - len(kept)

    # Every route: (source vertex, target vertex, count, map edge or None).
    routes: list[tuple[int, int, int, Edge | None]] = [(index[e.source], index[e.target], e.count, e)
                                                       for e in kept]
    routes += [(0, index[s.activity], s.cases, None)
               for s in process_map.summary.start_activities if s.activity in index]
    routes += [(index[s.activity], 1, s.cases, None)
               for s in process_map.summary.end_activities if s.activity in index]
    drawn = [i for i, r in enumerate(routes) if r[0] != r[1]]

    vertex_count = len(names) + 2
    layers = _layers(vertex_count, [routes[i] for i in drawn])
    graph = igraph.Graph(n=vertex_count, edges=[routes[i][:2] for i in drawn], directed=True)
    placed, extended = graph.layout_sugiyama(layers=layers, weights=[routes[i][2] for i in drawn] or None,
                                             maxiter=200, return_extended_graph=True)
    order = [placed[vertex][0] for vertex in range(vertex_count)]
    # The extended graph chains each long path through dummy vertices, one per layer it
    # crosses (numbered after the real ones); where they sit are the path's bend points.
    dummies: dict[int, set[int]] = defaultdict(set)
    for piece in extended.es:
        dummies[piece["_original_eid"]].update(v for v in piece.tuple if v >= vertex_count)
    bends: dict[int, list[tuple[float, int]]] = {}
    for edge_id, route_index in enumerate(drawn):
        source, target = routes[route_index][:2]
        step = 1 if layers[target] > layers[source] else -1
        bends[route_index] = sorted(((placed[v][0], round(placed[v][1])) for v in dummies[edge_id]),
                                    key=lambda b: step * b[1])

    lane_of = _lanes_of_vertices(process_map, index)
    lane_keys = _lane_order(process_map, lane_of, layers)

    # Gather what takes room in each (lane, layer), then stack it.
    cells: dict[tuple[str | None, int], list[_Slot]] = defaultdict(list)
    for vertex in range(vertex_count):
        height = NODE_HEIGHT if vertex >= 2 else TERMINAL_SIZE
        cells[lane_of[vertex], layers[vertex]].append(_Slot(order[vertex], height, node=vertex))
    for route_index, points in bends.items():
        source, target = routes[route_index][:2]
        for k, (x, layer) in enumerate(points):
            # A long path stays in its source's lane for the first half, then moves over.
            lane = lane_of[source] if k < len(points) / 2 else lane_of[target]
            cells[lane, layer].append(_Slot(x, DUMMY_SLOT, bend=(route_index, k)))

    layer_count = max(layers) + 1
    lane_bands: list[LaneBand] = []
    top = MARGIN
    for key in lane_keys:
        stack_heights = [_stack_height(cells.get((key, layer), [])) for layer in range(layer_count)]
        height = max([NODE_HEIGHT, *stack_heights]) + LANE_PAD_TOP + LANE_PAD_BOTTOM
        for layer in range(layer_count):
            slots = sorted(cells.get((key, layer), []), key=lambda s: s.order)
            y = top + LANE_PAD_TOP + (height - LANE_PAD_TOP - LANE_PAD_BOTTOM - stack_heights[layer]) / 2
            for slot in slots:
                slot.center_y = y + slot.height / 2
                y += slot.height + _gap_after(slot)
        label = UNASSIGNED if key is None else SHARED_LABEL if key == SHARED_LANE else key
        lane_bands.append(LaneBand(key=key, label=label, y=top, height=height))
        top += height

    columns = _columns(layers, layer_count, layer_gap, node_width, label_width)
    nodes: list[NodeBox] = []
    bend_points: dict[tuple[int, int], Point] = {}
    for (_, layer), slots in cells.items():
        left, right = columns[layer]
        for slot in slots:
            if slot.bend is not None:
                bend_points[slot.bend] = Point((left + right) / 2, slot.center_y)
                continue
            vertex = slot.node
            assert vertex is not None
            size = node_width if vertex >= 2 else TERMINAL_SIZE
            nodes.append(NodeBox(
                id=_node_id(vertex), kind=(NodeKind.START, NodeKind.END)[vertex] if vertex < 2 else NodeKind.ACTIVITY,
                activity=names[vertex - 2] if vertex >= 2 else None, lane=lane_of[vertex], layer=layer,
                x=(left + right - size) / 2, y=slot.center_y - slot.height / 2, width=size, height=slot.height))
    # Start first, then activities in the map's order, end last: a stable reading order.
    by_vertex = {_vertex_of(node.id): node for node in nodes}
    nodes = [by_vertex[v] for v in (0, *range(2, vertex_count), 1)]

    placed_routes = _route(routes, bends, bend_points, by_vertex, layers)
    width = columns[-1][1] + MARGIN + layer_gap / 2
    return MapLayout(width=width, height=top + MARGIN, nodes=tuple(nodes), lanes=tuple(lane_bands),
                     edges=tuple(placed_routes), layer_x=tuple(columns), omitted_edges=omitted,
                     label_width=label_width)


def _layers(vertex_count: int, routes: list[tuple[int, int, int, Edge | None]]) -> list[int]:
    """Return a layer per vertex: start first, end last, every other path forward if it can.

    A depth-first walk from the start, taking the busiest paths first, finds the loops:
    a path back to an activity still on the walk is rework, drawn against the flow. The
    rest form a DAG, layered by longest path, so each step sits right after the latest
    step that leads to it. (igraph's own cycle breaking minimises the weight of reversed
    paths, but on a busy log it happily puts the last step first; process order reads
    better.)
    """
    outgoing: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for source, target, count, _ in routes:
        if source != target:
            outgoing[source].append((-count, target))
    for targets in outgoing.values():
        targets.sort()
    back: set[tuple[int, int]] = set()
    state = [0] * vertex_count  # 0 new, 1 on the walk, 2 done
    busiest = sorted(range(2, vertex_count), key=lambda v: sum(c for c, _ in outgoing[v]))
    for root in [0, *busiest, 1]:
        if state[root]:
            continue
        stack = [(root, iter(outgoing[root]))]
        state[root] = 1
        while stack:
            vertex, children = stack[-1]
            for _, child in children:
                if state[child] == 1:
                    back.add((vertex, child))
                elif state[child] == 0:
                    state[child] = 1
                    stack.append((child, iter(outgoing[child])))
                    break
            else:
                state[vertex] = 2
                stack.pop()
    preds: dict[int, list[int]] = defaultdict(list)
    for source, targets in outgoing.items():
        for _, target in targets:
            if (source, target) not in back:
                preds[target].append(source)
    layers = [-1] * vertex_count
    order = _topological(vertex_count, preds)
    for vertex in order:
        # A step nothing leads to is still after the start (layer 0), never level with it.
        layers[vertex] = max((layers[p] + 1 for p in preds[vertex]), default=0 if vertex < 2 else 1)
    # A step nothing leads to (its way in is hidden at this level of detail, or is a loop
    # back) would sit in the first layer, far from what it leads to, its paths crossing the
    # map: it goes right before the earliest step it leads to instead.
    succs: dict[int, list[int]] = defaultdict(list)
    for target, sources in preds.items():
        for source in sources:
            succs[source].append(target)
    for vertex in reversed(order):
        if vertex >= 2 and not preds[vertex] and succs[vertex]:
            layers[vertex] = max(layers[vertex], min(layers[s] for s in succs[vertex]) - 1)
    inner = layers[2:] or [0]
    layers[0] = min(inner) - 1
    layers[1] = max(inner) + 1
    # Close the gaps that moving start and end, or isolated activities, leave behind.
    used = sorted(set(layers))
    rank = {layer: i for i, layer in enumerate(used)}
    return [rank[layer] for layer in layers]


def _topological(vertex_count: int, preds: dict[int, list[int]]) -> list[int]:
    """Return the vertices so that each comes after all its predecessors (Kahn's algorithm)."""
    waiting = {v: len(set(preds[v])) for v in range(vertex_count)}
    succs: dict[int, set[int]] = defaultdict(set)
    for target, sources in preds.items():
        for source in sources:
            succs[source].add(target)
    ready = [v for v, n in waiting.items() if n == 0]
    result = []
    while ready:
        vertex = ready.pop()
        result.append(vertex)
        for child in succs[vertex]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return result


def _lanes_of_vertices(process_map: ProcessMap, index: dict[str, int]) -> list[str | None]:
    """Return the lane of each vertex; start and end join the lane of their busiest activity.

    An activity that no lane does most of sits in the shared band, not in the lane that
    happens to do a little more of it than the others.
    """
    lanes: list[str | None] = [None, None] + [SHARED_LANE if getattr(a, "shared", False) else a.lane
                                               for a in process_map.activities]
    for vertex, counts in ((0, process_map.summary.start_activities), (1, process_map.summary.end_activities)):
        known = [c for c in counts if c.activity in index]
        if known:
            lanes[vertex] = lanes[index[max(known, key=lambda c: c.cases).activity]]
        elif len(lanes) > 2:
            lanes[vertex] = lanes[2]
    return lanes


def _lane_order(process_map: ProcessMap, lane_of: list[str | None], layers: list[int]) -> list[str | None]:
    """Order lanes by where their work starts in the flow, then by volume; shared, then unassigned, last."""
    first_layer: dict[str | None, int] = {}
    volume: dict[str | None, int] = defaultdict(int)
    for vertex, lane in enumerate(lane_of):
        first_layer[lane] = min(first_layer.get(lane, layers[vertex]), layers[vertex])
        if vertex >= 2:
            volume[lane] += process_map.activities[vertex - 2].events
    return sorted(first_layer, key=lambda lane: (lane is None, lane == SHARED_LANE, first_layer[lane],
                                                 -volume[lane], lane or ""))


def _gap_after(slot: _Slot) -> float:
    return NODE_GAP if slot.node is not None else 2.0


def _stack_height(slots: list[_Slot]) -> float:
    if not slots:
        return 0.0
    ordered = sorted(slots, key=lambda s: s.order)
    return sum(s.height + _gap_after(s) for s in ordered) - _gap_after(ordered[-1])


def _columns(layers: list[int], layer_count: int, layer_gap: float, node_width: float,
             label_width: float) -> list[tuple[float, float]]:
    """Return the left and right x of each layer; layers holding only start or end are narrow."""
    wide = {layer for vertex, layer in enumerate(layers) if vertex >= 2}
    columns = []
    x = MARGIN + label_width + layer_gap / 2
    for layer in range(layer_count):
        width = node_width if layer in wide else TERMINAL_SIZE
        columns.append((x, x + width))
        x += width + layer_gap
    return columns


def _node_id(vertex: int) -> str:
    return ("start", "end")[vertex] if vertex < 2 else f"n{vertex - 2}"


def _vertex_of(node_id: str) -> int:
    terminals = {"start": 0, "end": 1}
    return terminals[node_id] if node_id in terminals else int(node_id[1:]) + 2


def _route(routes: list[tuple[int, int, int, Edge | None]], bends: dict[int, list[tuple[float, int]]],
           bend_points: dict[tuple[int, int], Point], by_vertex: dict[int, NodeBox],
           layers: list[int]) -> list[EdgeRoute]:
    """Connect nodes through their bend points, spreading the ports along each side.

    Forward paths leave on the right and arrive on the left; loops back leave on the
    left and arrive on the right. Ports on a side are ordered by where the path goes
    next, so arrows fanning out of a box do not cross at its edge.
    """
    middles: dict[int, list[Point]] = {i: [bend_points[i, k] for k in range(len(b))] for i, b in bends.items()}
    # (vertex, side) -> [(neighbour y, route index, is_source)]
    sides: dict[tuple[int, str], list[tuple[float, int, bool]]] = defaultdict(list)
    for i, (source, target, _, _) in enumerate(routes):
        if source == target:
            continue
        forward = layers[target] >= layers[source]
        first = middles[i][0] if middles[i] else by_vertex[target].center
        last = middles[i][-1] if middles[i] else by_vertex[source].center
        sides[source, "right" if forward else "left"].append((first.y, i, True))
        sides[target, "left" if forward else "right"].append((last.y, i, False))

    ports: dict[tuple[int, bool], Point] = {}
    for (vertex, side), entries in sides.items():
        node = by_vertex[vertex]
        entries.sort()
        x = node.x + node.width if side == "right" else node.x
        for k, (_, route_index, is_source) in enumerate(entries):
            if node.kind is NodeKind.ACTIVITY and len(entries) > 1:
                y = node.y + node.height * (0.2 + 0.6 * k / (len(entries) - 1))
            else:
                y = node.center.y
            ports[route_index, is_source] = Point(x, y)

    placed = []
    for i, (source, target, count, edge) in enumerate(routes):
        source_node, target_node = by_vertex[source], by_vertex[target]
        if source == target:
            points = _self_loop(source_node)
            label_at = Point((points[1].x + points[2].x) / 2, points[1].y - 4)
            shape = RouteShape.SELF_LOOP
        else:
            points = (ports[i, True], *middles[i], ports[i, False])
            middle = (len(points) - 2) // 2
            a, b = points[middle], points[middle + 1]
            label_at = Point((a.x + b.x) / 2, (a.y + b.y) / 2)
            shape = RouteShape.FORWARD if layers[target] >= layers[source] else RouteShape.BACKWARD
        placed.append(EdgeRoute(source=source_node.id, target=target_node.id, shape=shape,
                                points=points, label_at=label_at, count=count, edge=edge))
    return placed


def _self_loop(node: NodeBox) -> tuple[Point, ...]:
    right = node.x + node.width
    return (Point(right - 40, node.y), Point(right - 40, node.y - 26),
            Point(right - 12, node.y - 26), Point(right - 12, node.y))
