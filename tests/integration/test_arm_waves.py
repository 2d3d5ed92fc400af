"""Arm tasks from waves: a released wave's picks in a zone an arm serves become stored station
pick tasks, the arm's picks confirm the pick lines, and the tote is carried to packing by AGV."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.common.errors import Conflict
from central.db.engine import transaction
from central.db.tables import Location, PickLine, Site, StationTask
from central.fleet.domain import TaskKind
from central.fleet.layout import PACK, PICK, generate_layout
from central.inventory.service import create_zone
from central.outbound.picking import confirm_pick
from central.seed import DEMO_SKUS
from central.stations.manager import Outcome, StationManager
from central.stations.store import SqlPickTaskStore
from central.stations.waves import ArmZone, WaveArms
from simulators.vda5050.inprocess import InProcessFleet
from tests.helpers import api_client, settings_for, sign_in
from tests.orders_helpers import order, shelve

pytestmark = pytest.mark.integration
TEA, MUG = DEMO_SKUS[0], DEMO_SKUS[1]


class ArmThatPicks:
    """Stands in for central's command link: every PickAndPlace succeeds at once."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def send(self, target: str, action: str, params: dict[str, Any], deadline_s: float) -> str:
        self.sent.append({"target": target, "action": action, **params})
        return f"cmd-{next(self._ids)}"

    def outcome(self, command_id: str) -> Outcome | None:
        return Outcome("ok", None, {"result_code": 0, "cycle_ms": 6400.0})


@contextmanager
def shelved(
    database_url: str, tea: int, mug: int = 0
) -> Iterator[tuple[TestClient, sessionmaker[Session], dict[str, str]]]:
    """The API on a seeded database with `tea` teas on A02-B05 (lot L1) and `mug` mugs on
    A04-B09; yields the client, its session factory and a supervisor's headers."""
    with api_client(settings_for(database_url)) as client:
        sessions = client.app.state.container.sessions  # type: ignore[attr-defined]
        sup = sign_in(client, "supervisor")
        shelve(client, sup, TEA.code, tea, "A02-B05", lot="L1")
        if mug:
            shelve(client, sup, MUG.code, mug, "A04-B09")
        yield client, sessions, sup


def test_a_released_wave_feeds_the_arm_and_its_tote_goes_to_packing(database_url: str) -> None:
    sim = InProcessFleet(generate_layout(2, stations=4), 2)
    pick_node = sim.layout.node_id(sim.layout.cells(PICK)[1])
    pack_node = sim.layout.node_id(sim.layout.cells(PACK)[2])
    zone = ArmZone("STOR", "arm-01", pick_node, pack_node)

    def carry(source: str, dest: str, tote: str, origin: str) -> str:
        return sim.fleet.submit(TaskKind.TOTE, source, dest, tote, origin).id

    with shelved(database_url, tea=10, mug=10) as (client, sessions, sup):
        body = order("ARM-1", [(TEA.code, 3), (MUG.code, 2)])
        order_id = client.post("/api/v1/orders", json=body, headers=sup).json()["order"]["id"]
        client.post("/api/v1/outbound/allocate", json={}, headers=sup)
        wave = client.post("/api/v1/outbound/waves", json={}, headers=sup)
        assert wave.status_code == 201, wave.text
        lines = wave.json()["batches"][0]["lines"]
        tote = lines[0]["tote"]

        arm = ArmThatPicks()
        store = SqlPickTaskStore(sessions)
        stations = StationManager(arm, store=store)
        feeder = WaveArms(sessions, stations, [zone], lambda: carry)
        assert feeder.feed() == 2 and feeder.feed() == 0  # each line once
        queued = stations.tasks()
        assert {(t.sku, t.qty, t.tote, t.station) for t in queued} == {
            (TEA.code, 3, tote, "arm-01"),
            (MUG.code, 2, tote, "arm-01"),
        }
        # central restarts: the stored tasks come back, and the lines are not fed twice
        stations = StationManager(arm, store=SqlPickTaskStore(sessions))
        assert stations.restore() == 2 and [t.id for t in stations.tasks()] == [
            t.id for t in queued
        ]
        feeder = WaveArms(sessions, stations, [zone], lambda: carry)
        assert feeder.feed() == 0
        for _ in range(4):
            stations.step()
        assert [t.status for t in stations.tasks()] == ["done", "done"]
        assert [a["action"] for a in arm.sent] == ["PickAndPlace", "PickAndPlace"]

        feeder.step()  # confirms the picks and sends the tote on
        with sessions() as session:
            picked = session.scalars(select(PickLine.status)).all()
            stored = session.scalars(select(StationTask)).all()
        assert picked == ["picked", "picked"]
        viewer = sign_in(client, "viewer")
        assert client.get(f"/api/v1/orders/{order_id}", headers=viewer).json()["status"] == "picked"
        operator = sign_in(client, "operator")
        contents = client.get(f"/api/v1/packing/totes/{tote}", headers=operator).json()
        expected = Decimal("0.150") + 3 * TEA.unit_weight_kg + 2 * MUG.unit_weight_kg
        assert Decimal(contents["expected_kg"]) == expected  # the stock is in the tote
        transports = [t for t in sim.fleet.tasks.values() if t.origin == "arm:arm-01"]
        assert len(transports) == 1 and transports[0].load_id == tote
        assert {s.transport_task for s in stored} == {transports[0].id}
        assert {s.status for s in stored} == {"done"}
        feeder.step()
        assert len(sim.fleet.tasks) == 1  # one tote, one transport
        sim.run(400)
        view = sim.fleet.task_view(transports[0])
        assert view["status"] == "done"
        assert (view["source"], view["dest"]) == (pick_node, pack_node)


def test_a_line_handed_to_the_arm_is_not_picked_by_hand_and_back_once_cancelled(
    database_url: str,
) -> None:
    with shelved(database_url, tea=10, mug=10) as (client, sessions, sup):
        with sessions.begin() as session:  # A02-B05 is in the arm's zone, A04-B09 is not
            shelf = session.scalars(select(Location).where(Location.code == "A02-B05")).one()
            site = session.get(Site, shelf.site_id)
            assert site is not None
            shelf.zone_id = create_zone(session, site, "ARM", "Arm cell").id
        body = order("ARM-2", [(TEA.code, 3), (MUG.code, 2)])
        order_id = client.post("/api/v1/orders", json=body, headers=sup).json()["order"]["id"]
        client.post("/api/v1/outbound/allocate", json={}, headers=sup)
        assert client.post("/api/v1/outbound/waves", json={}, headers=sup).status_code == 201

        stations = StationManager(ArmThatPicks(), store=SqlPickTaskStore(sessions))
        feeder = WaveArms(
            sessions, stations, [ArmZone("ARM", "arm-01", "c1_0", "c2_0")], lambda: None
        )
        assert feeder.feed() == 1
        (arm_task,) = stations.tasks()
        assert (arm_task.sku, arm_task.qty) == (TEA.code, 3)

        # the handheld's batch shows the tea line as the arm's; confirming it by hand is refused
        picker = sign_in(client, "operator")
        batch = client.get("/api/v1/picking/next", headers=picker).json()
        lines = {ln["sku"]: ln for ln in batch["lines"]}
        assert lines[TEA.code]["status"] == "arm:arm-01"
        assert lines[MUG.code]["status"] == "open"
        tea = {"location": "A02-B05", "item": TEA.code, "qty": 3}
        refused = client.post(
            f"/api/v1/picking/lines/{lines[TEA.code]['id']}/confirm", json=tea, headers=picker
        )
        assert refused.status_code == 409
        assert "robot arm:arm-01" in refused.json()["detail"]
        skip = client.post(f"/api/v1/picking/lines/{lines[TEA.code]['id']}/skip", headers=picker)
        assert skip.status_code == 409
        # and the arm may not confirm the line the handheld picks (vice versa)
        with pytest.raises(Conflict, match="not handed to a robot arm"), sessions.begin() as s:
            confirm_pick(s, lines[MUG.code]["id"], "A04-B09", MUG.code, 2, "arm:arm-01")
        mug = {"location": "A04-B09", "item": MUG.code, "qty": 2}
        done = client.post(
            f"/api/v1/picking/lines/{lines[MUG.code]['id']}/confirm", json=mug, headers=picker
        )
        assert done.status_code == 200, done.text
        # only the arm's line is left: no batch for handhelds
        assert client.get("/api/v1/picking/next", headers=picker).json() is None

        # a supervisor cancels the arm task: the line goes back to the handhelds
        stations.cancel(arm_task.id)
        feeder.step()
        assert feeder.feed() == 0  # not handed to the arm again
        batch = client.get("/api/v1/picking/next", headers=picker).json()
        assert {ln["sku"]: ln["status"] for ln in batch["lines"]}[TEA.code] == "open"
        again = client.post(
            f"/api/v1/picking/lines/{lines[TEA.code]['id']}/confirm", json=tea, headers=picker
        )
        assert again.status_code == 200, again.text
        viewer = sign_in(client, "viewer")
        assert client.get(f"/api/v1/orders/{order_id}", headers=viewer).json()["status"] == "picked"


def test_a_line_fed_to_the_arm_while_handhelds_confirm_goes_to_exactly_one_of_them(
    database_url: str,
) -> None:
    with shelved(database_url, tea=30) as (client, sessions, sup):
        for n in range(12):
            body = order(f"RACE-{n}", [(TEA.code, 1)])
            assert client.post("/api/v1/orders", json=body, headers=sup).status_code == 201
        client.post("/api/v1/outbound/allocate", json={}, headers=sup)
        assert client.post("/api/v1/outbound/waves", json={}, headers=sup).status_code == 201
        with sessions() as session:
            line_ids = list(session.scalars(select(PickLine.id).order_by(PickLine.id)))
        assert len(line_ids) == 12
        stations = StationManager(ArmThatPicks(), store=SqlPickTaskStore(sessions))
        feeder = WaveArms(
            sessions, stations, [ArmZone("STOR", "arm-01", "c1_0", "c2_0")], lambda: None
        )
        refused: list[int] = []

        def pick_by_hand() -> None:
            for line_id in line_ids:
                try:
                    with transaction(sessions) as s:
                        confirm_pick(s, line_id, "A02-B05", TEA.code, 1, "picker-1")
                except Conflict:
                    refused.append(line_id)

        hand = threading.Thread(target=pick_by_hand)
        hand.start()
        feeder.feed()
        hand.join(30)
        with sessions() as session:
            lines = {ln.id: ln for ln in session.scalars(select(PickLine))}
        fed = {int((t.source or "")[len("pick_line:") :]) for t in stations.tasks()}
        by_hand = {i for i, ln in lines.items() if ln.status == "picked"}
        assert fed | by_hand == set(line_ids)  # every line went somewhere
        assert fed & by_hand == set()  # and none to both
        assert set(refused) == fed  # the hand confirm of an arm line was refused
        assert all(lines[i].picker == "arm:arm-01" and lines[i].status == "open" for i in fed)
        assert all(lines[i].done_by == "picker-1" and lines[i].picker is None for i in by_hand)
