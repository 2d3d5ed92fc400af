"""The MQTT topic tree: one place that builds and parses every topic the system uses.

whs/v1/{site}/devices/{kind}/{device_id}/{channel}   device traffic (reads, weight, status, ...)
whs/v1/{site}/edges/{edge_id}/{channel}              edge <-> central (uplink, ack, cmd, ...)
whs/v1/{site}/sim/{dock}/{channel}                   simulator control plane (stand-ins only)
uagv/v2/{manufacturer}/{serial_number}/{topic}       VDA 5050 2.1 (its own tree, as the spec says)
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "whs/v1"
CENTRAL_INGEST_GROUP = "central-ingest"

# Device kinds and channels
RFID = "rfid"
SCALE = "scale"
READS = "reads"
WEIGHT = "weight"
STATUS = "status"

# Edge channels
UPLINK = "uplink"
ACK = "ack"
CMD = "cmd"
CMD_RESULT = "cmd-result"


def _segment(value: str, what: str) -> str:
    if not value or any(ch in value for ch in "/+#") or value.startswith("$"):
        raise ValueError(f"{what} {value!r} cannot be used in an MQTT topic")
    return value


def device_topic(site: str, kind: str, device_id: str, channel: str) -> str:
    """Topic a device publishes (or receives) `channel` on."""
    parts = (_segment(site, "site"), _segment(kind, "kind"), _segment(device_id, "device id"))
    return f"{ROOT}/{parts[0]}/devices/{parts[1]}/{parts[2]}/{_segment(channel, 'channel')}"


def device_filter(site: str, kind: str = "+", channel: str = "+") -> str:
    """Subscription filter for the devices of one site."""
    return f"{ROOT}/{site}/devices/{kind}/+/{channel}"


def edge_topic(site: str, edge_id: str, channel: str) -> str:
    """Topic of an edge agent's `channel` (uplink, ack, cmd, cmd-result, status)."""
    return f"{ROOT}/{_segment(site, 'site')}/edges/{_segment(edge_id, 'edge id')}/{channel}"


def uplink_filter(shared_group: str | None = CENTRAL_INGEST_GROUP) -> str:
    """Filter central ingest subscribes to: every edge of every site, shared when grouped."""
    plain = f"{ROOT}/+/edges/+/{UPLINK}"
    return f"$share/{shared_group}/{plain}" if shared_group else plain


def edge_status_filter() -> str:
    """Filter for every edge agent's retained status (with last will)."""
    return f"{ROOT}/+/edges/+/{STATUS}"


def sim_topic(site: str, dock: str, channel: str) -> str:
    """Simulator control topic: tells stand-ins at a dock what physically happens there."""
    return f"{ROOT}/{_segment(site, 'site')}/sim/{_segment(dock, 'dock')}/{channel}"


def vda5050_topic(manufacturer: str, serial_number: str, topic: str, version: str = "v2") -> str:
    """VDA 5050 topic: uagv/{major version}/{manufacturer}/{serial number}/{topic}."""
    return f"uagv/{version}/{manufacturer}/{serial_number}/{topic}"


@dataclass(frozen=True)
class DeviceTopic:
    """A parsed device topic."""

    site: str
    kind: str
    device_id: str
    channel: str


@dataclass(frozen=True)
class EdgeTopic:
    """A parsed edge topic."""

    site: str
    edge_id: str
    channel: str


def parse_device_topic(topic: str) -> DeviceTopic:
    """Split a device topic into its parts; ValueError if it is not one."""
    parts = topic.split("/")
    if len(parts) != 7 or "/".join(parts[:2]) != ROOT or parts[3] != "devices":
        raise ValueError(f"not a device topic: {topic!r}")
    return DeviceTopic(site=parts[2], kind=parts[4], device_id=parts[5], channel=parts[6])


def parse_edge_topic(topic: str) -> EdgeTopic:
    """Split an edge topic into its parts; ValueError if it is not one."""
    parts = topic.split("/")
    if len(parts) != 6 or "/".join(parts[:2]) != ROOT or parts[3] != "edges":
        raise ValueError(f"not an edge topic: {topic!r}")
    return EdgeTopic(site=parts[2], edge_id=parts[4], channel=parts[5])
