"""Short orders in the simulation: split as central splits them, the available part shipped."""

from __future__ import annotations

from central.orders.domain import OrderStatus
from simulators.warehouse.engine import WarehouseSim, simulate
from simulators.warehouse.scenario import example, load_scenario, with_overrides


def test_a_short_order_is_split_and_its_rest_backordered() -> None:
    sim = WarehouseSim(
        with_overrides(load_scenario(example("small")), {"policies.replenishment.policy": "none"})
    )
    sim.on_hand[:3] = [5, 0, 4]
    sim.reserved[:] = 0
    short = sim._new_order(0.0, [(0, 8), (2, 1)])  # 3 of SKU 0 missing
    empty = sim._new_order(1.0, [(1, 2)])  # nothing of SKU 1 at all
    sim.pending += [short, empty]
    sim._allocate()
    assert sim.allocated == [short]
    assert short.status is OrderStatus.ALLOCATED and short.lines == [(0, 5), (2, 1)]
    [backorder, waiting] = sim.pending
    assert waiting is empty and empty.status is OrderStatus.BACKORDERED  # waits whole
    assert backorder.root is short and backorder.lines == [(0, 3)]
    assert backorder.status is OrderStatus.BACKORDERED
    assert list(sim.reserved[:3]) == [5, 0, 1]
    assert sim.stats.split_orders == 1 and sim.stats.stockout_orders == 2


def test_a_starved_shift_ships_the_available_parts_and_reports_backorders() -> None:
    k = simulate(
        with_overrides(
            load_scenario(example("small")),
            {"stock.pickface_hours": 0.5, "policies.replenishment.policy": "none"},
        )
    )["kpis"]
    assert k["backorders"]["split_orders"] > 20
    assert k["backorders"]["created"] >= k["backorders"]["split_orders"]
    assert k["backorder_rate"] == round(k["backorders"]["split_orders"] / k["orders_received"], 4)
    assert k["stock_out_rate"] >= k["backorder_rate"]  # split or waiting whole: both stocked out
    # the available parts left as their own shipments; their customer orders are not complete
    assert k["shipments"] > k["orders_shipped"]
    assert k["orders_shipped"] + k["backlog_orders"] == k["orders_received"]
