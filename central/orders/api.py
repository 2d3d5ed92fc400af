"""Order intake (REST, bulk, CSV, marketplace payloads) and the exception queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.auth.domain import OPERATE, READ, SUPERVISE, Principal
from central.common.errors import Conflict, DomainError, InvalidInput, NotFound
from central.common.money import Money
from central.db.tables import Order, OrderLine
from central.deps import ContainerDep, SessionDep, require
from central.inventory import service as inventory
from central.orders import channels, intake, service
from central.orders.domain import (
    Address,
    LineIn,
    OrderIn,
    OrderStatus,
    RiskRules,
    check_storable,
)
from central.orders.schemas import (
    AddressIn,
    BulkPublic,
    CancelIn,
    ImportRowError,
    IntakePublic,
    NoteIn,
    OrderCreate,
    OrderLinePublic,
    OrderPublic,
    StatsPublic,
)

router = APIRouter(prefix="/api/v1", tags=["orders"])
Reader = Annotated[Principal, Depends(require(READ))]
Operator = Annotated[Principal, Depends(require(OPERATE))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISE))]
RULES = RiskRules()
MAX_CSV_BYTES = 20 * 1024 * 1024


def order_public(session: Session, order: Order) -> OrderPublic:
    """An order with its lines, as the API shows it."""
    lines = session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
    )
    return OrderPublic(
        id=order.id,
        channel=order.channel,
        channel_order_id=order.channel_order_id,
        status=order.status,
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        ship_to=order.ship_to,
        currency=order.currency,
        total_amount=Money.of(order.total_amount, order.currency).amount,
        payment_status=order.payment_status,
        carrier=order.carrier,
        risk_score=order.risk_score,
        problems=order.problems,
        merged_into=order.merged_into_id,
        ordered_at=order.ordered_at,
        lines=[
            OrderLinePublic(
                sku=ln.sku_code,
                qty=ln.qty,
                unit_price=Money.of(ln.unit_price, order.currency).amount,
                qty_allocated=ln.qty_allocated,
                qty_picked=ln.qty_picked,
                qty_short=ln.qty_short,
            )
            for ln in lines
        ],
    )


def _to_domain(body: OrderCreate) -> OrderIn:
    return OrderIn(
        channel=body.channel,
        channel_order_id=body.channel_order_id,
        customer_name=body.customer_name,
        customer_email=body.customer_email,
        ship_to=Address(**body.ship_to.model_dump()),
        currency=body.currency,
        lines=tuple(
            LineIn(ln.sku, ln.qty, Money.of(ln.unit_price, body.currency)) for ln in body.lines
        ),
        payment_status=body.payment_status,
        ordered_at=body.ordered_at,
        billing_country=body.billing_country,
        carrier=body.carrier,
    )


def _intake(
    session: Session, site_code: str, incoming: OrderIn, response: Response
) -> IntakePublic:
    site = inventory.get_site(session, site_code)
    result = service.receive_order(session, site, incoming, RULES)
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return IntakePublic(created=result.created, order=order_public(session, result.order))


@router.post("/orders", response_model=IntakePublic, status_code=201)
def create_order(
    body: OrderCreate, session: SessionDep, response: Response, _: Operator
) -> IntakePublic:
    """Take one order; the same channel order id again returns the stored order (200)."""
    return _intake(session, body.site, _to_domain(body), response)


BULK_CHUNK = 1000  # orders per transaction in bulk intake


def _bulk(container: ContainerDep, site: str, items: list[OrderIn | Exception]) -> BulkPublic:
    """Orders checked one by one, then stored in chunks: one bad order does not stop the others."""
    result = BulkPublic(created=0, repeated=0, exceptions=0, errors=[], orders=[])
    valid: list[tuple[int, OrderIn]] = []
    for index, item in enumerate(items):
        try:
            if isinstance(item, Exception):
                raise item
            check_storable(item)
            valid.append((index, item))
        except DomainError as exc:
            result.errors.append(ImportRowError(index=index, detail=str(exc)))
    for start in range(0, len(valid), BULK_CHUNK):
        chunk = valid[start : start + BULK_CHUNK]
        outcomes: list[intake.Intake | None]
        try:
            with container.sessions.begin() as session:
                site_row = inventory.get_site(session, site)
                outcomes = list(
                    intake.receive_orders(session, site_row, [o for _, o in chunk], RULES)
                )
        except (DomainError, IntegrityError):  # e.g. a concurrent import: take them one by one
            outcomes = [_one(container, site, index, item, result) for index, item in chunk]
        for outcome in outcomes:
            if outcome is None:
                continue
            result.orders.append(outcome.order_id)
            if not outcome.created:
                result.repeated += 1
                continue
            result.created += 1
            result.exceptions += outcome.status == OrderStatus.EXCEPTION
    result.errors.sort(key=lambda e: e.index)
    return result


def _one(
    container: ContainerDep, site: str, index: int, item: OrderIn, result: BulkPublic
) -> intake.Intake | None:
    """One order in its own transaction; a domain error is recorded against its index."""
    try:
        with container.sessions.begin() as session:
            outcome = service.receive_order(session, inventory.get_site(session, site), item, RULES)
            return intake.Intake(outcome.order.id, outcome.order.status, outcome.created)
    except DomainError as exc:
        result.errors.append(ImportRowError(index=index, detail=str(exc)))
        return None


def _convert(body: OrderCreate) -> OrderIn | Exception:
    try:
        return _to_domain(body)
    except DomainError as exc:
        return exc


@router.post("/orders/bulk", response_model=BulkPublic)
def bulk_orders(
    body: Annotated[list[OrderCreate], Body(max_length=5000)],
    container: ContainerDep,
    _: Operator,
    site: str = "wh1",
) -> BulkPublic:
    """Take many orders at once; each is idempotent by its channel order id."""
    return _bulk(container, site, [_convert(item) for item in body])


@router.post("/orders/import", response_model=BulkPublic)
async def import_csv(
    request: Request, container: ContainerDep, _: Operator, site: str = "wh1", channel: str = "csv"
) -> BulkPublic:
    """Import orders from CSV (one row per line; header as in docs/orders.md)."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput(f"CSV larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB: split it")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("CSV must be UTF-8") from exc
    items: list[OrderIn | Exception] = list(channels.from_csv(text, channel))
    return _bulk(container, site, items)


@router.post("/channels/{channel}/orders", response_model=IntakePublic, status_code=201)
def channel_order(
    channel: str,
    payload: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    response: Response,
    _: Operator,
    site: str = "wh1",
) -> IntakePublic:
    """Take an order in a marketplace's own shape (`amazon`, `shopify`)."""
    adapter = channels.ADAPTERS.get(channel)
    if adapter is None:
        raise NotFound(
            f"no adapter for channel {channel!r}; known: {', '.join(sorted(channels.ADAPTERS))}"
        )
    return _intake(session, site, adapter(payload), response)


@router.get("/orders", response_model=list[OrderPublic])
def list_orders(
    session: SessionDep, _: Reader, status: OrderStatus | None = None, limit: int = 100
) -> list[OrderPublic]:
    """Orders, newest first."""
    query = select(Order).order_by(Order.id.desc()).limit(max(1, min(limit, 1000)))
    if status:
        query = query.where(Order.status == status.value)
    return [order_public(session, o) for o in session.scalars(query)]


@router.get("/orders/stats", response_model=StatsPublic)
def stats(session: SessionDep, _: Reader) -> StatsPublic:
    """Orders by status and the share processed without a supervisor (automatic-processing rate)."""
    by_status = dict(
        session.execute(select(Order.status, func.count(Order.id)).group_by(Order.status))
        .tuples()
        .all()
    )
    total = sum(by_status.values())
    automatic = (
        session.scalar(select(func.count(Order.id)).where(Order.processed_automatically.is_(True)))
        or 0
    )
    return StatsPublic(
        orders=total,
        automatic=automatic,
        automatic_rate=automatic / total if total else 0.0,
        by_status=by_status,
    )


@router.get("/orders/{order_id}", response_model=OrderPublic)
def get_order(order_id: int, session: SessionDep, _: Reader) -> OrderPublic:
    """One order with its lines."""
    return order_public(session, service.get_order(session, order_id))


@router.post("/orders/{order_id}/allocate", response_model=OrderPublic)
def allocate(order_id: int, session: SessionDep, _: Supervisor) -> OrderPublic:
    """Reserve stock for one ready or backordered order (a short order is split)."""
    from central.outbound.allocation import allocate_order

    order = service.get_order(session, order_id, lock=True)
    if order.status not in (OrderStatus.READY, OrderStatus.BACKORDERED):
        raise Conflict(
            f"order {order_id} is {order.status}; only ready or backordered orders are allocated"
        )
    allocate_order(session, order)
    return order_public(session, order)


@router.post("/orders/{order_id}/approve", response_model=OrderPublic)
def approve(order_id: int, body: NoteIn, session: SessionDep, principal: Supervisor) -> OrderPublic:
    """Let an order out of the exception queue."""
    return order_public(session, service.approve(session, order_id, principal.name, body.note))


@router.put("/orders/{order_id}/address", response_model=OrderPublic)
def edit_address(
    order_id: int, body: AddressIn, session: SessionDep, principal: Supervisor
) -> OrderPublic:
    """Correct the delivery address; the order is checked again."""
    order = service.edit_address(
        session, order_id, Address(**body.model_dump()), principal.name, RULES
    )
    return order_public(session, order)


@router.post("/orders/{order_id}/cancel", response_model=OrderPublic)
def cancel(
    order_id: int, body: CancelIn, session: SessionDep, principal: Supervisor
) -> OrderPublic:
    """Cancel an order that is not yet being picked."""
    return order_public(session, service.cancel(session, order_id, principal.name, body.reason))
