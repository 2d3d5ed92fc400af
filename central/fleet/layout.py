"""The site's AGV grid: lanes, stations (pick, pack, dock, reserve) and homes with chargers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimization.mapf.grid import Grid

LANE, WALL = ".", "#"
PICK, PACK, DOCK, RESERVE, HOME = "P", "K", "D", "R", "H"
STATION_KINDS = (PICK, PACK, DOCK, RESERVE, HOME)


@dataclass(frozen=True)
class Layout:
    """A grid map: every free cell is a node `c{x}_{y}` at (x, y) * cell_m metres."""

    rows: tuple[str, ...]
    cell_m: float = 1.0
    grid: Grid = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        width = max(len(r) for r in self.rows)
        free = np.array(
            [[(ch != WALL) for ch in r.ljust(width, WALL)] for r in self.rows], dtype=bool
        )
        object.__setattr__(self, "grid", Grid(free))

    def kind(self, cell: int) -> str:
        """The map character of a cell."""
        x, y = self.grid.cell(cell)
        return self.rows[y][x]

    def cells(self, kind: str) -> list[int]:
        """Cells of one kind (stations or homes), in reading order."""
        return [
            self.grid.index((x, y))
            for y, row in enumerate(self.rows)
            for x, ch in enumerate(row)
            if ch == kind
        ]

    def node_id(self, cell: int) -> str:
        """The VDA 5050 nodeId of a cell."""
        x, y = self.grid.cell(cell)
        return f"c{x}_{y}"

    def cell_of(self, node_id: str) -> int:
        """The cell of a nodeId; KeyError if it is not one of ours."""
        try:
            x, y = (int(p) for p in node_id[1:].split("_"))
        except ValueError as exc:
            raise KeyError(node_id) from exc
        if not node_id.startswith("c") or not self.grid.is_free((x, y)):
            raise KeyError(node_id)
        return self.grid.index((x, y))

    def position(self, cell: int) -> tuple[float, float]:
        """(x, y) in metres."""
        x, y = self.grid.cell(cell)
        return (x * self.cell_m, y * self.cell_m)


def generate_layout(homes: int, width: int = 25, stations: int = 4, lane_rows: int = 2) -> Layout:
    """A floor with pick stations on top, pack stations below, docks left, reserve right, and
    strips of home bays (dead ends with chargers) between lane blocks, cut by two-lane aisles."""
    inner = width - 2

    def aisle(x: int) -> bool:
        return (x - 1) % 8 in (0, 1) or x >= width - 3

    slots = [x for x in range(1, width - 1) if not aisle(x) and (x - 1) % 8 in (3, 5)]
    per_strip = 2 * len(slots)
    strips = max(1, -(-homes // per_strip))
    top, bottom = [WALL] * width, [WALL] * width
    step = max(2, inner // max(1, stations))
    for i in range(stations):
        x = 2 + i * step
        if x < width - 1:
            top[x], bottom[x] = PICK, PACK
    rows: list[list[str]] = [top]
    placed = 0
    for _ in range(strips):
        rows += [[WALL] + [LANE] * inner + [WALL] for _ in range(lane_rows)]
        strip = [
            [WALL] + [LANE if aisle(x) else WALL for x in range(1, width - 1)] + [WALL]
            for _ in range(3)
        ]
        for r in (0, 2):
            for x in slots:
                if placed < homes:
                    strip[r][x] = HOME
                    placed += 1
        rows += strip
    rows += [[WALL] + [LANE] * inner + [WALL] for _ in range(lane_rows)]
    rows.append(bottom)
    lane_ys = [y for y, r in enumerate(rows) if all(ch == LANE for ch in r[1:-1])]
    for y in lane_ys[: stations * 2 : 2]:
        rows[y][0], rows[y][width - 1] = DOCK, RESERVE
    return Layout(tuple("".join(r) for r in rows))
