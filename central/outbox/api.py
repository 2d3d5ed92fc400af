"""Webhook subscriptions and their deliveries."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, HttpUrl
from sqlalchemy import select

from central.auth.domain import ADMINISTER, Principal
from central.common.clock import utcnow
from central.common.errors import InvalidInput
from central.db.tables import WebhookDelivery, WebhookSubscription
from central.deps import SessionDep, require

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Admin = Annotated[Principal, Depends(require(ADMINISTER))]
TOPICS = ("order.status_changed",)


class SubscriptionCreate(BaseModel):
    url: HttpUrl
    topics: list[str] = Field(default_factory=list, description="empty: every topic")
    secret: str | None = Field(default=None, min_length=16, max_length=128)


class SubscriptionPublic(BaseModel):
    id: int
    url: str
    topics: list[str]
    active: bool
    secret: str | None = Field(default=None, description="shown once, at creation")


class DeliveryPublic(BaseModel):
    id: int
    event_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


@router.post("", response_model=SubscriptionPublic, status_code=201)
def subscribe(body: SubscriptionCreate, session: SessionDep, _: Admin) -> SubscriptionPublic:
    """Subscribe a URL to topics; deliveries are signed with the returned secret (HMAC-SHA256)."""
    unknown = sorted(set(body.topics) - set(TOPICS))
    if unknown:
        raise InvalidInput(f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(TOPICS)}")
    secret = body.secret or secrets.token_urlsafe(32)
    sub = WebhookSubscription(
        url=str(body.url), secret=secret, topics=body.topics, active=True, created_at=utcnow()
    )
    session.add(sub)
    session.flush()
    return SubscriptionPublic(id=sub.id, url=sub.url, topics=sub.topics, active=True, secret=secret)


@router.get("", response_model=list[SubscriptionPublic])
def subscriptions(session: SessionDep, _: Admin) -> list[SubscriptionPublic]:
    """Every subscription (secrets are not shown again)."""
    rows = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
    return [SubscriptionPublic(id=s.id, url=s.url, topics=s.topics, active=s.active) for s in rows]


@router.get("/{subscription_id}/deliveries", response_model=list[DeliveryPublic])
def deliveries(
    subscription_id: int, session: SessionDep, _: Admin, status: str | None = None
) -> list[DeliveryPublic]:
    """Deliveries of one subscription, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    rows = session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(500))
    return [
        DeliveryPublic(
            id=d.id,
            event_id=d.event_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
        )
        for d in rows
    ]
