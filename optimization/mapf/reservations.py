"""Space-time reservations of planned paths, with removal for replanning."""

from __future__ import annotations


class Reservations:
    """Cells and moves claimed by planned agents; a path is a flat cell per time step."""

    def __init__(self, cells: int) -> None:
        self.n = cells
        self.vertex: dict[int, int] = {}  # t * n + cell -> agent
        self.edge: set[int] = set()  # ((t - 1) * n + from) * n + to
        self.rest_from: dict[int, int] = {}  # goal cell -> time from which its agent stays
        self.visits: dict[int, set[int]] = {}  # cell -> times any planned agent stands there
        self.lengths: dict[int, int] = {}  # agent -> path length

    def add(self, agent: int, path: list[int]) -> None:
        """Reserve an agent's path and its goal from its arrival on."""
        n = self.n
        for t, cell in enumerate(path):
            self.vertex[t * n + cell] = agent
            self.visits.setdefault(cell, set()).add(t)
            if t:
                self.edge.add(((t - 1) * n + path[t - 1]) * n + cell)
        self.rest_from[path[-1]] = len(path) - 1
        self.lengths[agent] = len(path)

    def remove(self, agent: int, path: list[int]) -> None:
        """Release a path added before."""
        n = self.n
        for t, cell in enumerate(path):
            del self.vertex[t * n + cell]
            self.visits[cell].discard(t)
            if t:
                self.edge.discard(((t - 1) * n + path[t - 1]) * n + cell)
        del self.rest_from[path[-1]]
        del self.lengths[agent]

    def last_visit(self, cell: int) -> int:
        """Last time any planned agent stands on the cell (-1 if never)."""
        return max(self.visits.get(cell, ()), default=-1)

    def horizon(self) -> int:
        """Length of the longest planned path."""
        return max(self.lengths.values(), default=0)
