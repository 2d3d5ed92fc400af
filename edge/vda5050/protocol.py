"""VDA 5050 2.1 headers and the protocol rules the JSON schemas cannot express."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from firmware_interfaces.validation import ContractError, validate

VERSION = "2.1.0"
INTERFACE = "uagv"
MAJOR = "v2"
TOPICS = ("order", "instantActions", "state", "visualization", "connection", "factsheet")


class ProtocolError(ValueError):
    """A VDA 5050 message that obeys its schema but breaks a protocol rule."""


def timestamp(when: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the header's timestamp."""
    when = when or datetime.now(UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HeaderCounter:
    """headerId per topic: starts at 0 and grows by one with each message sent on that topic."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next(self, topic: str) -> int:
        """The headerId of the next message on `topic`."""
        value = self._next.get(topic, 0)
        self._next[topic] = value + 1
        return value


def header(
    counter: HeaderCounter, topic: str, manufacturer: str, serial: str, when: datetime | None = None
) -> dict[str, Any]:
    """The five header fields of a message on `topic`."""
    return {
        "headerId": counter.next(topic),
        "timestamp": timestamp(when),
        "version": VERSION,
        "manufacturer": manufacturer,
        "serialNumber": serial,
    }


def validate_message(topic: str, message: Any) -> Any:
    """Schema check (official 2.1.0 schema) plus, for orders, the rules below."""
    validate(f"vda5050/{topic}", message)
    if topic == "order":
        check_order_rules(message)
    return message


def check_order_rules(order: Mapping[str, Any]) -> None:
    """Sequence ids, edge chaining and base/horizon rules of one order message (6.6.1, 6.6.2)."""
    nodes, edges = order["nodes"], order["edges"]
    if not nodes:
        raise ProtocolError("an order needs at least one node")
    if len(edges) != len(nodes) - 1:
        raise ProtocolError(f"{len(nodes)} nodes need {len(nodes) - 1} edges, got {len(edges)}")
    first = nodes[0]["sequenceId"]
    if first % 2:
        raise ProtocolError(f"node sequenceIds are even, first is {first}")
    for i, node in enumerate(nodes):
        if node["sequenceId"] != first + 2 * i:
            raise ProtocolError(
                f"node {node['nodeId']!r} has sequenceId {node['sequenceId']}, "
                f"expected {first + 2 * i}"
            )
    for i, edge in enumerate(edges):
        if edge["sequenceId"] != first + 2 * i + 1:
            raise ProtocolError(
                f"edge {edge['edgeId']!r} has sequenceId {edge['sequenceId']}, "
                f"expected {first + 2 * i + 1}"
            )
        if edge["startNodeId"] != nodes[i]["nodeId"] or edge["endNodeId"] != nodes[i + 1]["nodeId"]:
            raise ProtocolError(f"edge {edge['edgeId']!r} does not join its neighbouring nodes")
        if edge["released"] and not (nodes[i]["released"] and nodes[i + 1]["released"]):
            raise ProtocolError(f"edge {edge['edgeId']!r} is released but a node of it is not")
    if not nodes[0]["released"]:
        raise ProtocolError("the first node of an order must be released (part of the base)")
    seen_horizon = False
    for item in _interleave(nodes, edges):
        if not item["released"]:
            seen_horizon = True
        elif seen_horizon:
            raise ProtocolError("a released node or edge follows the horizon")


def _interleave(nodes: list[Any], edges: list[Any]) -> list[Any]:
    out: list[Any] = []
    for i, node in enumerate(nodes):
        out.append(node)
        if i < len(edges):
            out.append(edges[i])
    return out


def base_end(order: Mapping[str, Any]) -> Mapping[str, Any]:
    """The decision point: the last released node."""
    return [n for n in order["nodes"] if n["released"]][-1]


def check_stitching(previous_base_end: Mapping[str, Any], update: Mapping[str, Any]) -> None:
    """An update's first node is the previous decision point, unchanged (6.6.2)."""
    first = update["nodes"][0]
    if (first["nodeId"], first["sequenceId"]) != (
        previous_base_end["nodeId"],
        previous_base_end["sequenceId"],
    ):
        raise ProtocolError(
            f"update starts at {first['nodeId']}/{first['sequenceId']}, not at the decision point "
            f"{previous_base_end['nodeId']}/{previous_base_end['sequenceId']}"
        )


def check_order_stream(orders: list[Mapping[str, Any]]) -> None:
    """Rules across the orders sent to one vehicle, in sending order: headerIds grow by one;
    per orderId the orderUpdateId grows by one, every update stitches onto the previous
    decision point, and no released node or edge is ever sent again with other content."""
    base: dict[int, str] = {}
    prev: Mapping[str, Any] | None = None
    for i, order in enumerate(orders):
        check_order_rules(order)
        if prev is not None and order["headerId"] != prev["headerId"] + 1:
            raise ProtocolError(f"order {i}: headerId {order['headerId']} after {prev['headerId']}")
        if prev is None or order["orderId"] != prev["orderId"]:
            if order["orderUpdateId"] != 0:
                raise ProtocolError(f"order {i}: a new order starts at orderUpdateId 0")
            if order["nodes"][0]["sequenceId"] != 0:
                raise ProtocolError(f"order {i}: a new order's first sequenceId is 0")
            base = {}
        else:
            if order["orderUpdateId"] != prev["orderUpdateId"] + 1:
                raise ProtocolError(
                    f"order {i}: orderUpdateId {order['orderUpdateId']} after "
                    f"{prev['orderUpdateId']}"
                )
            check_stitching(base_end(prev), order)
            for item in order["nodes"][1:] + order["edges"]:
                if item["sequenceId"] in base:
                    raise ProtocolError(
                        f"order {i}: sequenceId {item['sequenceId']} is already in the base"
                    )
        for n in order["nodes"]:
            if n["released"]:
                if base.get(n["sequenceId"], n["nodeId"]) != n["nodeId"]:
                    raise ProtocolError(f"order {i}: base node {n['sequenceId']} changed")
                base[n["sequenceId"]] = n["nodeId"]
        for e in order["edges"]:
            if e["released"]:
                base[e["sequenceId"]] = e["edgeId"]
        prev = order


class HeaderTracker:
    """Checks that received headerIds grow per (sender, topic); counts gaps and repeats."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], int] = {}
        self.out_of_order = 0
        self.gaps = 0

    def accept(self, sender: str, topic: str, header_id: int) -> bool:
        """True if the message is newer than the last one seen on this topic from `sender`."""
        key = (sender, topic)
        last = self._last.get(key)
        if last is not None and header_id <= last:
            self.out_of_order += 1
            return False
        if last is not None and header_id > last + 1:
            self.gaps += 1
        self._last[key] = header_id
        return True

    def reset(self, sender: str, topic: str) -> None:
        """Forget the sender's counter (it restarted)."""
        self._last.pop((sender, topic), None)


__all__ = [
    "ContractError",
    "HeaderCounter",
    "HeaderTracker",
    "ProtocolError",
    "base_end",
    "check_order_rules",
    "check_order_stream",
    "check_stitching",
    "header",
    "timestamp",
    "validate_message",
]
