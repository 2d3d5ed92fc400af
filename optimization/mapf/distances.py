"""Breadth-first distance tables for many goals at once, vectorised with numpy."""

from __future__ import annotations

import numpy as np

from optimization.mapf.grid import Grid


def neighbour_array(grid: Grid) -> np.ndarray:
    """(cells, 4) array of each cell's free neighbours, padded with -1."""
    nbrs = np.full((grid.width * grid.height, 4), -1, dtype=np.int64)
    for cell, out in enumerate(grid.neighbours):
        nbrs[cell, : len(out)] = out
    return nbrs


def distance_table(grid: Grid, sources: list[int]) -> np.ndarray:
    """(len(sources), cells) int32 moves from each source to every cell; -1 if unreachable.

    All searches advance one level per numpy step, as arrays of (source, cell) keys.
    """
    n = grid.width * grid.height
    nbrs = neighbour_array(grid)
    dist = np.full(len(sources) * n, -1, dtype=np.int32)
    first = np.empty(len(sources) * n, dtype=np.int64)  # scratch for de-duplication
    keys = np.arange(len(sources), dtype=np.int64) * n + np.asarray(sources, dtype=np.int64)
    dist[keys] = 0
    level = 0
    while keys.size:
        level += 1
        cand = nbrs[keys % n]
        base = (keys - keys % n)[:, None]
        nxt = (base + cand)[cand >= 0]
        nxt = nxt[dist[nxt] < 0]
        order = np.arange(nxt.size, dtype=np.int64)
        first[nxt] = order
        nxt = nxt[first[nxt] == order]  # one copy of each newly reached key
        dist[nxt] = level
        keys = nxt
    return dist.reshape(len(sources), n)
