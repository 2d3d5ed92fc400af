"""Ledger arithmetic: stock is the sum of moves; physical locations never go negative."""

import pytest

from central.common.errors import InsufficientStock, InvalidInput
from central.inventory.domain import Move, MoveReason, apply_moves, ledger_balances

SUPPLIER, DOCK, SHELF, CUSTOMER = 1, 2, 3, 4
VIRTUAL = {SUPPLIER, CUSTOMER}


def move(qty: int, src: int, dst: int, sku: int = 10, lot: int = 100) -> Move:
    return Move(sku, lot, qty, src, dst, MoveReason.TRANSFER)


def test_receipt_putaway_and_shipment_balance_out() -> None:
    moves = [move(10, SUPPLIER, DOCK), move(6, DOCK, SHELF), move(4, SHELF, CUSTOMER)]
    balances = ledger_balances(moves)
    assert balances == {
        (SUPPLIER, 10, 100): -10,
        (DOCK, 10, 100): 4,
        (SHELF, 10, 100): 2,
        (CUSTOMER, 10, 100): 4,
    }
    assert sum(balances.values()) == 0  # every move is conserved


def test_apply_moves_equals_ledger_sum() -> None:
    moves = [move(5, SUPPLIER, DOCK), move(3, SUPPLIER, DOCK, sku=11), move(2, DOCK, SHELF)]
    assert apply_moves({}, moves, VIRTUAL) == ledger_balances(moves)


def test_physical_location_cannot_go_negative() -> None:
    with pytest.raises(InsufficientStock, match="holds 3"):
        apply_moves({}, [move(3, SUPPLIER, DOCK), move(4, DOCK, SHELF)], VIRTUAL)


def test_virtual_location_may_go_negative() -> None:
    assert apply_moves({}, [move(7, SUPPLIER, DOCK)], VIRTUAL)[(SUPPLIER, 10, 100)] == -7


def test_lots_are_kept_apart() -> None:
    with pytest.raises(InsufficientStock):
        apply_moves({}, [move(3, SUPPLIER, DOCK, lot=1), move(1, DOCK, SHELF, lot=2)], VIRTUAL)


@pytest.mark.parametrize("qty", [0, -1])
def test_move_needs_positive_quantity(qty: int) -> None:
    with pytest.raises(InvalidInput, match="positive"):
        move(qty, SUPPLIER, DOCK)


def test_move_needs_two_locations() -> None:
    with pytest.raises(InvalidInput, match="different"):
        move(1, DOCK, DOCK)
