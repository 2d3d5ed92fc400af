"""Conformance over real Mosquitto: every VDA 5050 message either side sent validates against
the official 2.1.0 schemas and obeys the rules the schemas cannot express."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from firmware_interfaces.validation import validate, validate_event

from central.fleet.domain import TaskStatus
from edge.adapters.vda5050 import connection_event, state_event
from edge.vda5050.protocol import check_order_stream, validate_message
from tests.integration.test_fleet_flow import running_fleet, tote_tasks, wait_done

pytestmark = pytest.mark.integration


def test_every_message_obeys_the_schemas_and_the_protocol_rules(tmp_path: Path) -> None:
    with running_fleet(tmp_path, 4) as fleet:
        ids = tote_tasks(fleet, 8)
        time.sleep(1.0)
        fleet.manager.pause_all()
        time.sleep(0.5)
        paused = [v.paused for v in fleet.standins.vehicles.values()]
        fleet.manager.resume_all()
        fleet.master.instant("agv00", "factsheetRequest")
        fleet.master.instant("agv01", "stateRequest")
        wait_done(fleet, ids, 30)
        time.sleep(0.3)
        log = list(fleet.master.log or [])
        done = [fleet.manager.tasks[i].status for i in ids]
        factsheet = fleet.master.view("agv00").factsheet
    assert all(paused) and done.count(TaskStatus.DONE) == 8
    assert factsheet is not None and factsheet["serialNumber"] == "agv00"
    by_topic: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for direction, topic, msg in log:
        validate(f"vda5050/{topic}", msg)  # the official schema, again, independently
        validate_message(topic, msg)
        by_topic[(direction, topic, msg["serialNumber"])].append(msg)
    kinds = {(d, t) for d, t, _ in by_topic}
    assert {
        ("out", "order"),
        ("out", "instantActions"),
        ("in", "state"),
        ("in", "connection"),
        ("in", "factsheet"),
    } <= kinds
    for (direction, topic, serial), msgs in by_topic.items():
        ids_seen = [m["headerId"] for m in msgs]
        if direction == "out":
            assert ids_seen == list(range(len(msgs))), (topic, serial)  # +1 per message
        elif topic == "state":
            assert ids_seen == sorted(set(ids_seen)), serial  # only ever newer
        if direction == "out" and topic == "order":
            check_order_stream(msgs)
    for _, topic, msg in log:
        if topic == "state":
            validate_event(state_event(msg["serialNumber"], msg).to_wire())
        elif topic == "connection":
            validate_event(connection_event(msg["serialNumber"], msg).to_wire())
