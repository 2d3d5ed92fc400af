"""Wire contracts: schemas load, good payloads pass, bad ones fail with a reason; topics."""

import pytest
from firmware_interfaces import topics
from firmware_interfaces.validation import (
    ContractError,
    decode_json,
    load_schema,
    schema_names,
    validate,
    validate_event,
)

READS = {
    "reader_id": "gate-01",
    "seq": 7,
    "sent_at": "2026-11-25T10:00:00.120Z",
    "reads": [
        {
            "epc": "3074257BF7194E4000001A85",
            "antenna": 1,
            "peak_rssi": -52.5,
            "first_seen": "2026-11-25T10:00:00.100Z",
        }
    ],
}


def test_every_schema_is_a_valid_json_schema() -> None:
    names = schema_names() + [
        f"vda5050/{n}"
        for n in ("order", "state", "instantActions", "connection", "factsheet", "visualization")
    ]
    for name in names:
        load_schema(name)
        with pytest.raises(ContractError):
            validate(name, [])  # every contract is an object


def test_good_read_batch_passes() -> None:
    assert validate("rfid_reads", READS) == READS


@pytest.mark.parametrize(
    ("mutation", "where"),
    [
        ({"seq": -1}, "seq"),
        ({"sent_at": "2026-11-25 10:00"}, "sent_at"),
        ({"reads": [{**READS["reads"][0], "epc": "XYZ"}]}, "reads/0/epc"),
        ({"reads": [{**READS["reads"][0], "antenna": 0}]}, "reads/0/antenna"),
        ({"extra": 1}, "(root)"),
    ],
)
def test_bad_read_batch_says_where(mutation: dict, where: str) -> None:
    with pytest.raises(ContractError) as err:
        validate("rfid_reads", {**READS, **mutation})
    assert where in err.value.reason


def test_not_json_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="not JSON"):
        decode_json("scale_weight", b"\xff\x00garbage")


def test_event_data_checked_by_type() -> None:
    event = {
        "type": "scale.stable_weight",
        "source": "scale-01",
        "ts": "2026-11-25T10:00:00Z",
        "data": {"kg": 1},
    }
    with pytest.raises(ContractError, match="scale_id"):
        validate_event(event)
    with pytest.raises(ContractError, match="unknown event type"):
        validate_event({**event, "type": "nope"})


def test_topic_tree_round_trip() -> None:
    topic = topics.device_topic("wh1", "rfid", "gate-01", topics.READS)
    assert topic == "whs/v1/wh1/devices/rfid/gate-01/reads"
    assert topics.parse_device_topic(topic) == topics.DeviceTopic("wh1", "rfid", "gate-01", "reads")
    assert (
        topics.parse_edge_topic(topics.edge_topic("wh1", "edge-01", topics.ACK)).edge_id
        == "edge-01"
    )
    assert topics.uplink_filter() == "$share/central-ingest/whs/v1/+/edges/+/uplink"


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "$SYS"])
def test_topic_segments_refuse_wildcards(bad: str) -> None:
    with pytest.raises(ValueError):
        topics.device_topic("wh1", "rfid", bad, topics.READS)


def test_asyncapi_document_names_real_schemas_and_topics() -> None:
    from importlib import resources

    import yaml

    doc = yaml.safe_load(
        resources.files("firmware_interfaces").joinpath("asyncapi.yaml").read_text()
    )
    assert doc["asyncapi"].startswith("3.")
    names = set(schema_names())
    for message in doc["components"]["messages"].values():
        assert message["payload"]["$ref"].removeprefix("./schemas/").removesuffix(".json") in names
    addresses = {c["address"] for c in doc["channels"].values()}
    assert topics.edge_topic("{site}", "{edgeId}", topics.UPLINK) in addresses


def test_deeply_nested_json_is_a_contract_error_not_a_crash() -> None:
    with pytest.raises(ContractError, match="nested too deeply"):
        decode_json("uplink_batch", b"[" * 100_000 + b"]" * 100_000)
