"""Persistence of tenants and API keys (the keys themselves are never stored: their SHA-256 is)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from livetranslate.errors import NotFound
from livetranslate.store.models import ApiKeyRow, TenantRow, WebSessionRow, utcnow


def tenant(db: Session, *, name: str, make: bool = False) -> TenantRow:
    """The tenant called ``name`` (made when ``make`` and it does not exist yet; else NotFound)."""
    row = db.scalars(select(TenantRow).where(TenantRow.name == name)).first()
    if row is None:
        if not make:
            raise NotFound(f"there is no tenant {name!r}")
        row = TenantRow(id="default" if name == "default" else uuid.uuid4().hex, name=name)  # what an open server's data is
        db.add(row)
        db.flush()
    return row


def tenant_by_id(db: Session, *, tenant_id: str) -> TenantRow:
    row = db.get(TenantRow, tenant_id)
    if row is None:
        raise NotFound(f"there is no tenant {tenant_id!r}")
    return row


def tenants(db: Session) -> list[TenantRow]:
    return list(db.scalars(select(TenantRow).order_by(TenantRow.created_at)))


def tenant_limits(db: Session, *, tenant_id: str) -> dict | None:
    """The tenant's own limits (None: the server's settings; also for a tenant not stored)."""
    row = db.get(TenantRow, tenant_id)
    return row.limits if row is not None else None


def set_tenant_limits(db: Session, *, name: str, limits: dict) -> TenantRow:
    row = tenant(db, name=name)
    row.limits = limits or None
    return row


def add_key(db: Session, *, row: ApiKeyRow) -> ApiKeyRow:
    db.add(row)
    db.flush()
    return row


def key_by_hash(db: Session, *, digest: str) -> tuple[ApiKeyRow, TenantRow] | None:
    got = db.execute(select(ApiKeyRow, TenantRow).join(TenantRow, TenantRow.id == ApiKeyRow.tenant_id)
                     .where(ApiKeyRow.hash == digest)).first()
    return (got[0], got[1]) if got else None


def key_by_id(db: Session, *, key_id: str) -> tuple[ApiKeyRow, TenantRow] | None:
    got = db.execute(select(ApiKeyRow, TenantRow).join(TenantRow, TenantRow.id == ApiKeyRow.tenant_id)
                     .where(ApiKeyRow.id == key_id)).first()
    return (got[0], got[1]) if got else None


def list_keys(db: Session, *, tenant_id: str | None) -> list[tuple[ApiKeyRow, TenantRow]]:
    q = select(ApiKeyRow, TenantRow).join(TenantRow, TenantRow.id == ApiKeyRow.tenant_id)
    if tenant_id is not None:
        q = q.where(ApiKeyRow.tenant_id == tenant_id)
    return [(k, t) for k, t in db.execute(q.order_by(ApiKeyRow.created_at)).all()]


def revoke(db: Session, *, key_id: str, tenant_id: str | None) -> ApiKeyRow:
    row = db.get(ApiKeyRow, key_id)
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        raise NotFound(f"there is no API key {key_id!r}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


def used(db: Session, *, key_id: str, at: datetime) -> None:
    row = db.get(ApiKeyRow, key_id)
    if row is not None:
        row.last_used_at = at


def add_web_session(db: Session, *, digest: str, key_id: str, expires_at: datetime) -> None:
    db.add(WebSessionRow(hash=digest, key_id=key_id, created_at=utcnow(), expires_at=expires_at))


def key_by_web_session(db: Session, *, digest: str) -> tuple[ApiKeyRow, TenantRow, datetime] | None:
    """The key a sign-in was made with, its tenant, and when the sign-in ends."""
    got = db.execute(select(ApiKeyRow, TenantRow, WebSessionRow.expires_at)
                     .join(WebSessionRow, WebSessionRow.key_id == ApiKeyRow.id)
                     .join(TenantRow, TenantRow.id == ApiKeyRow.tenant_id)
                     .where(WebSessionRow.hash == digest)).first()
    return (got[0], got[1], got[2]) if got else None


def drop_web_session(db: Session, *, digest: str) -> None:
    row = db.get(WebSessionRow, digest)
    if row is not None:
        db.delete(row)
