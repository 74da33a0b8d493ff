"""API keys over REST, for a tenant's admins: make one (shown once), list them, revoke one.
The first key of a server is made with ``livetranslate keys create`` (no server needed)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from livetranslate.api.deps import AdminDep, ServicesDep, admin
from livetranslate.api.openapi import errors_doc
from livetranslate.auth import parse_ttl
from livetranslate.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from livetranslate.events import OneLine
from livetranslate.store import as_utc

router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[Depends(admin)])
_REFUSED = (Unauthorized, Forbidden)


class KeyCreate(BaseModel):
    model_config = {"extra": "forbid"}

    role: Literal["viewer", "member", "admin"] = "member"
    name: OneLine | None = Field(None, min_length=1, max_length=100, description="A label, e.g. who uses it.")
    expires_in: str | None = Field(None, pattern=r"^[1-9][0-9]{0,5}[dhm]$", examples=["90d"],
                                   description="How long it lasts (`90d`, `12h`, `30m`); left out: until revoked.")


class KeyOut(BaseModel):
    id: str
    tenant: str
    role: str
    name: str | None
    hint: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row, tenant_name: str) -> "KeyOut":
        return cls(id=row.id, tenant=tenant_name, role=row.role, name=row.name, hint=row.hint,
                   created_at=as_utc(row.created_at), expires_at=as_utc(row.expires_at),
                   revoked_at=as_utc(row.revoked_at), last_used_at=as_utc(row.last_used_at))


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself: shown here only, never again.")


@router.post("", status_code=201, response_model=KeyCreated, summary="Make an API key for this tenant",
             responses=errors_doc(InvalidInput, *_REFUSED))
async def create_key(body: KeyCreate, services: ServicesDep, who: AdminDep) -> KeyCreated:
    """For the caller's own tenant. The reply holds the key; the server keeps only its hash."""
    tenant = await services.auth.tenant_name(who.tenant)
    row, key = await services.auth.create(tenant=tenant, role=body.role, name=body.name,
                                          ttl=parse_ttl(body.expires_in) if body.expires_in else None)
    await services.audit.record(who, "key.create", row.id, role=body.role, name=body.name)
    return KeyCreated(**KeyOut.of(row, tenant).model_dump(), key=key)


@router.get("", response_model=list[KeyOut], summary="This tenant's API keys", responses=errors_doc(*_REFUSED))
async def list_keys(services: ServicesDep, who: AdminDep) -> list[KeyOut]:
    """Each key's label, role, first characters and when it was made, last used, expires or was
    revoked; never the key itself."""
    return [KeyOut.of(k, t.name) for k, t in await services.auth.list(who.tenant)]


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key", responses=errors_doc(NotFound, *_REFUSED))
async def revoke_key(key_id: str, services: ServicesDep, who: AdminDep) -> Response:
    """At once in this process; a key of another tenant is a 404."""
    row = await services.auth.revoke(key_id, who.tenant)
    await services.audit.record(who, "key.revoke", key_id, of_tenant=row.tenant_id)
    return Response(status_code=204)
