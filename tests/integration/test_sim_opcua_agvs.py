"""`whs sim opcua-agvs`: the OPC UA AGV controller stand-in as a process an operator starts."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from asyncua import Client, ua

from whs.broker import find_free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


async def drive(endpoint: str) -> tuple[str, str]:
    """GoTo two nodes for acme01; where it stands before and after."""
    async with Client(endpoint, timeout=5) as client:
        ns = await client.get_namespace_index("urn:whs:sim:opcua-agv")
        fleet = client.get_node("ns=2;s=Fleet")
        vehicle = await fleet.get_child([f"{ns}:Vehicles", f"{ns}:acme01", f"{ns}:LastNodeId"])
        before = await vehicle.read_value()
        await fleet.call_method(
            f"{ns}:GoTo",
            ua.Variant("acme01", ua.VariantType.String),
            ua.Variant("o-1", ua.VariantType.String),
            ua.Variant("c2_1,c2_2,c2_3", ua.VariantType.String),
        )
        for _ in range(100):
            after = await vehicle.read_value()
            if after == "c2_3":
                break
            await asyncio.sleep(0.05)
        return before, after


def test_the_opcua_agv_controller_runs_drives_a_vehicle_and_stops_on_sigterm() -> None:
    port = find_free_port()
    cmd = [sys.executable, "-m", "whs", "sim", "opcua-agvs", "--port", str(port)]
    args = ["--vehicle", "acme01=c2_1", "--vehicle", "acme02=c5_1", "--time-factor", "20"]
    process = subprocess.Popen(
        cmd + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        while banner and "OPC UA AGV controller on" not in banner:
            banner = process.stdout.readline()
        assert f"opc.tcp://127.0.0.1:{port}/whs/agv/" in banner
        assert "acme01 at c2_1" in banner and "acme02 at c5_1" in banner
        before, after = asyncio.run(drive(f"opc.tcp://127.0.0.1:{port}/whs/agv/"))
        assert (before, after) == ("c2_1", "c2_3")
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "OPC UA AGV controller stopped" in rest


def test_a_bad_vehicle_option_is_refused_with_exit_code_2() -> None:
    cmd = [sys.executable, "-m", "whs", "sim", "opcua-agvs", "--vehicle", "acme01=hall"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "expected a new serial=c<x>_<y>" in done.stderr
