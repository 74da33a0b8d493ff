"""The audit log over REST, for a tenant's admins: who did what, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from livetranslate.api.deps import AdminDep, ServicesDep, admin
from livetranslate.api.openapi import errors_doc
from livetranslate.audit import ACTIONS
from livetranslate.errors import Forbidden, Unauthorized
from livetranslate.store import as_utc

router = APIRouter(prefix="/v1/audit", tags=["audit"], dependencies=[Depends(admin)])
Action = Literal[tuple(ACTIONS)]  # type: ignore[valid-type]


class AuditEvent(BaseModel):
    id: int
    at: datetime
    action: Action = Field(description="; ".join(f"`{a}`: {m}" for a, m in ACTIONS.items()))
    key_id: str | None = Field(description="The key that did it; none: a server asking for no key, or the CLI.")
    via: Literal["api", "open", "cli"]
    target: str | None = Field(description="The id of what it was done to.")
    detail: dict


class AuditPage(BaseModel):
    items: list[AuditEvent]
    total: int = Field(description="How many match in all.")
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; none: this is the last.")


@router.get("", response_model=AuditPage, summary="Who did what, newest first",
            responses=errors_doc(Unauthorized, Forbidden))
async def list_audit(
    services: ServicesDep,
    who: AdminDep,
    action: Annotated[Action | None, Query(description="Only this action.")] = None,
    key_id: Annotated[str | None, Query(max_length=32, description="Only what this key did.")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Only events older than this id (paging).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """The caller's tenant's events: keys made and revoked, sessions deleted, speakers renamed
    and merged, voices enrolled and forgotten, defaults changed, bots sent, made to leave and
    cancelled."""
    rows, total = await services.audit.list(tenant=who.tenant, action=action, key_id=key_id, before=before,
                                            limit=limit)
    items = [AuditEvent(id=r.id, at=as_utc(r.at), action=r.action, key_id=r.key_id, via=r.via, target=r.target,
                        detail=r.detail or {}) for r in rows]
    return AuditPage(items=items, total=total, next_before=items[-1].id if len(items) == limit else None)
