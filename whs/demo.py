"""`whs demo`: the whole stack on embedded defaults, with trucks arriving at the docks."""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import yaml
from firmware_interfaces import topics
from firmware_interfaces.epc import Sgtin, encode_sgtin96
from paho.mqtt.enums import CallbackAPIVersion

from central.seed import DEMO_DOCKS, DEMO_SKUS, DemoSku
from whs.broker import AGV, CENTRAL, DEVICE, EDGE, SIM, BrokerAccount, LocalBroker, find_free_port

logger = logging.getLogger(__name__)

SITE = "wh1"
EDGE_ID = "edge-01"
DEMO_USER_PASSWORD = "demo-pass"
TARE_KG = Decimal("25.0")
AGVS = ("agv01", "agv02", "agv03", "agv04")
AGV_PASSWORD = "demo-agv-pass"
FLEET_LAYOUT = {"homes": len(AGVS), "width": 25, "stations": 4}


@dataclass
class Truck:
    """One delivery: an ASN with its pallet, and the fault the demo put into it (if any)."""

    number: str
    dock: str
    lines: dict[str, int]
    epcs: list[str]
    gross_kg: float
    fault: str | None = None
    pallet_epcs: list[str] = field(default_factory=list)


class TruckMaker:
    """Makes trucks with tagged items; every `fault_every`-th truck carries a fault."""

    def __init__(self, seed: int, fault_every: int = 4) -> None:
        self.rng = random.Random(seed)
        self.serials = itertools.count(1000)
        self.numbers = itertools.count(1)
        self.fault_every = fault_every

    def next(self, dock: str) -> Truck:
        """The next truck for `dock`."""
        n = next(self.numbers)
        skus: list[DemoSku] = self.rng.sample(list(DEMO_SKUS), k=self.rng.randint(1, 3))
        lines = {sku.code: self.rng.randint(3, 8) for sku in skus}
        epcs = [
            encode_sgtin96(Sgtin(sku.gtin, next(self.serials)))
            for sku in skus
            for _ in range(lines[sku.code])
        ]
        weight = TARE_KG + sum((s.unit_weight_kg * lines[s.code] for s in skus), Decimal(0))
        truck = Truck(
            f"ASN-{time.strftime('%Y%m%d-%H%M%S')}-{n:03d}", dock, lines, epcs, float(weight)
        )
        truck.pallet_epcs = list(epcs)
        if self.fault_every and n % self.fault_every == 0:
            truck.fault = ("missing case", "foreign tag", "overweight")[(n // self.fault_every) % 3]
            if truck.fault == "missing case":
                truck.pallet_epcs.pop()
            elif truck.fault == "foreign tag":
                truck.pallet_epcs.append(
                    encode_sgtin96(Sgtin("04012345678901", next(self.serials)))
                )
            else:
                truck.gross_kg += 9.5
        return truck


def _write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class DemoStack:
    """Broker, central, edge and device stand-ins as child processes of the demo."""

    def __init__(self, workdir: Path, port: int, seed: int) -> None:
        self.workdir = workdir
        self.port = port
        self.seed = seed
        devices = [d for _, gate, scale in DEMO_DOCKS for d in (gate, scale)]
        accounts = [
            BrokerAccount("central", CENTRAL),
            BrokerAccount(EDGE_ID, EDGE),
            BrokerAccount("sim", SIM),
        ]
        accounts += [BrokerAccount(device, DEVICE) for device in devices]
        accounts += [BrokerAccount(s, AGV, password=AGV_PASSWORD) for s in AGVS]
        self.broker = LocalBroker(workdir / "broker", accounts)
        self.children: list[subprocess.Popen[bytes]] = []
        self.api = f"http://127.0.0.1:{port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            WHS_MODE="dev",
            WHS_DATABASE_URL=f"sqlite:///{self.workdir / 'whs.db'}",
            WHS_SITE=SITE,
            WHS_MQTT_HOST=self.broker.host,
            WHS_MQTT_PORT=str(self.broker.port),
            WHS_MQTT_USERNAME="central",
            WHS_MQTT_PASSWORD=self.broker.account("central").password,
            WHS_FLEET_CONFIG=str(self.workdir / "fleet.yaml"),
        )
        return env

    def _fleet_configs(self) -> Path:
        """The fleet file central reads and the AGV stand-ins' file (VDA 5050, real time)."""
        from central.fleet.layout import HOME, generate_layout

        layout = generate_layout(**FLEET_LAYOUT)
        homes = [layout.node_id(c) for c in layout.cells(HOME)[: len(AGVS)]]
        _write_yaml(
            self.workdir / "fleet.yaml",
            {
                "layout": {"generate": FLEET_LAYOUT},
                "vehicles": [{"serial": s, "home": h} for s, h in zip(AGVS, homes, strict=True)],
            },
        )
        vehicles = []
        for serial, home in zip(AGVS, homes, strict=True):
            x, y = layout.position(layout.cell_of(home))
            vehicles.append({"serial": serial, "start_node": home, "x": x, "y": y})
        agvs = {
            "broker": {
                "host": self.broker.host,
                "port": self.broker.port,
                "username": "{serial}",
                "password": AGV_PASSWORD,
            },
            "time_factor": 1.0,
            "vehicles": vehicles,
        }
        return _write_yaml(self.workdir / "agvs.yaml", agvs)

    def _configs(self) -> tuple[Path, Path]:
        broker = {"host": self.broker.host, "port": self.broker.port}
        edge = {
            "edge_id": EDGE_ID,
            "site": SITE,
            "data_dir": str(self.workdir / EDGE_ID),
            "broker": {
                **broker,
                "username": EDGE_ID,
                "password": self.broker.account(EDGE_ID).password,
            },
            "devices": [
                spec
                for _, gate, scale in DEMO_DOCKS
                for spec in (
                    {"id": gate, "kind": "rfid_gate", "dedup_window_s": 5.0, "pass_gap_s": 1.5},
                    {
                        "id": scale,
                        "kind": "scale",
                        "window": 8,
                        "max_spread_kg": 0.2,
                        "min_load_kg": 2.0,
                    },
                )
            ],
        }
        sim = {
            "site": SITE,
            "broker": broker,
            "seed": self.seed,
            "time_factor": 1.0,
            "control": {"username": "sim", "password": self.broker.account("sim").password},
            "docks": [
                {
                    "dock": dock,
                    "gate": {
                        "id": gate,
                        "password": self.broker.account(gate).password,
                        "miss_rate": 0.1,
                        "duplicate_rate": 0.3,
                    },
                    "scale": {"id": scale, "password": self.broker.account(scale).password},
                }
                for dock, gate, scale in DEMO_DOCKS
            ],
        }
        return _write_yaml(self.workdir / "edge.yaml", edge), _write_yaml(
            self.workdir / "devices.yaml", sim
        )

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child
        cmd = [sys.executable, "-m", "whs", *args]
        self.children.append(
            subprocess.Popen(cmd, env=self._env(), stdout=log, stderr=subprocess.STDOUT)
        )

    def start(self) -> None:
        """Start everything and wait until central answers."""
        from central.app import prepare_database
        from central.db.engine import make_engine, make_session_factory, transaction
        from central.deps import Container
        from central.seed import seed_demo
        from central.settings import Settings

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        settings = Settings(database_url=f"sqlite:///{self.workdir / 'whs.db'}")
        engine = make_engine(settings.database_url)
        container = Container(settings, make_session_factory(engine))
        prepare_database(container)
        with transaction(container.sessions) as session:
            seed_demo(session, SITE, DEMO_USER_PASSWORD)
        engine.dispose()
        edge_cfg, sim_cfg = self._configs()
        agvs_cfg = self._fleet_configs()
        self._spawn("agvs", "sim", "agvs", "--config", str(agvs_cfg))
        self._spawn("central", "central", "serve", "--port", str(self.port))
        self._spawn("edge", "edge", "run", "--config", str(edge_cfg))
        self._spawn("devices", "sim", "devices", "--config", str(sim_cfg))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            for child in self.children:
                if child.poll() is not None:
                    raise RuntimeError(f"{child.args!r} exited; see {self.workdir}/*.log")
            time.sleep(0.3)
        raise RuntimeError(f"central did not answer on {self.api}; see {self.workdir}/central.log")

    def stop(self) -> None:
        """Stop the children (SIGINT, then SIGKILL after 10 s) and the broker."""
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.broker.stop()


class DemoClient:
    """The demo's supplier and receiver: REST calls to central, pallets to the stand-ins."""

    def __init__(self, stack: DemoStack) -> None:
        self.http = httpx.Client(base_url=stack.api, timeout=10)
        token = self.http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "admin"}
        ).json()
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"
        sim = stack.broker.account("sim")
        self.mqtt = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="whs-demo-trucks")
        self.mqtt.username_pw_set(sim.username, sim.password)
        self.mqtt.connect(stack.broker.host, stack.broker.port)
        self.mqtt.loop_start()

    def deliver(self, truck: Truck) -> None:
        """Announce the ASN, check the truck in at its dock, and roll the pallet through."""
        asn = {
            "number": truck.number,
            "site": SITE,
            "supplier": "Shenzhen Goods Co. / 深圳好货",
            "pallet_tare_kg": str(TARE_KG),
            "lines": [{"sku": sku, "qty": qty} for sku, qty in truck.lines.items()],
            "expected_epcs": truck.epcs,
        }
        self.http.post("/api/v1/inbound/asns", json=asn).raise_for_status()
        self.http.post(
            f"/api/v1/inbound/asns/{truck.number}/arrive", json={"dock": truck.dock}
        ).raise_for_status()
        pallet = {"pallet_id": truck.number, "epcs": truck.pallet_epcs, "gross_kg": truck.gross_kg}
        self.mqtt.publish(
            topics.sim_topic(SITE, truck.dock, "pallet"), json.dumps(pallet), qos=1
        ).wait_for_publish(5)

    def carry_tote(self, n: int) -> None:
        """Queue the n-th tote transport (pick station -> pack station) for the AGVs."""
        grid = self.http.get("/api/v1/fleet/map")
        if grid.status_code != 200:
            return
        nodes = grid.json()["nodes"]
        picks = [x["id"] for x in nodes if x["kind"] == "P"]
        packs = [x["id"] for x in nodes if x["kind"] == "K"]
        if picks and packs:
            body = {
                "kind": "tote",
                "source": picks[n % len(picks)],
                "dest": packs[-1 - n % len(packs)],
            }
            self.http.post("/api/v1/fleet/tasks", json={**body, "load_id": f"TOTE-{n:04d}"})

    def status(self, number: str) -> dict[str, Any]:
        """The ASN as central sees it."""
        result: dict[str, Any] = self.http.get(f"/api/v1/inbound/asns/{number}").json()
        return result

    def moves(self, after_id: int) -> list[dict[str, Any]]:
        """Ledger moves after `after_id`."""
        result: list[dict[str, Any]] = self.http.get(
            "/api/v1/stock/moves", params={"after_id": after_id}
        ).json()
        return result

    def close(self) -> None:
        """Disconnect."""
        self.mqtt.loop_stop()
        self.mqtt.disconnect()
        self.http.close()


def _banner(stack: DemoStack, workdir: Path, interval: float) -> str:
    rows = [
        ("API + OpenAPI docs", f"{stack.api}/docs"),
        ("Handheld screens", f"{stack.api}/h/"),
        ("Dashboard", f"{stack.api}/dash/"),
        ("Stock ledger", f"{stack.api}/api/v1/stock/moves"),
        ("AGV fleet", f"{stack.api}/api/v1/fleet (live map on the dashboard)"),
        ("MQTT broker", f"127.0.0.1:{stack.broker.port} (per-device accounts, ACLs)"),
        ("Sign in", f"admin/admin; supervisor, operator, viewer: {DEMO_USER_PASSWORD}"),
        ("Logs", f"{workdir}/*.log"),
    ]
    lines = [f"  {name:<20}{value}" for name, value in rows]
    return "\n" + "\n".join(lines) + f"\n\nTrucks arrive every {interval:g} s; Ctrl-C stops.\n"


def _truck_line(truck: Truck) -> str:
    fault = f" (with a fault: {truck.fault})" if truck.fault else ""
    items = sum(truck.lines.values())
    return f"truck {truck.number} at {truck.dock}: {items} items, {truck.gross_kg:.2f} kg{fault}"


def _move_line(move: dict[str, Any]) -> str:
    route = f"{move['from_location']} -> {move['to_location']}"
    what = f"{move['qty']:>3} x {move['sku']:<9}"
    return f"  ledger #{move['id']}: {what} {route} ({move['reason']} {move['ref_id']})"


def run_demo(
    workdir: Path, port: int | None, duration: float | None, interval: float, seed: int
) -> int:
    """Run the demo until Ctrl-C or `duration` seconds; returns a process exit code."""
    stack = DemoStack(workdir, port or find_free_port(), seed)
    print(f"whs demo: starting in {workdir} ...", flush=True)
    stack.start()
    print(_banner(stack, workdir, interval), flush=True)
    client = DemoClient(stack)
    maker = TruckMaker(seed)
    docks = itertools.cycle(dock for dock, _, _ in DEMO_DOCKS)
    pending: set[str] = set()
    last_move = 0
    started = time.monotonic()
    next_truck = started
    counts = {"received": 0, "discrepancy": 0}
    try:
        while duration is None or time.monotonic() - started < duration:
            if time.monotonic() >= next_truck:
                truck = maker.next(next(docks))
                client.deliver(truck)
                client.carry_tote(len(pending) + sum(counts.values()))
                pending.add(truck.number)
                print(_truck_line(truck), flush=True)
                next_truck = time.monotonic() + interval
            for number in sorted(pending):
                asn = client.status(number)
                if asn["status"] in counts:
                    counts[asn["status"]] += 1
                    pending.discard(number)
                if asn["status"] == "discrepancy":
                    kinds = ", ".join(sorted({d["kind"] for d in asn["discrepancies"]}))
                    print(f"  {number}: held for a supervisor: {kinds}", flush=True)
            for move in client.moves(last_move):
                last_move = move["id"]
                print(_move_line(move), flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        client.close()
        stack.stop()
    booked, held = counts["received"], counts["discrepancy"]
    print(f"whs demo: {booked} receipts booked, {held} held for a supervisor", flush=True)
    return 0
