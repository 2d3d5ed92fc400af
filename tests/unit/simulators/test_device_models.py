"""Device models run as fast as the CPU allows: payloads obey the contracts; the edge reads them."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import simpy
from firmware_interfaces.validation import validate

from edge.converters.rfid import GatePassTracker, parse_rfid_reads
from edge.converters.scale import StableWeightDetector, parse_scale_weight
from simulators.devices.config import GateSim, ScaleSim
from simulators.devices.dock import DockModel
from simulators.devices.rfid_gate import RfidGateModel
from simulators.devices.scale import ScaleModel

T0 = datetime(2025, 3, 1, 8, tzinfo=UTC)
EPCS = [f"3034257BF7194E40000000{i:02X}" for i in range(1, 21)]


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, channel: str, payload: dict[str, Any]) -> None:
        self.messages.append((channel, json.loads(json.dumps(payload))))  # as it goes on the wire


def sim_clock(env: simpy.Environment):
    return lambda: T0 + timedelta(seconds=env.now)


def run_gate(config: GateSim, epcs=EPCS, seed: int = 1) -> tuple[Recorder, set[str]]:
    env, rec = simpy.Environment(), Recorder()
    gate = RfidGateModel(env, config, rec, random.Random(seed), sim_clock(env))
    proc = env.process(gate.pass_pallet(epcs))
    env.run()
    return rec, proc.value


def test_a_clean_inbound_pass_reports_every_tag_outer_then_inner():
    rec, seen = run_gate(GateSim("gate-01", miss_rate=0.0, duplicate_rate=0.0))
    assert seen == set(EPCS)
    assert [m[1]["seq"] for m in rec.messages] == list(range(1, 11))  # 2.0 s / 0.2 s cycles
    antennas = [{r["antenna"] for r in p["reads"]} for _, p in rec.messages]
    assert antennas == [{1}] * 5 + [{2}] * 5
    for channel, payload in rec.messages:
        assert channel == "reads"
        validate("rfid_reads", payload)


def test_the_edge_turns_a_noisy_pass_into_one_inbound_gate_pass_with_every_reported_tag():
    rec, seen = run_gate(GateSim("gate-01", miss_rate=0.3, duplicate_rate=0.5, rssi_noise_db=6))
    tracker = GatePassTracker("gate-01", pass_gap_s=1.0, dedup_window_s=5.0)
    events = []
    for i, (_, payload) in enumerate(rec.messages):
        batch = parse_rfid_reads(json.dumps(payload).encode(), "gate-01")
        events += tracker.add(batch.reads, T0 + timedelta(seconds=0.2 * i))
    events += tracker.poll(T0 + timedelta(seconds=60))
    [event] = events
    assert {t["epc"] for t in event.data["tags"]} == seen
    assert event.data["direction"] == "in"


def test_duplicates_and_misses_follow_the_configured_rates():
    rec, _ = run_gate(GateSim("gate-01", miss_rate=0.0, duplicate_rate=1.0), epcs=EPCS[:5])
    per_batch = [Counter(r["epc"] for r in p["reads"]) for _, p in rec.messages]
    assert any(max(c.values()) > 1 for c in per_batch)  # some in the same batch
    assert sum(sum(c.values()) for c in per_batch) == 2 * 5 * 10  # every read reported twice

    rec, seen = run_gate(GateSim("gate-01", miss_rate=1.0))
    assert rec.messages == [] and seen == set()


def test_rssi_is_noisy_around_the_configured_level_and_within_the_contract():
    rec, _ = run_gate(
        GateSim("gate-01", miss_rate=0.0, duplicate_rate=0.0, rssi_dbm=-60, rssi_noise_db=3)
    )
    rssi = [r["peak_rssi"] for _, p in rec.messages for r in p["reads"]]
    assert len(set(rssi)) > 10
    assert -62 < sum(rssi) / len(rssi) < -58


def test_the_same_seed_gives_the_same_reads():
    config = GateSim("gate-01", miss_rate=0.2, duplicate_rate=0.3)
    assert run_gate(config, seed=7)[0].messages == run_gate(config, seed=7)[0].messages
    assert run_gate(config, seed=7)[0].messages != run_gate(config, seed=8)[0].messages


def run_scale(config: ScaleSim, gross_kg: float, seconds: float) -> Recorder:
    env, rec = simpy.Environment(), Recorder()
    scale = ScaleModel(env, config, rec, random.Random(3), sim_clock(env))
    env.run(until=1.0)
    env.process(scale.weigh(gross_kg))
    env.run(until=seconds)
    return rec


def detect(rec: Recorder) -> list:
    detector = StableWeightDetector("scale-01", window=8, max_spread_kg=0.2, min_load_kg=2.0)
    samples = [parse_scale_weight(json.dumps(p).encode(), "scale-01") for _, p in rec.messages]
    return [e for e in map(detector.add, samples) if e]


def test_a_load_settles_after_settle_s_and_the_edge_reports_it_once():
    config = ScaleSim("scale-01", sample_period_s=0.2, noise_kg=0.02, settle_s=1.5, dwell_s=4.0)
    rec = run_scale(config, 412.5, seconds=10.0)
    for _, payload in rec.messages:
        validate("scale_weight", payload)
    weights = [p["gross_kg"] for _, p in rec.messages]
    motion = [p["motion"] for _, p in rec.messages]
    assert abs(weights[0]) < 0.2 and motion[0] is False  # empty before the load
    # placed just after the 1.0 s sample: samples at 1.2 .. 2.4 s are in motion, 2.6 s is not
    assert motion[6:14] == [True] * 7 + [False]
    assert max(weights[6:9]) - min(weights[6:9]) > 1.0  # it really swings
    assert abs(weights[-1]) < 0.2  # taken off after settle + dwell
    [event] = detect(rec)
    assert abs(event.data["kg"] - 412.5) < 0.05


def test_an_unsettled_scale_never_gives_a_stable_weight():
    rec = run_scale(ScaleSim("scale-01", unsettled=True, dwell_s=30.0), 412.5, seconds=30.0)
    assert all(p["motion"] for _, p in rec.messages[6:140])
    assert detect(rec) == []
    # even a detector that ignores the motion flag sees the spread
    stripped = Recorder()
    stripped.messages = [
        (c, {k: v for k, v in p.items() if k != "motion"}) for c, p in rec.messages
    ]
    assert detect(stripped) == []


def test_a_dock_passes_the_gate_then_weighs():
    env, gate_rec, scale_rec = simpy.Environment(), Recorder(), Recorder()
    gate = RfidGateModel(
        env, GateSim("gate-01", miss_rate=0.0), gate_rec, random.Random(1), sim_clock(env)
    )
    scale = ScaleModel(env, ScaleSim("scale-01"), scale_rec, random.Random(2), sim_clock(env))
    dock = DockModel(env, "DOCK-01", gate, scale)
    proc = env.process(dock.receive_pallet(EPCS[:3], 100.0))
    env.run(until=proc)
    assert proc.value == set(EPCS[:3])
    assert env.now >= 2.0 + 1.5 + 4.0
    loaded = [p for _, p in scale_rec.messages if p["gross_kg"] > 50]
    first_loaded = datetime.fromisoformat(loaded[0]["ts"])
    last_read = max(datetime.fromisoformat(p["sent_at"]) for _, p in gate_rec.messages)
    assert first_loaded >= last_read


def test_two_pallets_weighed_back_to_back_give_two_stable_weights():
    env, rec = simpy.Environment(), Recorder()
    config = ScaleSim("scale-01", sample_period_s=0.2, settle_s=1.0, dwell_s=2.0)
    scale = ScaleModel(env, config, rec, random.Random(3), sim_clock(env))
    env.process(scale.weigh(120.0))
    env.process(scale.weigh(80.0))  # queues for the platform
    env.run(until=10.0)
    assert [round(e.data["kg"]) for e in detect(rec)] == [120, 80]
