"""The dashboard's live fleet map in a real browser, fed by server-sent events.

Central runs in this process (uvicorn in a thread) so the app can hold an in-process fleet:
SimPy AGV stand-ins and the fleet manager, advanced in real time by a driver thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from central.app import create_app
from central.fleet.domain import TaskKind
from central.fleet.layout import PACK, PICK, generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from tests.e2e.web_support import shot
from tests.helpers import USER_PASSWORD, seeded_sessions, settings_for
from whs.broker import find_free_port

pytestmark = [pytest.mark.e2e]

SPEEDUP = 4.0  # simulated seconds per real second


class Driver:
    """Advances the fleet's SimPy clock in step with the wall clock, in a thread."""

    def __init__(self, sim: InProcessFleet) -> None:
        self.sim = sim
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleet-driver", daemon=True)

    def __enter__(self) -> Driver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        start, sim_start = time.monotonic(), self.sim.env.now
        while not self._stop.wait(0.05):
            self.sim.run(until=sim_start + (time.monotonic() - start) * SPEEDUP)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, InProcessFleet]]:
    """Central on a free port with a running four-vehicle fleet; yields (url, fleet)."""
    db_url = f"sqlite:///{tmp_path / 'whs.db'}"
    with seeded_sessions(db_url):
        pass
    app = create_app(
        settings_for(db_url, ingest_enabled=False, webhooks_enabled=False), run_ingest=False
    )
    sim = InProcessFleet(generate_layout(4, stations=4), 4)
    app.state.fleet = sim.fleet
    port = find_free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="central", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "central did not start"
        time.sleep(0.1)
    try:
        with Driver(sim):
            yield url, sim
    finally:
        server.should_exit = True
        thread.join(15)


def submit_totes(sim: InProcessFleet, count: int) -> None:
    picks, packs = sim.layout.cells(PICK), sim.layout.cells(PACK)
    node = sim.layout.node_id
    for i in range(count):
        sim.fleet.submit(TaskKind.TOTE, node(picks[i % len(picks)]), node(packs[i % len(packs)]))


def markers(page: Any) -> dict[str, str]:
    """Where every AGV marker is drawn: serial -> SVG transform."""
    found: dict[str, str] = page.eval_on_selector_all(
        "#fleet-map svg g.agv",
        "els => Object.fromEntries(els.map(e => [e.dataset.serial, e.getAttribute('transform')]))",
    )
    return found


def test_supervisor_watches_agvs_move_on_the_live_map(
    browser: Any, live: tuple[str, InProcessFleet]
) -> None:
    url, sim = live
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{url}/dash")
        page.fill("#username", "supervisor")
        page.fill("#password", USER_PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_selector("#fleet-map svg g.agv >> nth=3")
        start = markers(page)
        assert sorted(start) == sorted(sim.vehicles), "one marker per vehicle"
        walls = page.locator("#fleet-map rect.cell-wall").count()
        assert walls > 0 and page.locator("#fleet-map text.station").count() >= 8

        submit_totes(sim, 6)
        page.wait_for_selector("#fleet-queue li.task")  # the queue shows the new tasks
        assert "tote" in page.inner_text("#fleet-queue")
        page.wait_for_selector("#fleet-map polyline.path")  # planned paths are drawn
        page.wait_for_function(
            """start => [...document.querySelectorAll('#fleet-map g.agv')].filter(
                 e => e.getAttribute('transform') !== start[e.dataset.serial]).length >= 2""",
            arg=start,
            timeout=20_000,
        )
        moved = {s: t for s, t in markers(page).items() if t != start[s]}
        assert len(moved) >= 2, f"AGV markers did not move: {start} -> {markers(page)}"
        page.wait_for_timeout(400)  # let the 0.25 s marker transition finish
        shot(page, "dash-fleet-map-01")
        page.wait_for_function(
            "Number(document.getElementById('fleet-map').dataset.done || 0) >= 1", timeout=30_000
        )
        shot(page, "dash-fleet-map-02")
    finally:
        context.close()


def test_anonymous_visitors_get_no_fleet_stream(live: tuple[str, InProcessFleet]) -> None:
    url, _sim = live
    for path in ("/dash/fleet/map", "/dash/fleet/stream"):
        response = httpx.get(f"{url}{path}", follow_redirects=False)
        assert response.status_code in (302, 303, 307), path
        assert "/h/signin" in response.headers["location"]


def test_a_station_cut_off_by_an_obstacle_is_an_alarm_on_the_live_map(
    browser: Any, live: tuple[str, InProcessFleet]
) -> None:
    url, sim = live
    pick = sim.layout.cells(PICK)[1]
    (entrance,) = sim.layout.grid.neighbours[pick]
    entrance_node = sim.layout.node_id(entrance)
    for vehicle in sim.vehicles.values():
        vehicle.block_node(entrance_node)  # a pallet left in front of the pick station
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{url}/dash")
        page.fill("#username", "supervisor")
        page.fill("#password", USER_PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_selector("#fleet-map svg g.agv")
        packs = sim.layout.cells(PACK)
        node = sim.layout.node_id
        sim.fleet.submit(TaskKind.TOTE, node(pick), node(packs[0]), "tote-cut-off")
        # the vehicle sent there meets the obstacle and reports it; the station is cut off
        page.wait_for_selector(f"#fleet-map rect.blocked.obstacle[data-node='{entrance_node}']")
        alarm = page.wait_for_selector("#fleet-queue li.alarm.blocked_way")
        text = alarm.inner_text()
        assert "1 task(s) wait" in text and f"obstacle at {entrance_node}" in text, text
        color = page.eval_on_selector("#fleet-queue li.alarm", "e => getComputedStyle(e).color")
        assert color == "rgb(185, 28, 28)", "alarms stand out in red"
        assert page.eval_on_selector("#fleet-map", "e => e.classList.contains('alarm')")
        shot(page, "dash-fleet-map-blocked")
    finally:
        context.close()
