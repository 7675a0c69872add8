"""Place the labels of a map's paths where they touch no box and no other label.

Each label tries spots along its own path, from the middle outwards, on the line and
just beside it; it takes the first spot where its box is clear of every box, badge,
the lane names and the labels already placed. Busier paths choose first, so the main
flow is always labelled; a label that finds no room is left out, and its path keeps the
numbers in its tooltip. Boxes are measured with `text_width`, which errs wide.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from backoffice.mapping.layout import EdgeRoute, Point, RouteShape
from backoffice.mapping.text_width import ASCENT, LINE_HEIGHT, text_width

LABEL_SIZE = 11.0  # px, the size the SVG draws path labels at
CLEARANCE = 2.0  # px kept free around every label
ALONG = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.12, 0.88)  # where along a path to try, by arc length
_CELL = 80.0


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def overlaps(self, other: Rect) -> bool:
        return (self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom)

    def grown(self, by: float) -> Rect:
        return Rect(self.x - by, self.y - by, self.width + 2 * by, self.height + 2 * by)


@dataclass(frozen=True)
class PlacedLabel:
    """A label's text, its centre x and baseline y (for `text-anchor: middle`), and its box."""

    text: str
    x: float
    baseline: float
    box: Rect


class _Grid:
    """Rectangles bucketed by area, so a test for room looks only at its neighbours."""

    def __init__(self, rects: Iterable[Rect] = ()) -> None:
        self._cells: dict[tuple[int, int], list[Rect]] = defaultdict(list)
        for rect in rects:
            self.add(rect)

    def _keys(self, rect: Rect) -> Iterable[tuple[int, int]]:
        for i in range(math.floor(rect.x / _CELL), math.floor(rect.right / _CELL) + 1):
            for j in range(math.floor(rect.y / _CELL), math.floor(rect.bottom / _CELL) + 1):
                yield i, j

    def add(self, rect: Rect) -> None:
        for key in self._keys(rect):
            self._cells[key].append(rect)

    def clear_of(self, rect: Rect) -> bool:
        return not any(other.overlaps(rect) for key in self._keys(rect) for other in self._cells.get(key, ()))


def label_box(text: str, x: float, center_y: float, size: float = LABEL_SIZE) -> tuple[Rect, float]:
    """Return the box a label centred on (x, center_y) takes, and the baseline to draw it at."""
    width, height = text_width(text, size), LINE_HEIGHT * size
    top = center_y - height / 2
    return Rect(x - width / 2, top, width, height), top + ASCENT * size


def place_labels(routes: Sequence[EdgeRoute], texts: Sequence[str | None], priority: Sequence[float],
                 obstacles: Iterable[Rect], *, bounds: Rect, size: float = LABEL_SIZE) -> dict[int, PlacedLabel]:
    """Place one label per route where it fits, busiest (highest priority) first.

    Args:
        routes: the placed paths.
        texts: the label of each route, or None for a route without one.
        priority: the order of choosing; higher places first.
        obstacles: what labels must not touch: boxes, badges, lane names.
        bounds: labels stay inside this area.
        size: the font size of the labels, in pixels.

    Returns:
        The placed labels by route index; routes whose label found no room are missing.
    """
    grid = _Grid(o.grown(CLEARANCE) for o in obstacles)
    placed: dict[int, PlacedLabel] = {}
    order = sorted((i for i, t in enumerate(texts) if t), key=lambda i: (-priority[i], i))
    for i in order:
        text = texts[i]
        assert text is not None
        for x, y in _spots(routes[i], text_width(text, size), LINE_HEIGHT * size):
            box, baseline = label_box(text, x, y, size)
            inside = (bounds.x <= box.x and box.right <= bounds.right and bounds.y <= box.y
                      and box.bottom <= bounds.bottom)
            if inside and grid.clear_of(box):
                grid.add(box.grown(CLEARANCE))
                placed[i] = PlacedLabel(text=text, x=x, baseline=baseline, box=box)
                break
    return placed


def _spots(route: EdgeRoute, width: float, height: float) -> Iterable[tuple[float, float]]:
    """Yield label centres to try for a route, best first."""
    if route.shape is RouteShape.SELF_LOOP:
        p0, p1, p2, p3 = route.points
        apex_y = p1.y + (p0.y - p1.y) / 4  # a cubic with both inner points at p1.y peaks at 3/4 of the way
        middle = (p1.x + p2.x) / 2
        for dx in (0.0, -width / 2 - 8, width / 2 + 8):
            yield middle + dx, apex_y - height / 2 - 6  # clear of the loop's own stroke
        return
    line = sample_route(route)
    lengths = [0.0]
    for a, b in zip(line, line[1:]):
        lengths.append(lengths[-1] + math.dist((a.x, a.y), (b.x, b.y)))
    total = lengths[-1] or 1.0
    for share in ALONG:
        point = _at(line, lengths, share * total)
        yield point.x, point.y
        yield point.x, point.y - height / 2 - 3
        yield point.x, point.y + height / 2 + 3


def sample_route(route: EdgeRoute, steps: int = 12) -> list[Point]:
    """Return points along the drawn path: each segment is a cubic with horizontal tangents."""
    points = route.points
    line = [points[0]]
    for a, b in zip(points, points[1:]):
        dx = (b.x - a.x) / 2
        c1, c2 = Point(a.x + dx, a.y), Point(b.x - dx, b.y)
        for k in range(1, steps + 1):
            t = k / steps
            u = 1 - t
            line.append(Point(u ** 3 * a.x + 3 * u * u * t * c1.x + 3 * u * t * t * c2.x + t ** 3 * b.x,
                              u ** 3 * a.y + 3 * u * u * t * c1.y + 3 * u * t * t * c2.y + t ** 3 * b.y))
    return line


def _at(line: list[Point], lengths: list[float], distance: float) -> Point:
    for k in range(1, len(line)):
        if lengths[k] >= distance:
            span = lengths[k] - lengths[k - 1] or 1.0
            t = (distance - lengths[k - 1]) / span
            a, b = line[k - 1], line[k]
            return Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
    return line[-1]
