"""The AGV stand-in accepts, extends and rejects orders as VDA 5050 2.1 says, and drives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import simpy

from edge.vda5050.orders import OrderBook, RouteNode
from edge.vda5050.protocol import HeaderCounter, header, validate_message
from simulators.vda5050.vehicle import AgvVehicle, VehicleSpec

ROUTE = [RouteNode(f"n{i}", float(i), 0.0) for i in range(5)]


class Bus:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, topic: str, msg: dict[str, Any], qos: int, retain: bool) -> None:
        validate_message(topic, msg)  # everything the stand-in says obeys the schemas
        self.sent.append((topic, msg))

    def last_state(self) -> dict[str, Any]:
        return [m for t, m in self.sent if t == "state"][-1]


def make() -> tuple[simpy.Environment, AgvVehicle, Bus, HeaderCounter]:
    env, bus = simpy.Environment(), Bus()
    agv = AgvVehicle(env, VehicleSpec("s1", start_node="n0"), bus, epoch=datetime.now(UTC))
    return env, agv, bus, HeaderCounter()


def order(counter: HeaderCounter, body: dict[str, Any]) -> dict[str, Any]:
    return {**header(counter, "order", "whs-sim", "s1"), **body}


def errors(bus: Bus) -> list[str]:
    return [e["errorType"] for e in bus.last_state()["errors"]]


def test_drives_only_over_the_released_base_and_continues_after_an_update() -> None:
    env, agv, bus, hc = make()
    book = OrderBook("o1", ROUTE)
    agv.on_order(order(hc, book.update(ROUTE, 3)))
    env.run(until=20)
    assert agv.last_node_id == "n2" and not agv.driving  # stopped at the decision point
    assert bus.last_state()["newBaseRequest"] is True
    agv.on_order(order(hc, book.update(ROUTE, 5)))
    env.run(until=40)
    assert agv.last_node_id == "n4" and agv.last_node_seq == 8
    assert bus.last_state()["nodeStates"] == [] and errors(bus) == []
    assert [m[1] for m in agv.trajectory.moves] == ["n1", "n2", "n3", "n4"]


def test_rejections_report_the_errors_the_standard_names() -> None:
    env, agv, bus, hc = make()
    book = OrderBook("o1", ROUTE)
    first = book.update(ROUTE, 3)
    agv.on_order(order(hc, {**first, "nodes": first["nodes"][1:], "edges": first["edges"][1:]}))
    assert errors(bus) == ["validationError"] or errors(bus) == ["noRouteError"]
    agv.on_order(order(hc, {"orderId": "x"}))
    assert "validationError" in errors(bus)
    agv.on_order(order(hc, first))  # valid: accepted, the warnings go
    assert errors(bus) == []
    stale = {**first, "orderUpdateId": 0}
    update = book.update(ROUTE, 4)
    agv.on_order(order(hc, update))
    agv.on_order(order(hc, stale))
    assert errors(bus) == ["orderUpdateError"]  # lower orderUpdateId
    assert agv.order_update_id == 1  # the vehicle kept the newer order
    env.run(until=5)
    bad_stitch = {**book.update(ROUTE, 5)}
    bad_stitch["nodes"] = bad_stitch["nodes"][1:]
    bad_stitch["edges"] = bad_stitch["edges"][1:]
    agv.on_order(order(hc, bad_stitch))
    assert "orderUpdateError" in errors(bus)
    env.run(until=30)
    waiting = OrderBook("o2", ROUTE)
    agv.on_order(order(hc, waiting.update(ROUTE, 5)))  # it still waits for o1's horizon
    assert "orderUpdateError" in errors(bus) and agv.order_id == "o1"

    env, idle, bus, hc = make()
    far = OrderBook("o3", [RouteNode("far", 50.0, 50.0), RouteNode("n0", 0.0, 0.0)])
    idle.on_order(order(hc, far.update(far.route, 2)))
    assert errors(bus) == ["noRouteError"] and idle.order_id == ""


def test_instant_actions_pause_cancel_and_report() -> None:
    env, agv, bus, hc = make()
    ia = HeaderCounter()

    def instant(kind: str, aid: str) -> None:
        agv.on_instant_actions(
            {
                **header(ia, "instantActions", "whs-sim", "s1"),
                "actions": [{"actionType": kind, "actionId": aid, "blockingType": "NONE"}],
            }
        )

    instant("cancelOrder", "c0")
    assert errors(bus) == ["noOrderToCancel"]
    states = {a["actionId"]: a["actionStatus"] for a in bus.last_state()["actionStates"]}
    assert states["c0"] == "FAILED"
    book = OrderBook("o1", ROUTE)
    agv.on_order(order(hc, book.update(ROUTE, 5)))
    instant("startPause", "p1")
    env.run(until=10)
    assert agv.last_node_id == "n0" and bus.last_state()["paused"] is True
    instant("stopPause", "p2")
    env.run(until=11.5)
    instant("cancelOrder", "c1")
    env.run(until=30)
    assert agv.last_node_id == "n2"  # stopped at the next node, not at the end
    states = {a["actionId"]: a["actionStatus"] for a in bus.last_state()["actionStates"]}
    assert states["c1"] == "FINISHED"
    instant("factsheetRequest", "f1")
    assert any(t == "factsheet" for t, _ in bus.sent)


def test_pick_and_drop_change_the_load_and_driving_drains_the_battery() -> None:
    env, agv, bus, hc = make()
    pick = {
        "actionType": "pick",
        "actionId": "a1",
        "blockingType": "HARD",
        "actionParameters": [{"key": "loadId", "value": "tote-1"}],
    }
    route = [*ROUTE[:2], RouteNode("n2", 2.0, 0.0, (pick,))]
    book = OrderBook("o1", route)
    agv.on_order(order(hc, book.update(route, 3)))
    env.run(until=10)
    assert bus.last_state()["loads"][0]["loadId"] == "tote-1"
    assert agv.battery < 100.0
