"""Arm tasks from waves: pick lines of a released wave in a zone an arm serves go to that arm.

A zone is served by a robot-arm station when the fleet configuration says so (`ArmZone`:
zone code, the arm's device id, the AGV node of its pick station and the pack station its
totes go to). `WaveArms.step()` (every second in `whs central serve`):

1. every open pick line of a released wave whose location is in such a zone, and that nobody
   has started by hand, is handed to the arm (`pick_lines.picker` = `arm:<station>`, so handhelds
   are neither offered it nor may confirm it) and becomes a station pick task (source
   `pick_line:<id>`, unique, so a line is fed once, across restarts too); a cancelled arm task
   gives its line back to the handhelds;
2. a pick task done by the arm confirms its pick line (`central.outbound.picking.confirm_pick`
   as actor `arm:<station>`: the stock moves from the location into the tote);
3. once every arm task of a tote at a station is done, one tote transport task carries the
   tote from the station's pick node to the pack node (origin `arm:<station>`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import String, cast, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from central.common.errors import DomainError
from central.db.engine import transaction
from central.db.tables import Location, PickBatch, PickLine, Sku, StationTask, Wave, Zone
from central.outbound.picking import confirm_pick
from central.stations.manager import StationManager

logger = logging.getLogger(__name__)

PREFIX = "pick_line:"


@dataclass(frozen=True)
class ArmZone:
    """A zone whose picks a robot-arm station does, and where its totes go."""

    zone: str
    station: str  # the arm's device id
    pick_node: str  # AGV node of the arm's pick station (P on the map)
    pack_node: str  # AGV node of the pack station its totes go to (K)


class ToteCarrier(Protocol):
    """Queues a tote transport (the fleet manager's `submit` adapted); returns the task id."""

    def __call__(self, pick_node: str, pack_node: str, tote: str, origin: str) -> str: ...


class WaveArms:
    """Feeds arm stations from released waves and sends their totes on."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        stations: StationManager,
        zones: list[ArmZone],
        carrier: Callable[[], ToteCarrier | None],
    ) -> None:
        self._sessions = sessions
        self._stations = stations
        self._zones = {z.zone: z for z in zones}
        self._by_station = {z.station: z for z in zones}
        self._carrier = carrier
        self._unconfirmable: set[str] = set()

    def step(self) -> None:
        """Feed new pick lines, confirm finished picks, send finished totes on."""
        if not self._zones:
            return
        self.feed()
        self.give_back()
        self.confirm()
        self.send_totes()

    def feed(self) -> int:
        """Open pick lines of released waves in the arm zones become station pick tasks."""
        with transaction(self._sessions) as session:
            rows = session.execute(
                select(PickLine.id, PickLine.qty, PickLine.tote, Sku.code, Zone.code)
                .join(PickBatch, PickBatch.id == PickLine.batch_id)
                .join(Wave, Wave.id == PickBatch.wave_id)
                .join(Location, Location.id == PickLine.location_id)
                .join(Zone, Zone.id == Location.zone_id)
                .join(Sku, Sku.id == PickLine.sku_id)
                .where(
                    Wave.status == "released",
                    PickLine.status == "open",
                    PickLine.qty_picked == 0,
                    or_(PickLine.picker.is_(None), PickLine.picker.like("arm:%")),
                    Zone.code.in_(list(self._zones)),
                )
                .order_by(PickLine.batch_id, PickLine.seq)
            ).all()
        if not rows:
            return 0
        store = self._stations.store
        known = store.sources(f"{PREFIX}{r[0]}" for r in rows) if store else set()
        known |= {t.source for t in self._stations.tasks() if t.source}
        added = 0
        for line_id, qty, tote, sku, zone in rows:
            source = f"{PREFIX}{line_id}"
            if source in known:
                continue
            station = self._zones[zone].station
            if not self._claim(line_id, f"arm:{station}"):
                continue  # a handheld started it meanwhile
            self._stations.add_task(station, sku, qty, tote, source=source)
            added += 1
            logger.info(
                "pick line %s (%s x%d into %s) goes to arm %s", line_id, sku, qty, tote, station
            )
        return added

    def _claim(self, line_id: int, picker: str) -> bool:
        """Hand an untouched open line to an arm, atomically against a handheld's confirm."""
        with transaction(self._sessions) as session:
            result = session.execute(
                update(PickLine)
                .where(
                    PickLine.id == line_id,
                    PickLine.status == "open",
                    PickLine.qty_picked == 0,
                    or_(PickLine.picker.is_(None), PickLine.picker == picker),
                )
                .values(picker=picker)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def give_back(self) -> int:
        """Open lines whose arm task was cancelled go back to the handhelds."""
        cancelled = exists().where(
            StationTask.source == PREFIX + cast(PickLine.id, String),
            StationTask.status == "cancelled",
        )
        with transaction(self._sessions) as session:
            result = session.execute(
                update(PickLine)
                .where(PickLine.status == "open", PickLine.picker.like("arm:%"), cancelled)
                .values(picker=None)
                .execution_options(synchronize_session=False)
            )
            given: int = result.rowcount  # type: ignore[attr-defined]
        if given:
            logger.info("%d pick lines of cancelled arm tasks go back to handhelds", given)
        return given

    def confirm(self) -> int:
        """Pick lines whose arm task is done are confirmed (stock moves into the tote)."""
        confirmed = 0
        with transaction(self._sessions) as session:
            done = session.execute(
                select(StationTask.id, StationTask.station, StationTask.source, StationTask.qty)
                .join(PickLine, StationTask.source == PREFIX + cast(PickLine.id, String))
                .where(StationTask.status == "done", PickLine.status == "open")
            ).all()
        for task_id, station, source, qty in done:
            if task_id in self._unconfirmable:
                continue
            line_id = int(source[len(PREFIX) :])
            try:
                with transaction(self._sessions) as session:
                    line = session.get(PickLine, line_id)
                    assert line is not None
                    location = session.get(Location, line.location_id)
                    sku = session.get(Sku, line.sku_id)
                    assert location is not None and sku is not None
                    confirm_pick(session, line_id, location.code, sku.code, qty, f"arm:{station}")
                confirmed += 1
            except DomainError as exc:  # picked by hand meanwhile, stock gone, ...
                self._unconfirmable.add(task_id)
                logger.warning(
                    "arm task %s could not confirm pick line %s: %s", task_id, line_id, exc
                )
        return confirmed

    def send_totes(self) -> int:
        """A tote whose arm tasks are all done is carried to its pack station."""
        carrier = self._carrier()
        if carrier is None:
            return 0
        with transaction(self._sessions) as session:
            rows = session.execute(
                select(StationTask.id, StationTask.station, StationTask.tote, StationTask.status)
                .where(
                    StationTask.source.like(f"{PREFIX}%"),
                    StationTask.transport_task.is_(None),
                    StationTask.status != "cancelled",
                )
                .order_by(StationTask.created_at, StationTask.id)
            ).all()
        totes: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for task_id, station, tote, status in rows:
            totes.setdefault((station, tote), []).append((task_id, status))
        sent = 0
        for (station, tote), tasks in totes.items():
            zone = self._by_station.get(station)
            if zone is None or any(status != "done" for _, status in tasks):
                continue
            transport = carrier(zone.pick_node, zone.pack_node, tote, f"arm:{station}")
            ids = [task_id for task_id, _ in tasks]
            with transaction(self._sessions) as session:
                session.execute(
                    update(StationTask)
                    .where(StationTask.id.in_(ids))
                    .values(transport_task=transport)
                )
            self._stations.note_transport(ids, transport)
            sent += 1
            logger.info("tote %s leaves arm %s as transport %s", tote, station, transport)
        return sent
