"""Webhooks: fan outbox events out to subscribers, deliver them signed, retry with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.common.clock import utcnow
from central.db.tables import DispatchCursor, OutboxEvent, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)
CURSOR = "webhooks"
MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(hours=1)
SIGNATURE_HEADER = "X-WHS-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "timestamp.body": what a receiver recomputes to trust a delivery."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 2, 4, 8 ... seconds, at most an hour."""
    return min(timedelta(seconds=2**attempts), MAX_BACKOFF)


def fan_out(session: Session, batch: int = 500) -> int:
    """Create a delivery per (new event, subscriber of its topic); returns events handled."""
    cursor = session.get(DispatchCursor, CURSOR, with_for_update=True)
    if cursor is None:
        cursor = DispatchCursor(name=CURSOR, last_event_id=0)
        session.add(cursor)
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.id > cursor.last_event_id)
        .order_by(OutboxEvent.id)
        .limit(batch)
    ).all()
    if not events:
        return 0
    subscriptions = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    ).all()
    now = utcnow()
    for event in events:
        for sub in subscriptions:
            if sub.created_at <= event.created_at and (not sub.topics or event.topic in sub.topics):
                session.add(
                    WebhookDelivery(
                        event_id=event.id,
                        subscription_id=sub.id,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
    cursor.last_event_id = events[-1].id
    return len(events)


@dataclass(frozen=True)
class Due:
    """A delivery to attempt now, with what it needs."""

    delivery_id: int
    url: str
    secret: str
    event_id: int
    topic: str
    body: bytes


def due_deliveries(session: Session, now: datetime, limit: int = 50) -> list[Due]:
    """Pending deliveries whose time has come, oldest first."""
    rows = session.execute(
        select(WebhookDelivery, WebhookSubscription, OutboxEvent)
        .join(WebhookSubscription, WebhookDelivery.subscription_id == WebhookSubscription.id)
        .join(OutboxEvent, WebhookDelivery.event_id == OutboxEvent.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    ).tuples()
    return [
        Due(
            d.id,
            s.url,
            s.secret,
            e.id,
            e.topic,
            json.dumps(
                {"id": e.id, "topic": e.topic, "key": e.key, "payload": e.payload}, sort_keys=True
            ).encode(),
        )
        for d, s, e in rows
    ]


def attempt(client: httpx.Client, due: Due) -> str | None:
    """POST one delivery; None on a 2xx answer, else what went wrong."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-WHS-Event": due.topic,
        "X-WHS-Delivery": str(due.delivery_id),
        "X-WHS-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(due.secret, timestamp, due.body),
    }
    try:
        response = client.post(due.url, content=due.body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if response.is_success else f"HTTP {response.status_code}"


def record(session: Session, delivery_id: int, error: str | None) -> None:
    """Store the outcome of an attempt and schedule the next one."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status != "pending":
        return
    delivery.attempts += 1
    now = utcnow()
    if error is None:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.last_error = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = "failed"
        delivery.last_error = error
    else:
        delivery.last_error = error
        delivery.next_attempt_at = now + backoff(delivery.attempts)


class WebhookDispatcher:
    """Background thread: fan out new events, deliver what is due, sleep, repeat."""

    def __init__(
        self, sessions: sessionmaker[Session], interval_s: float = 1.0, timeout_s: float = 10.0
    ) -> None:
        self.sessions = sessions
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def run_once(self) -> int:
        """One round; returns the number of attempts made."""
        with self.sessions.begin() as session:
            fan_out(session)
        with self.sessions.begin() as session:
            due = due_deliveries(session, utcnow())
        for item in due:
            error = attempt(self._client, item)
            if error:
                logger.info("webhook %s to %s failed: %s", item.delivery_id, item.url, error)
            with self.sessions.begin() as session:
                record(session, item.delivery_id, error)
        return len(due)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep dispatching after a database hiccup
                logger.exception("webhook dispatch round failed")
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        """Start the background thread."""
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self._client.close()
