"""Protocol rules the VDA 5050 schemas cannot express: sequence ids, base/horizon, stitching."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from edge.vda5050.orders import OrderBook, RouteNode
from edge.vda5050.protocol import (
    HeaderCounter,
    HeaderTracker,
    ProtocolError,
    check_order_stream,
    header,
    validate_message,
)

ROUTE = [RouteNode(f"n{i}", float(i), 0.0) for i in range(6)]


def order_messages(releases: list[int]) -> list[dict[str, Any]]:
    book, counter = OrderBook("o1", ROUTE), HeaderCounter()
    return [{**header(counter, "order", "m", "s1"), **book.update(ROUTE, r)} for r in releases]


def test_orders_built_stepwise_obey_schema_and_rules() -> None:
    msgs = order_messages([2, 3, 6])
    for m in msgs:
        validate_message("order", m)
    check_order_stream(msgs)
    first, second, last = msgs
    assert [n["sequenceId"] for n in first["nodes"]] == [0, 2, 4, 6, 8, 10]
    assert [e["sequenceId"] for e in first["edges"]] == [1, 3, 5, 7, 9]
    assert [n["released"] for n in first["nodes"]] == [True, True, False, False, False, False]
    # the update starts at the decision point and keeps its sequence id
    assert (second["nodes"][0]["nodeId"], second["nodes"][0]["sequenceId"]) == ("n1", 2)
    assert second["orderUpdateId"] == 1 and last["orderUpdateId"] == 2
    assert all(n["released"] for n in last["nodes"])
    assert [m["headerId"] for m in msgs] == [0, 1, 2]


def test_the_base_cannot_change_only_the_horizon() -> None:
    book = OrderBook("o1", ROUTE)
    book.update(ROUTE, 3)
    other = [*ROUTE[:2], RouteNode("x", 9.0, 9.0), *ROUTE[3:]]
    with pytest.raises(ProtocolError, match="base cannot be changed"):
        book.update(other, 4)
    detour = [*ROUTE[:3], RouteNode("x", 9.0, 9.0)]
    msg = book.update(detour, 3)  # new horizon after the decision point is fine
    assert [n["nodeId"] for n in msg["nodes"]] == ["n2", "x"]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda o: o["nodes"][1].update(sequenceId=3), "sequenceId"),
        (lambda o: o["edges"][0].update(sequenceId=2), "sequenceId"),
        (lambda o: o["edges"].pop(), "edges"),
        (lambda o: o["edges"][2].update(released=True), "released but a node"),
        (lambda o: o["nodes"][3].update(released=True), "follows the horizon"),
        (lambda o: o["edges"][0].update(endNodeId="n5"), "does not join"),
        (lambda o: o["nodes"][0].update(released=False), "released but a node|first node"),
    ],
)
def test_rule_breaking_orders_are_refused(mutate: Any, reason: str) -> None:
    order = order_messages([2])[0]
    bad = copy.deepcopy(order)
    mutate(bad)
    with pytest.raises(ProtocolError, match=reason):
        validate_message("order", bad)


def test_an_order_stream_with_a_wrong_stitching_node_or_update_id_is_refused() -> None:
    msgs = order_messages([2, 4])
    bad = copy.deepcopy(msgs)
    bad[1]["orderUpdateId"] = 5
    with pytest.raises(ProtocolError, match="orderUpdateId"):
        check_order_stream(bad)
    bad = copy.deepcopy(msgs)
    bad[1]["nodes"] = bad[1]["nodes"][1:]
    bad[1]["edges"] = bad[1]["edges"][1:]
    with pytest.raises(ProtocolError, match="decision point"):
        check_order_stream(bad)
    bad = copy.deepcopy(msgs)
    bad[1]["headerId"] = 7
    with pytest.raises(ProtocolError, match="headerId"):
        check_order_stream(bad)


def test_received_header_ids_must_grow_per_sender_and_topic() -> None:
    tracker = HeaderTracker()
    assert tracker.accept("a", "state", 0) and tracker.accept("a", "state", 1)
    assert tracker.accept("b", "state", 0)  # another vehicle counts on its own
    assert not tracker.accept("a", "state", 1)  # a repeat is refused
    assert tracker.accept("a", "state", 5) and tracker.gaps == 1
    tracker.reset("a", "state")  # it restarted
    assert tracker.accept("a", "state", 0)
