"""Distances in parallel-aisle and graph layouts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimization.layout import GraphLayout, ParallelAisleLayout


def test_walking_between_aisles_uses_the_cheaper_cross_aisle():
    layout = ParallelAisleLayout.single_block(num_aisles=3, aisle_length=10, aisle_spacing=2)
    dist = layout.distance_matrix([(0, 2.0), (2, 3.0), (0, 9.0), (1, 8.0)])
    assert dist[0, 1] == 4 + 2 + 3  # both near the front: via the bottom
    assert dist[2, 3] == 2 + 1 + 2  # both near the back: via the top
    assert dist[0, 2] == 7  # same aisle: straight


def test_a_middle_cross_aisle_shortens_the_walk():
    single = ParallelAisleLayout.single_block(2, 20)
    two = ParallelAisleLayout.multi_block(2, (0, 10, 20))
    a, b = (0, 9.0), (1, 11.0)
    assert single.distance_matrix([a], [b])[0, 0] == 1 + 9 + 11
    assert two.distance_matrix([a], [b])[0, 0] == 1 + 1 + 1


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(0, 30, allow_nan=False)), min_size=3, max_size=8
    )
)
def test_distances_form_a_metric(points):
    layout = ParallelAisleLayout.multi_block(6, (0, 12, 30), aisle_spacing=2.5)
    d = layout.distance_matrix(points)
    assert np.allclose(d, d.T)
    assert np.allclose(np.diag(d), 0)
    # triangle inequality: no detour through a third point is shorter
    assert np.all(d[:, None, :] <= d[:, :, None] + d[None, :, :] + 1e-9)


def test_graph_layout_shortest_paths_follow_the_edges():
    coords = np.array([[0, 0], [3, 0], [3, 4], [10, 10]], dtype=float)
    graph = GraphLayout(coords, ((0, 1), (1, 2), (0, 2)))
    d = graph.distance_matrix()
    assert d[0, 2] == pytest.approx(5.0)  # the direct edge beats 3 + 4
    assert d[0, 1] == pytest.approx(3.0)
    assert np.isinf(d[0, 3])  # no edge reaches node 3


def test_invalid_layouts_are_rejected():
    with pytest.raises(ValueError):
        ParallelAisleLayout(3, (0.0,))
    with pytest.raises(ValueError):
        ParallelAisleLayout(3, (0.0, 10.0, 5.0))
    with pytest.raises(ValueError):
        ParallelAisleLayout.single_block(3, 10).check((3, 1.0))
