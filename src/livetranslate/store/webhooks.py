"""Persistence of webhooks: endpoints, and the outbox of deliveries with their attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from livetranslate.errors import NotFound
from livetranslate.store.models import BotRow, SessionRow, WebhookDeliveryRow, WebhookEndpointRow, utcnow


def add_endpoints(db: Session, *, rows: list[WebhookEndpointRow]) -> None:
    db.add_all(rows)


def endpoints(db: Session, *, bot_id: str) -> list[WebhookEndpointRow]:
    return list(db.scalars(select(WebhookEndpointRow).where(WebhookEndpointRow.bot_id == bot_id)
                           .order_by(WebhookEndpointRow.created_at)).all())


def enqueue(db: Session, *, rows: list[WebhookDeliveryRow]) -> None:
    db.add_all(rows)


def due(db: Session, *, now: datetime, limit: int) -> list[tuple[WebhookDeliveryRow, WebhookEndpointRow]]:
    """Pending deliveries whose time has come, oldest first, with their endpoints."""
    rows = db.execute(
        select(WebhookDeliveryRow, WebhookEndpointRow)
        .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
        .where(WebhookDeliveryRow.state == "pending", WebhookDeliveryRow.next_at <= now)
        .order_by(WebhookDeliveryRow.next_at, WebhookDeliveryRow.created_at).limit(limit)
    ).all()
    return [(d, e) for d, e in rows]


def record_attempt(db: Session, *, delivery_id: str, status: int | None, error: str | None,
                   next_at: datetime | None) -> WebhookDeliveryRow:
    """One attempt: delivered (a 2xx), pending again at ``next_at``, or dead (no next)."""
    row = get_delivery(db, delivery_id=delivery_id)
    row.attempts += 1
    row.last_status, row.last_error = status, error
    if status is not None and 200 <= status < 300:
        row.state, row.delivered_at, row.next_at = "delivered", utcnow(), None
    elif next_at is None:
        row.state, row.next_at = "dead", None
    else:
        row.next_at = next_at
    return row


def get_delivery(db: Session, *, delivery_id: str, tenant: str | None = None) -> WebhookDeliveryRow:
    """The delivery; with ``tenant``, only if its bot is that tenant's."""
    query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id)
    if tenant is not None:
        query = (query.join(BotRow, BotRow.id == WebhookDeliveryRow.bot_id)
                 .join(SessionRow, SessionRow.id == BotRow.session_id).where(SessionRow.tenant_id == tenant))
    row = db.scalars(query).first()
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id!r} does not exist")
    return row


def list_deliveries(db: Session, *, tenant: str | None, bot_id: str | None, state: str | None, limit: int,
                    offset: int, delivery_id: str | None = None) -> list[tuple[WebhookDeliveryRow, WebhookEndpointRow]]:
    """The tenant's (None: everyone's), newest first."""
    query = select(WebhookDeliveryRow, WebhookEndpointRow).join(
        WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
    if tenant is not None:
        query = (query.join(BotRow, BotRow.id == WebhookDeliveryRow.bot_id)
                 .join(SessionRow, SessionRow.id == BotRow.session_id).where(SessionRow.tenant_id == tenant))
    if delivery_id:
        query = query.where(WebhookDeliveryRow.id == delivery_id)
    if bot_id:
        query = query.where(WebhookDeliveryRow.bot_id == bot_id)
    if state:
        query = query.where(WebhookDeliveryRow.state == state)
    rows = db.execute(query.order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id)
                      .limit(limit).offset(offset)).all()
    return [(d, e) for d, e in rows]


def redeliver(db: Session, *, delivery_id: str) -> WebhookDeliveryRow:
    """Send again now (the same webhook-id), whatever became of it."""
    row = get_delivery(db, delivery_id=delivery_id)
    row.state, row.next_at = "pending", utcnow()
    return row
