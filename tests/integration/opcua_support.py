"""Test support for OPC UA: self-signed certificates and a stand-in for central on MQTT."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from firmware_interfaces import topics
from paho.mqtt.enums import CallbackAPIVersion

from tests.helpers import wait_for as wait_for  # re-exported: older tests import it from here


def make_certificate(folder: Path, name: str, uri: str) -> tuple[Path, Path]:
    """A self-signed OPC UA application certificate (DER) and its key (PEM) for `uri`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(uri), x509.DNSName(socket.gethostname())]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{name}.der", folder / f"{name}.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class FakeCentral:
    """Acks every uplink batch of one edge, keeps its events, results and statuses."""

    def __init__(self, host: str, port: int, username: str, password: str, site: str, edge: str):
        self.site, self.edge = site, edge
        self.events: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fake-central-{edge}")
        client.username_pw_set(username, password)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        self._client = client
        self._host, self._port = host, port

    def __enter__(self) -> FakeCentral:
        self._client.connect(self._host, self._port)
        self._client.loop_start()
        assert self._ready.wait(10), "fake central could not connect"
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def send_command(self, body: dict[str, Any]) -> None:
        """Publish a command (dict or raw bytes) to the edge."""
        topic = topics.edge_topic(self.site, self.edge, topics.CMD)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._client.publish(topic, data, qos=1).wait_for_publish(5)

    def samples(self) -> list[dict[str, Any]]:
        """The telemetry.sample events so far."""
        with self._lock:
            return [e for e in self.events if e["type"] == "telemetry.sample"]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Events of one type so far."""
        with self._lock:
            return [e for e in self.events if e["type"] == kind]

    def results_for(self, command_id: str) -> list[dict[str, Any]]:
        """Results published for one command id."""
        with self._lock:
            return [r for r in self.results if r["id"] == command_id]

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        for channel in (topics.UPLINK, topics.CMD_RESULT, topics.STATUS):
            client.subscribe(topics.edge_topic(self.site, self.edge, channel), qos=1)
        self._ready.set()

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        body = json.loads(message.payload)
        channel = message.topic.rsplit("/", 1)[1]
        with self._lock:
            if channel == topics.UPLINK:
                self.events.extend(body["events"])
            elif channel == topics.CMD_RESULT:
                self.results.append(body)
            else:
                self.statuses.append(body)
        if channel == topics.UPLINK:
            ack = {"edge_id": body["edge_id"], "epoch": body["epoch"], "seq": body["seq"]}
            ack["ts"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
            client.publish(topics.edge_topic(self.site, self.edge, topics.ACK), json.dumps(ack), 1)
