"""Master-side order building: sequence ids, orderUpdateId and stepwise release of the horizon."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge.vda5050.protocol import ProtocolError


@dataclass(frozen=True)
class RouteNode:
    """One node of a route: id, position (m) and the actions to run there."""

    node_id: str
    x: float
    y: float
    actions: tuple[dict[str, Any], ...] = ()


@dataclass
class OrderBook:
    """The order a vehicle holds: the whole route, what is released, the last update id."""

    order_id: str
    route: list[RouteNode]
    released: int = 0
    update_id: int = -1
    map_id: str = "site"
    sent_nodes: list[dict[str, Any]] = field(default_factory=list)

    def update(self, route: list[RouteNode], released: int) -> dict[str, Any]:
        """Body (without header) of the next order message releasing `released` route nodes.

        The first message carries the whole route; later ones start at the decision point
        (stitching node), keep every sequenceId, and may change only the horizon.
        """
        if not 1 <= released <= len(route):
            raise ProtocolError(f"cannot release {released} of {len(route)} nodes")
        if self.update_id >= 0:
            if released < self.released:
                raise ProtocolError("the base cannot shrink")
            if route[: self.released] != self.route[: self.released]:
                raise ProtocolError("the base cannot be changed, only the horizon")
        start = 0 if self.update_id < 0 else self.released - 1
        self.route, self.released = list(route), released
        self.update_id += 1
        nodes = [self._node(i) for i in range(start, len(route))]
        edges = [self._edge(i) for i in range(start, len(route) - 1)]
        return {
            "orderId": self.order_id,
            "orderUpdateId": self.update_id,
            "nodes": nodes,
            "edges": edges,
        }

    def _node(self, i: int) -> dict[str, Any]:
        n = self.route[i]
        return {
            "nodeId": n.node_id,
            "sequenceId": 2 * i,
            "released": i < self.released,
            "nodePosition": {"x": n.x, "y": n.y, "mapId": self.map_id},
            "actions": [dict(a) for a in n.actions],
        }

    def _edge(self, i: int) -> dict[str, Any]:
        a, b = self.route[i], self.route[i + 1]
        return {
            "edgeId": f"{a.node_id}-{b.node_id}",
            "sequenceId": 2 * i + 1,
            "released": i + 1 < self.released,
            "startNodeId": a.node_id,
            "endNodeId": b.node_id,
            "actions": [],
        }
