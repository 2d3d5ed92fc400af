"""Every event type the contracts define is accepted by the uplink schema and handled by central."""

from firmware_interfaces.validation import EVENT_DATA_SCHEMAS, load_schema

from central.ingest.handlers import HANDLERS, LOG_ONLY


def test_contract_uplink_schema_and_central_know_the_same_event_types() -> None:
    batch = load_schema("uplink_batch")
    allowed = set(batch["properties"]["events"]["items"]["properties"]["type"]["enum"])
    defined = set(EVENT_DATA_SCHEMAS)
    assert allowed == defined, (
        f"uplink_batch enum and EVENT_DATA_SCHEMAS differ: {allowed ^ defined}"
    )
    assert defined == set(HANDLERS) | LOG_ONLY, (
        f"central neither handles nor logs: {defined - set(HANDLERS) - LOG_ONLY}"
    )
