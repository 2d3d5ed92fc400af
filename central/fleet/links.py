"""One `VehicleLink` over several: each vehicle is reached through its vendor's link."""

from __future__ import annotations

from typing import Any

from central.fleet.domain import VehicleLink


class VehicleLinks:
    """Routes every call to the link that serves the vehicle (VDA 5050, OPC UA, ...)."""

    def __init__(self, default: VehicleLink | None = None) -> None:
        self._default = default
        self._by_serial: dict[str, VehicleLink] = {}

    def add(self, serial: str, link: VehicleLink) -> None:
        """Reach `serial` through `link`."""
        self._by_serial[serial] = link

    def link_of(self, serial: str) -> VehicleLink:
        """The link serving `serial` (KeyError if none)."""
        link = self._by_serial.get(serial, self._default)
        if link is None:
            raise KeyError(f"no link serves vehicle {serial!r}")
        return link

    def send_route(
        self, serial: str, order_id: str, route: list[Any], released: int
    ) -> dict[str, Any]:
        """Send an order or order update through the vehicle's link."""
        return self.link_of(serial).send_route(serial, order_id, route, released)

    def instant(self, serial: str, action_type: str, **params: Any) -> dict[str, Any]:
        """Send one instant action through the vehicle's link."""
        return self.link_of(serial).instant(serial, action_type, **params)

    def forget_order(self, serial: str) -> None:
        """Forget the vehicle's order in its link."""
        self.link_of(serial).forget_order(serial)
