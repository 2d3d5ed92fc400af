"""Commands from central: parse, run once per id before the deadline, report the result.

A command names a target device and an action. The executor looks the target up (an OPC UA
device: a method call; an MQTT device: a message on its cmd topic), runs it in a worker thread
within the time left before the deadline, and publishes one `command_result`. A repeated id gets
the stored result again without running anything; an expired command is answered `timeout`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from firmware_interfaces.validation import ContractError, validate

from edge.converters import decode
from edge.deadletter import DeadLetter
from edge.events import format_ts, parse_ts, utc_now

logger = logging.getLogger(__name__)

SCHEMA = "command"
MAX_DETAIL = 2000


@dataclass(frozen=True)
class Command:
    """A parsed, valid command for this edge."""

    id: str
    target: str
    action: str
    params: dict[str, Any]
    deadline: datetime
    issued_at: datetime


def parse_command(raw: bytes | str, edge_id: str) -> Command:
    """Decode a command payload for `edge_id`; ContractError says why it cannot be used."""
    payload = decode(SCHEMA, raw)
    if payload["edge_id"] != edge_id:
        raise ContractError(SCHEMA, f"command for edge {payload['edge_id']!r}, this is {edge_id!r}")
    try:
        deadline = parse_ts(payload["deadline"])
        issued_at = parse_ts(payload["issued_at"])
    except (ValueError, OverflowError) as exc:
        raise ContractError(SCHEMA, f"bad time: {exc}") from exc
    return Command(
        payload["id"], payload["target"], payload["action"], payload["params"], deadline, issued_at
    )


def command_id_of(raw: bytes | str) -> str | None:
    """The id of a command payload that failed to parse, when one can be read (for the reply)."""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    cid = payload.get("id") if isinstance(payload, dict) else None
    return cid if isinstance(cid, str) and 0 < len(cid) <= 64 else None


def result_payload(
    command_id: str,
    edge_id: str,
    status: str,
    finished_at: datetime,
    detail: str = "",
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A valid command_result document."""
    body: dict[str, Any] = {
        "id": command_id,
        "edge_id": edge_id,
        "status": status,
        "finished_at": format_ts(finished_at),
    }
    if detail:
        body["detail"] = detail[:MAX_DETAIL]
    if result is not None:
        body["result"] = result
    validate("command_result", body)
    return body


class CommandTarget(Protocol):
    """Something a command can be routed to."""

    def execute(self, command: Command, timeout_s: float) -> dict[str, Any]:
        """Carry the command out; raise on failure, TimeoutError when out of time."""


class CommandStore:
    """Commands seen, by id, with their result once finished (a table in edge.sqlite)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS commands (id TEXT PRIMARY KEY, received_at TEXT NOT NULL,"
            " result TEXT)"
        )

    def claim(self, command_id: str, now: datetime) -> tuple[bool, dict[str, Any] | None]:
        """(True, None) for a new id (now running); (False, result or None if still running)."""
        with self._lock:
            row = self._db.execute(
                "SELECT result FROM commands WHERE id = ?", (command_id,)
            ).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO commands (id, received_at) VALUES (?, ?)",
                    (command_id, format_ts(now)),
                )
                return True, None
        return False, None if row[0] is None else json.loads(row[0])

    def finish(self, command_id: str, result: dict[str, Any]) -> None:
        """Keep the result of a command (what a repeat of its id gets)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO commands (id, received_at, result) VALUES (?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET result = excluded.result",
                (command_id, result["finished_at"], json.dumps(result)),
            )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class CommandExecutor:
    """Runs commands in worker threads, honouring deadlines and ids; publishes results."""

    def __init__(
        self,
        edge_id: str,
        store: CommandStore,
        targets: Callable[[str], CommandTarget | None],
        publish_result: Callable[[dict[str, Any]], None],
        *,
        clock: Callable[[], datetime] = utc_now,
        workers: int = 4,
    ) -> None:
        self.edge_id = edge_id
        self._store = store
        self._targets = targets
        self._publish = publish_result
        self._clock = clock
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"cmd-{edge_id}")
        self.stats = {"received": 0, "executed": 0, "repeated": 0, "rejected": 0, "timeout": 0}

    def handle(self, topic: str, raw: bytes) -> DeadLetter | None:
        """Take one command message; returns a dead letter when the message is unusable."""
        now = self._clock()
        self.stats["received"] += 1
        try:
            command = parse_command(raw, self.edge_id)
        except ContractError as exc:
            self.stats["rejected"] += 1
            command_id = command_id_of(raw)
            if command_id is not None:
                self._send(result_payload(command_id, self.edge_id, "rejected", now, str(exc)))
            return DeadLetter(topic, str(exc), raw, now)
        fresh, stored = self._store.claim(command.id, now)
        if not fresh:
            self.stats["repeated"] += 1
            if stored is not None:
                self._send(stored)  # the same result again; nothing runs twice
            return None
        self._pool.submit(self._run, command)
        return None

    def shutdown(self) -> None:
        """Stop taking work; wait for running commands."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, command: Command) -> None:
        try:
            result = self._outcome(command)
        except Exception as exc:  # never leave a command without a result
            logger.exception("command %s failed unexpectedly", command.id)
            result = result_payload(command.id, self.edge_id, "error", self._clock(), repr(exc))
        self._store.finish(command.id, result)
        self._send(result)

    def _outcome(self, command: Command) -> dict[str, Any]:
        left = (command.deadline - self._clock()).total_seconds()
        if left <= 0:
            self.stats["timeout"] += 1
            return self._result(
                command, "timeout", "deadline passed before the command could start"
            )
        target = self._targets(command.target)
        if target is None:
            self.stats["rejected"] += 1
            return self._result(command, "rejected", f"unknown target {command.target!r}")
        self.stats["executed"] += 1
        one = ThreadPoolExecutor(1, thread_name_prefix=f"cmd-{command.id[:8]}")
        future = one.submit(target.execute, command, left)
        try:
            output = future.result(timeout=left)
        except (FutureTimeout, TimeoutError):
            self.stats["timeout"] += 1
            return self._result(command, "timeout", f"no result within {left:.1f} s")
        except Exception as exc:
            return self._result(command, "error", str(exc) or type(exc).__name__)
        finally:
            one.shutdown(wait=False)  # a call still running past the deadline is abandoned
        return self._result(command, "ok", "", output)

    def _result(
        self, command: Command, status: str, detail: str, result: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return result_payload(command.id, self.edge_id, status, self._clock(), detail, result)

    def _send(self, result: dict[str, Any]) -> None:
        try:
            self._publish(result)
        except Exception as exc:
            logger.warning("could not publish the result of command %s: %s", result["id"], exc)


class OpcUaTarget:
    """Commands to an OPC UA device: call the method named by the action."""

    def __init__(self, call: Callable[[str, dict[str, Any], float], dict[str, Any]]) -> None:
        self._call = call

    def execute(self, command: Command, timeout_s: float) -> dict[str, Any]:
        """Call the method `command.action` with `command.params`."""
        return self._call(command.action, command.params, timeout_s)


class MqttDeviceTarget:
    """Commands to an MQTT device: a message on its cmd topic (the device acts on its own)."""

    def __init__(self, topic: str, publish: Callable[[str, bytes], None]) -> None:
        self.topic = topic
        self._publish = publish

    def execute(self, command: Command, timeout_s: float) -> dict[str, Any]:
        """Publish {id, action, params, deadline} to the device."""
        body = {
            "id": command.id,
            "action": command.action,
            "params": command.params,
            "deadline": format_ts(command.deadline),
        }
        self._publish(self.topic, json.dumps(body).encode())
        return {"delivered_to": self.topic}
