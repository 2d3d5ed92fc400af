"""The site's pickable locations as a parallel-aisle layout for the pick-path optimiser."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.common.errors import Conflict
from central.db.tables import Location
from central.orders.service import PICKABLE
from optimization.layout import ParallelAisleLayout, Point

CROSS_AISLE_MARGIN = 1.0


@dataclass(frozen=True)
class SiteLayout:
    """The layout, every pickable location's point on it, and the depot (the pack station)."""

    layout: ParallelAisleLayout
    points: dict[int, Point]
    depot: Point


def site_layout(session: Session, site_id: int, depot_code: str) -> SiteLayout:
    """Aisles from the x coordinates of pickable locations, heights from their y; one block."""
    rows = session.execute(
        select(Location.id, Location.x, Location.y).where(
            Location.site_id == site_id, Location.kind.in_(PICKABLE)
        )
    ).tuples()
    located = [(i, x, y) for i, x, y in rows if x is not None and y is not None]
    if not located:
        raise Conflict("no pickable location has coordinates: set x and y to plan pick paths")
    xs = sorted({x for _, x, _ in located})
    spacing = min((b - a for a, b in itertools.pairwise(xs)), default=1.0) or 1.0
    bottom = min(y for _, _, y in located) - CROSS_AISLE_MARGIN
    top = max(y for _, _, y in located) + CROSS_AISLE_MARGIN
    layout = ParallelAisleLayout(len(xs), (bottom, top), spacing)
    aisle_of = {x: index for index, x in enumerate(xs)}
    points = {i: (aisle_of[x], float(y)) for i, x, y in located}
    depot_row = session.scalar(
        select(Location).where(Location.site_id == site_id, Location.code == depot_code)
    )
    depot_x = depot_row.x if depot_row is not None and depot_row.x is not None else xs[0]
    depot_aisle = min(range(len(xs)), key=lambda a: abs(xs[a] - depot_x))
    return SiteLayout(layout, points, (depot_aisle, bottom))
