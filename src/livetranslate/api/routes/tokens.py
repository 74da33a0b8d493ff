"""Share tokens: a signed, short-lived stand-in for a key, for links (a listener's or the
projector's view of one session) and for browsers' sockets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from livetranslate.api.deps import CallerDep, ServicesDep
from livetranslate.session import Scope
from livetranslate.api.openapi import errors_doc
from livetranslate.auth import MAX_TOKEN_TTL
from livetranslate.errors import Forbidden, NotFound

router = APIRouter(prefix="/v1/tokens", tags=["keys"])


class TokenCreate(BaseModel):
    model_config = {"extra": "forbid"}

    session_id: str | None = Field(None, max_length=64, description="The one session it reaches (else: all the "
                                   "tenant's, as the key would).")
    role: Literal["viewer", "member"] = Field("viewer", description="No more than the caller's own.")
    ttl_s: int = Field(86400, ge=60, le=int(MAX_TOKEN_TTL.total_seconds()), description="How long it lasts.")
    lang: str | None = Field(None, max_length=16, description="The language the link's page shows.")


class TokenOut(BaseModel):
    token: str = Field(description="`ltt_…`: send it as `Authorization: Bearer`, or as a WebSocket's second "
                       "subprotocol after `lt-token`.")
    role: str
    session_id: str | None
    expires_at: datetime


@router.post("", status_code=201, response_model=TokenOut, summary="Make a share token",
             responses=errors_doc(NotFound, Forbidden))
async def create_token(body: TokenCreate, services: ServicesDep, who: CallerDep) -> TokenOut:
    """For a listener or projector link: it acts as the caller would, with `role`, on
    `session_id` only when given, until it expires or the caller's key is revoked."""
    if who.token:  # else a link could renew itself for ever
        raise Forbidden("a link's token cannot make tokens: ask whoever shared it")
    if body.session_id is not None:
        await services.sessions.get(body.session_id, Scope(tenant=who.tenant))  # 404: not there, or not the caller's
    token, ends = services.auth.token(who, role=body.role, session=body.session_id, lang=body.lang,
                                      ttl=timedelta(seconds=body.ttl_s))
    return TokenOut(token=token, role=body.role, session_id=body.session_id, expires_at=ends)
