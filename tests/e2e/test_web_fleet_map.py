"""The dashboard's live fleet map in a real browser, fed by server-sent events.

Central runs in this process (uvicorn in a thread) so the app can hold an in-process fleet:
SimPy AGV stand-ins and the fleet manager, advanced in real time by a driver thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from central.app import create_app
from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.layout import PACK, PICK, generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from tests.e2e.web_support import press, shot
from tests.helpers import USER_PASSWORD, seeded_sessions, settings_for, wait_for
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


@contextmanager
def dashboard(
    browser: Any,
    url: str,
    user: str = "supervisor",
    locale: str = "en-US",
    timeout_ms: int = 15_000,
) -> Iterator[Any]:
    """A desktop browser signed in as `user` on the dashboard; yields the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        page.goto(f"{url}/dash")
        page.fill("#username", user)
        page.fill("#password", USER_PASSWORD)
        press(page, "button[type=submit]")
        yield page
    finally:
        context.close()


def test_supervisor_watches_agvs_move_on_the_live_map(
    browser: Any, live: tuple[str, InProcessFleet]
) -> None:
    url, sim = live
    with dashboard(browser, url) as page:
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
    with dashboard(browser, url, timeout_ms=30_000) as page:
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

        for vehicle in sim.vehicles.values():
            vehicle.blocked_nodes.clear()  # the pallet is taken away
        page.reload()
        action = f"#obstacle-{entrance_node}"
        assert "reported by" in page.inner_text(action)
        shot(page, "dash-fleet-actions")
        press(page, f"{action} button")
        assert f"Node {entrance_node} is free again" in page.inner_text("#flash")
        task = next(t for t in sim.fleet.tasks.values() if t.load_id == "tote-cut-off")
        assert wait_for(lambda: task.status == TaskStatus.DONE, 60), task.status
        assert page.query_selector(action) is None


def test_fleet_actions_are_in_chinese_and_only_for_supervisors(
    browser: Any, live: tuple[str, InProcessFleet]
) -> None:
    url, sim = live
    sim.fleet.on_connection("agv001", "CONNECTIONBROKEN")  # its last will: out of service
    assert wait_for(lambda: sim.fleet.snapshot()["blocked"], 10)
    for user, locale in (("supervisor", "zh-CN"), ("viewer", "en-US")):
        with dashboard(browser, url, user, locale) as page:
            if user == "viewer":
                assert page.query_selector("#fleet-actions") is None
                csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "whs_csrf")
                removed = f"{url}/dash/fleet/vehicles/agv001/removed"
                refused = page.request.post(removed, form={"csrf": csrf}, max_redirects=0)
                assert refused.status == 403
                continue
            held = page.inner_text("#held-by-agv001")
            assert "agv001 已停用" in held and "车辆已移出场地" in held, held
            shot(page, "dash-fleet-actions-zh")
            press(page, "#held-by-agv001 button")
            assert "agv001 已移出场地" in page.inner_text("#flash")
            assert sim.fleet.snapshot()["blocked"] == []


def test_a_supervisor_says_where_a_load_left_on_a_vehicle_is_now(
    browser: Any, live: tuple[str, InProcessFleet]
) -> None:
    url, sim = live
    picks, packs, node = sim.layout.cells(PICK), sim.layout.cells(PACK), sim.layout.node_id
    task = sim.fleet.submit(TaskKind.TOTE, node(picks[0]), node(packs[2]), "tote-held")
    assert wait_for(lambda: task.status == TaskStatus.CARRYING, 60), task.status
    carrier = task.vehicle or ""
    sim.fleet.on_connection(carrier, "CONNECTIONBROKEN")  # gone with the tote on board
    assert wait_for(lambda: task.status == TaskStatus.NEEDS_RECOVERY, 10)
    spot = node(picks[3])  # the operator put the tote down at another pick station
    with dashboard(browser, url) as page:
        held = f"#held-task-{task.id}"
        assert f"load tote-held was left with vehicle {carrier}" in page.inner_text(held)
        press(page, f"{held} form:first-of-type button")  # no node given
        assert "Give the node where the load is now" in page.inner_text("#flash")
        page.fill(f"{held} input[name=node]", spot)
        press(page, f"{held} form:first-of-type button")
        assert f"Task {task.id} goes on from {spot}" in page.inner_text("#flash")
        assert page.query_selector(held) is None
        assert wait_for(lambda: task.status == TaskStatus.DONE, 60), task.status
        assert task.vehicle != carrier and node(task.source) == spot
