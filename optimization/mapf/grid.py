"""Grid maps and scenarios in the MovingAI formats, and grid distances."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

Cell = tuple[int, int]  # (x, y) = (column, row), as in MovingAI files
PASSABLE = frozenset(".GS")


@dataclass(frozen=True)
class Grid:
    """A 4-connected grid; `free[y, x]` is True where an agent may stand."""

    free: np.ndarray
    neighbours: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        h, w = self.free.shape
        flat = self.free.ravel()
        nbrs = []
        for idx in range(h * w):
            if not flat[idx]:
                nbrs.append(())
                continue
            y, x = divmod(idx, w)
            out = []
            for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if 0 <= nx < w and 0 <= ny < h and flat[ny * w + nx]:
                    out.append(ny * w + nx)
            nbrs.append(tuple(out))
        object.__setattr__(self, "neighbours", tuple(nbrs))

    @property
    def width(self) -> int:
        """Number of columns."""
        return int(self.free.shape[1])

    @property
    def height(self) -> int:
        """Number of rows."""
        return int(self.free.shape[0])

    def index(self, cell: Cell) -> int:
        """Flat index of an (x, y) cell."""
        x, y = cell
        return y * self.width + x

    def cell(self, index: int) -> Cell:
        """(x, y) of a flat index."""
        y, x = divmod(index, self.width)
        return (x, y)

    def is_free(self, cell: Cell) -> bool:
        """True if the cell is inside the map and passable."""
        x, y = cell
        return 0 <= x < self.width and 0 <= y < self.height and bool(self.free[y, x])

    def distances_from(self, source: int) -> np.ndarray:
        """Breadth-first distances (in moves) from one flat index; -1 where unreachable."""
        dist = [-1] * (self.width * self.height)
        dist[source] = 0
        queue = deque([source])
        nbrs = self.neighbours
        while queue:
            u = queue.popleft()
            du = dist[u] + 1
            for v in nbrs[u]:
                if dist[v] < 0:
                    dist[v] = du
                    queue.append(v)
        return np.asarray(dist, dtype=np.int32)


def parse_map(text: str) -> Grid:
    """Parse a MovingAI .map file's text ('.', 'G', 'S' passable; anything else blocked)."""
    lines = text.splitlines()
    header: dict[str, str] = {}
    for i, line in enumerate(lines):
        if line.strip() == "map":
            rows = [r.rstrip("\r\n") for r in lines[i + 1 :]]
            break
        parts = line.split()
        if len(parts) == 2:
            header[parts[0]] = parts[1]
    else:
        raise ValueError("not a MovingAI map: no 'map' line")
    h, w = int(header["height"]), int(header["width"])
    rows = rows[:h]
    if len(rows) < h or any(len(r) < w for r in rows):
        raise ValueError("map rows are shorter than the header says")
    free = np.array([[ch in PASSABLE for ch in row[:w]] for row in rows], dtype=bool)
    return Grid(free)


@dataclass(frozen=True)
class Task:
    """One agent's start and goal cells."""

    start: Cell
    goal: Cell


def parse_scen(text: str) -> list[Task]:
    """Parse a MovingAI .scen file's text into start/goal pairs, in file order."""
    tasks = []
    for line in text.splitlines():
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) < 8 or parts[0].lower() == "version":
            continue
        sx, sy, gx, gy = (int(p) for p in parts[4:8])
        tasks.append(Task((sx, sy), (gx, gy)))
    return tasks


def warehouse_grid(
    width: int = 161,
    height: int = 63,
    shelf_length: int = 10,
    shelf_depth: int = 2,
    corridor: int = 1,
    gap: int = 1,
    margin: int = 20,
) -> Grid:
    """A warehouse floor: blocks of shelves between narrow lanes, open margins left and right.

    The defaults reproduce the shape of MovingAI's warehouse-10-20-10-2-1 map: 161 x 63 cells,
    20 rows of 10 x 2 shelves with one-cell lanes, free margins (the stations) at both ends.
    """
    free = np.ones((height, width), dtype=bool)
    for y in range(2, height - 2 - shelf_depth + 1, shelf_depth + corridor):
        x = margin
        while x + shelf_length <= width - margin:
            free[y : y + shelf_depth, x : x + shelf_length] = False
            x += shelf_length + gap
    return Grid(free)


def random_tasks(grid: Grid, count: int, seed: int = 0) -> list[Task]:
    """Distinct random starts and distinct random goals, all in one connected area."""
    rng = np.random.default_rng(seed)
    cells = np.flatnonzero(grid.free.ravel())
    if count > len(cells):
        raise ValueError("more agents than free cells")
    starts = rng.choice(cells, size=count, replace=False)
    goals = rng.choice(cells, size=count, replace=False)
    return [Task(grid.cell(int(s)), grid.cell(int(g))) for s, g in zip(starts, goals, strict=True)]
