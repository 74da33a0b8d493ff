"""Persistence of the audit log (:mod:`livetranslate.audit` says what goes in it)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from livetranslate.store.models import AuditEventRow


def add_event(db: Session, *, row: AuditEventRow) -> None:
    db.add(row)


def list_events(db: Session, *, tenant: str, action: str | None, key_id: str | None, before: int | None,
                limit: int) -> tuple[list[AuditEventRow], int]:
    """The tenant's events, newest first (``before``: only those older than that id), and how
    many match in all."""
    query = select(AuditEventRow).where(AuditEventRow.tenant_id == tenant)
    if action is not None:
        query = query.where(AuditEventRow.action == action)
    if key_id is not None:
        query = query.where(AuditEventRow.key_id == key_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    if before is not None:
        query = query.where(AuditEventRow.id < before)
    return list(db.scalars(query.order_by(AuditEventRow.id.desc()).limit(limit))), total
