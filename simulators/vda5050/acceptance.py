"""The vehicle side of order acceptance (VDA 5050 2.1, 6.6.2 figure 8 and 6.6.4)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from firmware_interfaces.validation import ContractError

from edge.vda5050.protocol import (
    ProtocolError,
    check_order_rules,
    check_stitching,
    validate_message,
)

ACCEPT, IGNORE = "accept", "ignore"
SUPPORTED_NODE_ACTIONS = {"pick", "drop", "startCharging", "stopCharging", "finePositioning"}


@dataclass(frozen=True)
class Verdict:
    """What to do with a received order: accept (new or update), ignore, or reject with an error."""

    outcome: str  # accept | ignore | reject
    is_update: bool = False
    error_type: str = ""
    reason: str = ""


def reject(error_type: str, reason: str) -> Verdict:
    """A rejection carrying the VDA 5050 error type to report."""
    return Verdict("reject", error_type=error_type, reason=reason)


@dataclass
class HeldOrder:
    """What the vehicle holds of its current order (enough to judge the next message)."""

    order_id: str
    update_id: int
    node_states: list[dict[str, Any]]  # remaining nodes, base then horizon
    last_node_id: str
    last_node_seq: int
    busy_actions: bool  # actions neither FINISHED nor FAILED


def judge(
    order: Any,
    held: HeldOrder,
    x: float,
    y: float,
    default_deviation_m: float = 0.5,
    check_schema: bool = True,
) -> Verdict:
    """Accept, ignore or reject `order` given what the vehicle holds and where it stands."""
    try:
        if check_schema:
            validate_message("order", order)
        else:
            check_order_rules(order)
    except (ContractError, ProtocolError, KeyError, TypeError) as exc:
        return reject("validationError", str(exc))
    unsupported = [
        a["actionType"]
        for n in order["nodes"]
        for a in n["actions"]
        if a["actionType"] not in SUPPORTED_NODE_ACTIONS
    ]
    if unsupported:
        return reject("orderError", f"cannot perform {', '.join(sorted(set(unsupported)))}")
    first = order["nodes"][0]
    executing = bool(held.node_states) or held.busy_actions
    if order["orderId"] != held.order_id:
        if executing:
            return reject("orderUpdateError", "still executing order " + repr(held.order_id))
        if first["nodeId"] != held.last_node_id and not _near(first, x, y, default_deviation_m):
            return reject("noRouteError", f"first node {first['nodeId']!r} is not reachable")
        return Verdict(ACCEPT)
    if order["orderUpdateId"] < held.update_id:
        return reject(
            "orderUpdateError",
            f"orderUpdateId {order['orderUpdateId']} is older than {held.update_id}",
        )
    if order["orderUpdateId"] == held.update_id:
        return Verdict(IGNORE)
    released = [n for n in held.node_states if n["released"]]
    decision = (
        released[-1]
        if released
        else {"nodeId": held.last_node_id, "sequenceId": held.last_node_seq}
    )
    try:
        check_stitching(decision, order)
    except ProtocolError as exc:
        return reject("orderUpdateError", str(exc))
    return Verdict(ACCEPT, is_update=True)


def _near(node: dict[str, Any], x: float, y: float, default: float) -> bool:
    pos = node.get("nodePosition")
    if pos is None:
        return False
    allowed = pos.get("allowedDeviationXY") or default
    return math.hypot(pos["x"] - x, pos["y"] - y) <= allowed
