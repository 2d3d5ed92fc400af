"""docker-compose.yml and deploy/ agree with the code: services, images, settings, files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from central.settings import Settings
from whs.cli import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def test_the_stack_has_every_service_with_pinned_images() -> None:
    assert set(SERVICES) == {"mosquitto", "postgres", "influxdb", "central", "edge", "devices"}
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name} image {image} is not pinned"


def test_central_environment_names_are_real_settings() -> None:
    env = SERVICES["central"]["environment"]
    fields = {f"WHS_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, f"unknown settings: {set(env) - fields}"
    assert env["WHS_MODE"] == "prod"
    assert env["WHS_MQTT_HOST"] == "mosquitto"
    assert "@postgres:5432/" in env["WHS_DATABASE_URL"]
    assert env["WHS_INFLUX_URL"].startswith("http://influxdb:")


def test_no_default_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for match in re.finditer(r"\$\{([A-Z0-9_]+)([^}]*)\}", text):
        name, rest = match.groups()
        assert rest.startswith(":?"), f"{name} must be required (${{{name}:?...}}), not defaulted"
    for service in SERVICES.values():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert "${" in str(value), f"{key} is written into the compose file"


def test_commands_exist_in_the_cli() -> None:
    cli = get_command(app)
    for name in ("central", "edge", "devices"):
        command = SERVICES[name]["command"]
        group = cli.commands[command[0]]  # type: ignore[attr-defined]
        assert command[1] in group.commands, (
            f"{name}: `whs {command[0]} {command[1]}` does not exist"
        )


def test_mounted_files_exist_and_broker_config_keeps_queued_messages() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.endswith("passwd"):  # passwd is generated
                assert (ROOT / source).exists(), f"{source} is mounted but missing"
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert int(re.search(r"max_queued_messages (\d+)", conf).group(1)) >= 100_000  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["WHS_EDGE_MQTT_PASSWORD", "WHS_SIM_MQTT_PASSWORD"])
def test_env_example_lists_every_required_secret(name: str) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = {
        line.split("=")[0]
        for line in (ROOT / "deploy/env.example").read_text().splitlines()
        if "=" in line
    }
    assert required <= example
    assert name in required


def test_edge_and_device_configs_load_with_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edge.config import ConfigError, load_edge_config
    from simulators.devices.config import SimConfigError, load_standins_config

    with pytest.raises(ConfigError, match="WHS_EDGE_MQTT_PASSWORD"):
        load_edge_config(ROOT / "deploy/edge.yaml")
    for name in (
        "WHS_EDGE_MQTT_PASSWORD",
        "WHS_SIM_MQTT_PASSWORD",
        "WHS_GATE_01_MQTT_PASSWORD",
        "WHS_SCALE_01_MQTT_PASSWORD",
    ):
        monkeypatch.setenv(name, f"secret-of-{name}")
    edge = load_edge_config(ROOT / "deploy/edge.yaml")
    assert (
        edge.broker.host == "mosquitto"
        and edge.broker.password == "secret-of-WHS_EDGE_MQTT_PASSWORD"
    )
    sims = load_standins_config(ROOT / "deploy/devices.yaml")
    assert (
        sims.docks[0].gate is not None
        and sims.docks[0].gate.password == "secret-of-WHS_GATE_01_MQTT_PASSWORD"
    )
    assert {d.id for d in edge.devices} == {"gate-01", "scale-01"}
    acl = (ROOT / "deploy/mosquitto/acl").read_text()
    assert f"user {edge.edge_id}" in acl
    monkeypatch.delenv("WHS_SIM_MQTT_PASSWORD")
    with pytest.raises(SimConfigError, match="WHS_SIM_MQTT_PASSWORD"):
        load_standins_config(ROOT / "deploy/devices.yaml")
