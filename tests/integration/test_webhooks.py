"""Order events reach subscribers as signed webhooks, retried until they are taken."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from central.outbox import webhooks
from central.outbox.webhooks import WebhookDispatcher, sign
from central.seed import DEMO_SKUS
from tests.helpers import api_client, settings_for, sign_in
from tests.orders_helpers import order, shelve

pytestmark = pytest.mark.integration


class Receiver:
    """A webhook endpoint that fails the first `failures` calls, then takes them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = 503 if len(receiver.calls) < receiver.failures else 204
                receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body, code))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/whs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(settings_for(database_url, webhooks_enabled=False)) as c:
        yield c


def test_status_changes_are_delivered_signed_after_retries(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        webhooks, "backoff", lambda _attempts: timedelta(0)
    )  # retry at once in the test
    receiver = Receiver(failures=2)
    admin = sign_in(client, "admin", "admin")
    try:
        sub = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "topics": ["order.status_changed"]},
            headers=admin,
        )
        assert sub.status_code == 201
        secret = sub.json()["secret"]
        assert (
            client.get("/api/v1/webhooks", headers=admin).json()[0]["secret"] is None
        )  # shown once only
        shelve(client, admin, DEMO_SKUS[0].code, 5, "A01-B01")
        created = client.post(
            "/api/v1/orders", json=order("H-1", [(DEMO_SKUS[0].code, 1)]), headers=admin
        ).json()
        dispatcher = WebhookDispatcher(client.app.state.container.sessions)  # type: ignore[attr-defined]
        for _ in range(4):
            dispatcher.run_once()
        dispatcher.stop()
        assert [code for _, _, code in receiver.calls] == [
            503,
            503,
            204,
        ]  # delivered once, after 2 failures
        headers, body, _ = receiver.calls[-1]
        assert headers["x-whs-signature"] == sign(secret, headers["x-whs-timestamp"], body)
        event = json.loads(body)
        assert event["topic"] == "order.status_changed"
        assert (
            event["payload"]["order_id"] == created["order"]["id"]
            and event["payload"]["to"] == "ready"
        )
        delivery = client.get(
            f"/api/v1/webhooks/{sub.json()['id']}/deliveries", headers=admin
        ).json()[0]
        assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
            "delivered",
            3,
            None,
        )
    finally:
        receiver.close()


def test_unreachable_subscriber_gives_up_after_max_attempts(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "backoff", lambda _attempts: timedelta(0))
    admin = sign_in(client, "admin", "admin")
    sub = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/nowhere"}, headers=admin
    ).json()
    client.post(
        "/api/v1/orders", json=order("H-2", [("NOPE", 1)]), headers=admin
    )  # an exception: one event
    dispatcher = WebhookDispatcher(client.app.state.container.sessions, timeout_s=1)  # type: ignore[attr-defined]
    for _ in range(webhooks.MAX_ATTEMPTS + 2):
        dispatcher.run_once()
    dispatcher.stop()
    delivery = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=admin).json()[0]
    assert delivery["status"] == "failed" and delivery["attempts"] == webhooks.MAX_ATTEMPTS
    assert "Connect" in delivery["last_error"]


def test_bad_subscriptions_are_refused(client: TestClient) -> None:
    admin = sign_in(client, "admin", "admin")
    assert (
        client.post("/api/v1/webhooks", json={"url": "not a url"}, headers=admin).status_code == 422
    )
    unknown = client.post(
        "/api/v1/webhooks", json={"url": "http://x.example/h", "topics": ["nope"]}, headers=admin
    )
    assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]
    assert (
        client.post(
            "/api/v1/webhooks",
            json={"url": "http://x.example/h"},
            headers=sign_in(client, "supervisor"),
        ).status_code
        == 403
    )
