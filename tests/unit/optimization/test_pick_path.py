"""Picker routing: the exact router against the benchmark's proven optima and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimization.layout import ParallelAisleLayout
from optimization.routing.exact import exact_route
from optimization.routing.heuristics import HEURISTICS
from optimization.routing.problem import PickingProblem, tour_length
from optimization.routing.solve import pick_path
from optimization.routing.sprp_format import parse_sprp

from .sprp_sample import sample

CASES = sample(seeds_per_class=5)  # 48 classes x 5 seeds = 240 instances per layout


@pytest.mark.parametrize("layout", ["single-block", "two-block"])
def test_exact_router_reproduces_every_proven_optimum_in_the_sample(layout):
    assert len(CASES) >= 200
    wrong = []
    for name, instance, single, two in CASES:
        problem = instance.to_problem(layout)
        route = exact_route(problem)
        optimum = single if layout == "single-block" else two
        if route.length != pytest.approx(optimum):
            wrong.append((name, route.length, optimum))
        # the returned order, walked along shortest paths, has the reported length
        assert sorted(route.order) == list(range(len(problem.picks)))
        assert tour_length(problem, route.order) == pytest.approx(route.length)
    assert wrong == []


def _brute_force(problem: PickingProblem) -> float:
    dist = problem.distance_matrix()
    best = np.inf
    for perm in itertools.permutations(range(1, len(problem.picks) + 1)):
        seq = (0, *perm, 0)
        best = min(best, sum(dist[a, b] for a, b in itertools.pairwise(seq)))
    return float(best)


@st.composite
def problems(draw):
    blocks = draw(st.integers(1, 3))
    aisles = draw(st.integers(1, 6))
    cuts = sorted(
        draw(st.lists(st.integers(1, 19), min_size=blocks - 1, max_size=blocks - 1, unique=True))
    )
    layout = ParallelAisleLayout.multi_block(aisles, (0, *cuts, 20), draw(st.sampled_from([1, 3])))
    depot = (draw(st.integers(0, aisles - 1)), float(draw(st.sampled_from(layout.cross_aisles))))
    picks = draw(
        st.lists(
            st.tuples(st.integers(0, aisles - 1), st.integers(0, 20).map(float)),
            min_size=0,
            max_size=6,
        )
    )
    return PickingProblem(layout, depot, tuple(picks))


@settings(max_examples=150, deadline=None)
@given(problems())
def test_exact_router_matches_brute_force_on_random_layouts(problem):
    route = exact_route(problem)
    assert route.length == pytest.approx(_brute_force(problem))
    assert tour_length(problem, route.order) == pytest.approx(route.length)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_heuristics_give_complete_tours_never_shorter_than_optimal(problem):
    if problem.depot[1] not in (problem.layout.bottom, problem.layout.top):
        return
    optimum = exact_route(problem).length
    for method in HEURISTICS:
        route = pick_path(problem, method)
        assert sorted(route.order) == list(range(len(problem.picks)))
        assert route.length >= optimum - 1e-9
        # walking the same order along shortest paths can only be shorter
        assert tour_length(problem, route.order) <= route.length + 1e-9


def test_heuristics_dominate_each_other_as_designed_on_the_benchmark_sample():
    means = {m: [] for m in HEURISTICS}
    for _, instance, single, _ in CASES[::4]:
        problem = instance.to_problem("single-block")
        length = {m: pick_path(problem, m).length for m in HEURISTICS}
        # combined chooses per aisle between return and traversal, so it never loses to either
        assert length["combined"] <= min(length["return"], length["s-shape"]) + 1e-9
        # the largest gap is the best split of an aisle; the midpoint is just one split
        assert length["largest-gap"] <= length["midpoint"] + 1e-9
        for m in HEURISTICS:
            means[m].append(length[m] / single - 1)
    assert min(float(np.mean(v)) for v in means.values()) > 0.01  # none is optimal on average


def test_s_shape_traverses_every_pick_aisle():
    layout = ParallelAisleLayout.single_block(4, 10)
    problem = PickingProblem(layout, (0, 0.0), ((1, 1.0), (2, 1.0)))
    # two aisles traversed (10 + 10) plus 2 aisles along each cross-aisle
    assert pick_path(problem, "s-shape").length == 10 + 10 + 2 + 2
    assert pick_path(problem, "return").length == 2 + 2 + 2 + 2
    assert pick_path(problem, "exact").length == 8


def test_ortools_route_is_optimal_on_small_three_block_instances():
    layout = ParallelAisleLayout.multi_block(5, (0, 7, 14, 21), aisle_spacing=3)
    rng = np.random.default_rng(7)
    for _ in range(3):
        picks = tuple(
            (int(a), float(y))
            for a, y in zip(rng.integers(0, 5, 6), rng.integers(1, 21, 6), strict=True)
        )
        problem = PickingProblem(layout, (2, 0.0), picks)
        route = pick_path(problem, "ortools", time_limit_s=0.2)
        assert route.length == pytest.approx(_brute_force(problem))
        assert route.length == pytest.approx(pick_path(problem, "exact").length)


def test_parser_rejects_incomplete_files():
    with pytest.raises(ValueError, match="NUM_AISLES"):
        parse_sprp("NAME : x\nNUM_CELLS : 3\n")
