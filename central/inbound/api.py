"""Inbound endpoints: ASNs, arrival at a dock, receipts, discrepancies."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from central.auth.domain import OPERATE, READ, SUPERVISE, Principal
from central.common.errors import InvalidInput
from central.db.tables import Asn, AsnLine, Discrepancy, Location, Sku
from central.deps import ContainerDep, SessionDep, require
from central.inbound import service
from central.inbound.domain import AsnStatus
from central.inbound.schemas import (
    ArriveRequest,
    AsnCreate,
    AsnLinePublic,
    AsnPublic,
    DiscrepancyPublic,
    ReceiptRequest,
    ResolveRequest,
)
from central.inventory import service as inventory

router = APIRouter(prefix="/api/v1/inbound", tags=["inbound"])
Reader = Annotated[Principal, Depends(require(READ))]
Operator = Annotated[Principal, Depends(require(OPERATE))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISE))]
EPC_HEX = re.compile(r"^[0-9A-Fa-f]{24}$")


def _discrepancy_public(item: Discrepancy, asn_number: str | None) -> DiscrepancyPublic:
    return DiscrepancyPublic(
        id=item.id,
        asn=asn_number,
        kind=item.kind,
        detail=item.detail,
        status=item.status,
        raised_at=item.raised_at,
        resolution=item.resolution,
        resolved_by=item.resolved_by,
        note=item.note,
    )


def _asn_public(session: SessionDep, asn: Asn) -> AsnPublic:
    lines = session.execute(
        select(AsnLine, Sku.code)
        .join(Sku, AsnLine.sku_id == Sku.id)
        .where(AsnLine.asn_id == asn.id)
        .order_by(AsnLine.id)
    ).tuples()
    discrepancies = session.scalars(
        select(Discrepancy).where(Discrepancy.asn_id == asn.id).order_by(Discrepancy.id)
    )
    dock = session.get(Location, asn.dock_location_id) if asn.dock_location_id else None
    return AsnPublic(
        number=asn.number,
        supplier=asn.supplier,
        status=asn.status,
        dock=dock.code if dock else None,
        pallet_tare_kg=asn.pallet_tare_kg,
        arrived_at=asn.arrived_at,
        closed_at=asn.closed_at,
        lines=[
            AsnLinePublic(
                sku=code,
                lot=ln.lot_code,
                qty_expected=ln.qty_expected,
                qty_received=ln.qty_received,
            )
            for ln, code in lines
        ],
        discrepancies=[_discrepancy_public(d, asn.number) for d in discrepancies],
    )


@router.post("/asns", response_model=AsnPublic, status_code=201)
def create_asn(
    body: AsnCreate, session: SessionDep, container: ContainerDep, principal: Operator
) -> AsnPublic:
    """Register an advance shipping notice."""
    bad = [epc for epc in body.expected_epcs if not EPC_HEX.match(epc)]
    if bad:
        raise InvalidInput(
            f"expected_epcs holds {len(bad)} values that are not 96-bit hex EPCs, e.g. {bad[0]!r}"
        )
    site = inventory.get_site(session, body.site)
    asn = service.create_asn(
        session,
        site,
        body.number,
        body.supplier,
        [service.AsnLineInput(ln.sku, ln.qty, ln.lot, ln.expiry) for ln in body.lines],
        principal.name,
        body.expected_epcs,
        body.pallet_tare_kg
        if body.pallet_tare_kg is not None
        else container.settings.default_pallet_tare_kg,
        body.expected_at,
    )
    return _asn_public(session, asn)


@router.get("/asns", response_model=list[AsnPublic])
def list_asns(
    session: SessionDep, _: Reader, status: AsnStatus | None = None, limit: int = 100
) -> list[AsnPublic]:
    """ASNs, newest first, optionally by status."""
    query = select(Asn).order_by(Asn.id.desc()).limit(max(1, min(limit, 500)))
    if status:
        query = query.where(Asn.status == status.value)
    return [_asn_public(session, asn) for asn in session.scalars(query)]


@router.get("/asns/{number}", response_model=AsnPublic)
def get_asn(number: str, session: SessionDep, _: Reader) -> AsnPublic:
    """One ASN with its lines and discrepancies."""
    return _asn_public(session, service.get_asn(session, number))


@router.post("/asns/{number}/arrive", response_model=AsnPublic)
def arrive(number: str, body: ArriveRequest, session: SessionDep, _: Operator) -> AsnPublic:
    """The truck is at a dock: the next gate pass and weight there are checked against this ASN."""
    return _asn_public(session, service.arrive(session, number, body.dock))


@router.post("/asns/{number}/receipts", response_model=AsnPublic)
def receive_counted(
    number: str, body: ReceiptRequest, session: SessionDep, principal: Operator
) -> AsnPublic:
    """Book a receipt counted by hand for an arrived ASN."""
    lines = [service.AsnLineInput(item.sku, item.qty) for item in body.lines]
    return _asn_public(session, service.receive_counted(session, number, lines, principal.name))


@router.get("/discrepancies", response_model=list[DiscrepancyPublic])
def list_discrepancies(
    session: SessionDep, _: Reader, status: str | None = "open"
) -> list[DiscrepancyPublic]:
    """Discrepancies, oldest first (open ones by default; status=all for every one)."""
    query = (
        select(Discrepancy, Asn.number)
        .outerjoin(Asn, Discrepancy.asn_id == Asn.id)
        .order_by(Discrepancy.id)
    )
    if status and status != "all":
        query = query.where(Discrepancy.status == status)
    return [_discrepancy_public(d, number) for d, number in session.execute(query).tuples()]


@router.post("/discrepancies/{discrepancy_id}/resolve", response_model=DiscrepancyPublic)
def resolve(
    discrepancy_id: int,
    body: ResolveRequest,
    session: SessionDep,
    container: ContainerDep,
    principal: Supervisor,
) -> DiscrepancyPublic:
    """Accept what was counted (books it) or reject the delivery."""
    item = service.resolve_discrepancy(
        session, discrepancy_id, body.resolution, principal.name, container.tolerance, body.note
    )
    asn = session.get(Asn, item.asn_id) if item.asn_id else None
    return _discrepancy_public(item, asn.number if asn else None)
