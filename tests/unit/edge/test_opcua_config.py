"""OPC UA device configuration: defaults, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from edge.adapters.opcua import Tag, chunks, tag_name
from edge.config import ConfigError, OpcUaConfig, parse_edge_config


def parse(**device: Any) -> OpcUaConfig:
    raw = {"edge_id": "e", "site": "wh1", "broker": {}, "devices": [{"id": "arm-01", **device}]}
    config = parse_edge_config(raw).devices[0]
    assert isinstance(config, OpcUaConfig)
    return config


def test_defaults_and_security() -> None:
    config = parse(
        kind="opcua",
        endpoint="opc.tcp://plc:4840",
        nodes=["ns=2;s=A"],
        security={"certificate": "edge.der", "private_key": "edge.pem"},
    )
    assert config.publishing_interval_ms == 500 and config.queue_size == 10
    assert config.max_nodes_per_subscription == 1000 and config.connections == 1
    assert config.security is not None and config.security.mode == "SignAndEncrypt"


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ({"endpoint": "http://plc"}, "endpoint: expected opc.tcp://"),
        ({"nodes": ["ns=2;s=A"], "browse_root": "ns=2;s=R"}, "either nodes or browse_root"),
        ({"nodes": []}, "either nodes or browse_root"),
        ({"queue_size": 0}, "queue_size: must be >= 1"),
        ({"security": {"certificate": "c", "private_key": "k", "policy": "None"}}, "policy"),
        ({"reconnect_min_s": 5, "reconnect_max_s": 1}, "reconnect_max_s"),
        ({"subscription": 3}, "unknown key(s) subscription"),
    ],
)
def test_errors_name_the_field(device: dict[str, Any], message: str) -> None:
    base = {"kind": "opcua", "endpoint": "opc.tcp://plc:4840", "nodes": ["ns=2;s=A"]}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(**{**base, **device})


def test_tags_are_split_into_subscriptions_of_bounded_size() -> None:
    tags = [Tag(f"ns=2;s=T{i}", f"T{i}") for i in range(2500)]
    parts = chunks(tags, 1000)
    assert [len(p) for p in parts] == [1000, 1000, 500]
    assert [t for p in parts for t in p] == tags
    assert tag_name("ns=2;s=Arm.Speed") == "Arm.Speed" and tag_name("i=2258") == "i=2258"
