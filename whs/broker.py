"""A private Mosquitto broker with per-client credentials and ACLs (demo and tests).

Production brokers are configured by the operator (see docs/operations.md); this module writes
the same shape of configuration for a broker the demo or a test owns, on a free port.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

# Roles a broker account can have; the ACL each gets is below in `_acl_lines`.
CENTRAL, EDGE, DEVICE, SIM = "central", "edge", "device", "sim"
AGV = "agv"  # a VDA 5050 vehicle: username = serial number


@dataclass(frozen=True)
class BrokerAccount:
    """One MQTT client identity: username, password and the role that sets its ACL."""

    username: str
    role: str
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mosquitto_binary() -> str:
    """Path of the mosquitto executable; RuntimeError with the fix when it is missing."""
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if not found:
        raise RuntimeError(
            "mosquitto is not installed: run `bash scripts/setup.sh` (apt-get install mosquitto)"
        )
    return found


def _acl_lines(account: BrokerAccount) -> list[str]:
    lines = [f"user {account.username}"]
    if account.role == CENTRAL:
        lines += ["topic readwrite whs/#", "topic readwrite uagv/#"]
    elif account.role == EDGE:
        lines += [
            "topic read whs/+/+/devices/#",
            "topic write whs/+/+/devices/+/+/cmd",
            f"topic readwrite whs/+/+/edges/{account.username}/#",
            "topic readwrite uagv/#",
        ]
    elif account.role == DEVICE:
        lines += [
            f"topic write whs/+/+/devices/+/{account.username}/#",
            f"topic read whs/+/+/devices/+/{account.username}/cmd",
            "topic read whs/+/+/sim/#",
        ]
    elif account.role == AGV:
        lines += [f"topic readwrite uagv/v2/+/{account.username}/#"]
    elif account.role == SIM:
        lines += ["topic readwrite whs/+/+/sim/#"]
    else:
        raise ValueError(f"unknown broker role {account.role!r}")
    return [*lines, ""]


def write_broker_files(folder: Path, port: int, accounts: list[BrokerAccount]) -> Path:
    """Write mosquitto.conf, the password file and the ACL file; return the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    passwd.write_text("")
    for account in accounts:
        subprocess.run(
            ["mosquitto_passwd", "-b", str(passwd), account.username, account.password],
            check=True,
            capture_output=True,
        )
    acl = folder / "acl"
    acl.write_text("\n".join(line for a in accounts for line in _acl_lines(a)))
    conf = folder / "mosquitto.conf"
    conf.write_text(
        "\n".join(
            [
                f"listener {port} 127.0.0.1",
                # Run as root, mosquitto switches to the `mosquitto` user, which cannot read
                # files in a private folder (pytest's tmp_path is 0700): stay who we are.
                *(["user root"] if os.geteuid() == 0 else []),
                "allow_anonymous false",
                f"password_file {passwd}",
                f"acl_file {acl}",
                "persistence true",
                f"persistence_location {folder}/",
                "autosave_interval 5",
                # The default of 1000 drops QoS 1 messages queued for a slow subscriber:
                # keep everything an edge or central has not yet taken (see docs/operations.md).
                "max_queued_messages 1000000",
                "max_inflight_messages 100",
                "log_type error",
                "log_type warning",
                f"log_dest file {folder}/mosquitto.log",
                "",
            ]
        )
    )
    return conf


class LocalBroker:
    """A Mosquitto process of our own: start, stop, restart; used as a context manager."""

    def __init__(self, folder: Path, accounts: list[BrokerAccount], port: int | None = None):
        self.folder = folder
        self.accounts = {a.username: a for a in accounts}
        self.port = port or find_free_port()
        self.host = "127.0.0.1"
        self.conf = write_broker_files(folder, self.port, accounts)
        self._process: subprocess.Popen[bytes] | None = None

    def account(self, username: str) -> BrokerAccount:
        """The account called `username`."""
        return self.accounts[username]

    def start(self, timeout_s: float = 10.0) -> None:
        """Start mosquitto and wait until it accepts connections."""
        self._process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {err.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout_s} s")

    def stop(self) -> None:
        """Stop mosquitto (it saves its persistence file first)."""
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def restart(self) -> None:
        """Stop and start again on the same port with the same configuration."""
        self.stop()
        self.start()

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
