"""Inventory rules without I/O: locations, moves, and the ledger arithmetic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from central.common.errors import InsufficientStock, InvalidInput


class LocationKind(StrEnum):
    """What a location is used for; virtual locations stand for the world outside the walls."""

    STORAGE = "storage"
    PICK_FACE = "pick_face"
    DOCK = "dock"
    STAGING = "staging"
    PACKING = "packing"
    TOTE = "tote"
    VIRTUAL = "virtual"


class VirtualLocation(StrEnum):
    """The virtual locations every site has; their code is `V-<NAME>`."""

    SUPPLIER = "SUPPLIER"
    CUSTOMER = "CUSTOMER"
    ADJUSTMENT = "ADJUSTMENT"
    SCRAP = "SCRAP"
    IN_TRANSIT = "IN-TRANSIT"

    @property
    def code(self) -> str:
        """Location code of this virtual location."""
        return f"V-{self.value}"


class MoveReason(StrEnum):
    """Why stock moved; every ledger line carries one."""

    RECEIPT = "receipt"
    PUTAWAY = "putaway"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"


StockKey = tuple[int, int, int]  # (location_id, sku_id, lot_id)


@dataclass(frozen=True)
class Move:
    """`qty` units of one SKU lot from one location to another."""

    sku_id: int
    lot_id: int
    qty: int
    from_location_id: int
    to_location_id: int
    reason: MoveReason
    ref_type: str | None = None
    ref_id: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise InvalidInput(f"a move needs a positive quantity, got {self.qty}")
        if self.from_location_id == self.to_location_id:
            raise InvalidInput("a move needs two different locations")


def ledger_balances(moves: Iterable[Move]) -> dict[StockKey, int]:
    """Stock per (location, SKU, lot) as the sum of the ledger: in minus out."""
    balances: dict[StockKey, int] = defaultdict(int)
    for move in moves:
        balances[(move.from_location_id, move.sku_id, move.lot_id)] -= move.qty
        balances[(move.to_location_id, move.sku_id, move.lot_id)] += move.qty
    return {key: qty for key, qty in balances.items() if qty != 0}


def apply_moves(
    balances: dict[StockKey, int], moves: Iterable[Move], virtual_ids: set[int]
) -> dict[StockKey, int]:
    """New balances after `moves`; physical locations may never go below zero."""
    result = dict(balances)
    for move in moves:
        source = (move.from_location_id, move.sku_id, move.lot_id)
        have = result.get(source, 0)
        if move.from_location_id not in virtual_ids and have < move.qty:
            raise InsufficientStock(
                f"location {move.from_location_id} holds {have} of SKU {move.sku_id}"
                f" lot {move.lot_id}, cannot move {move.qty}"
            )
        result[source] = have - move.qty
        target = (move.to_location_id, move.sku_id, move.lot_id)
        result[target] = result.get(target, 0) + move.qty
    return {key: qty for key, qty in result.items() if qty != 0}
