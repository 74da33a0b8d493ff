"""Webhook deliveries over REST: what was sent where, how each attempt went, and sending one again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from livetranslate.api.deps import ScopeDep, ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.errors import NotFound
from livetranslate.store import as_utc

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class Delivery(BaseModel):
    id: str = Field(description="Its webhook-id, the same on every attempt.")
    bot_id: str
    endpoint_id: str
    url: str
    type: str = Field(examples=["bot.status_change"])
    state: Literal["pending", "delivered", "dead"] = Field(description="dead: every attempt failed.")
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None = Field(description="The endpoint's last HTTP status (null: no answer).")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict

    @classmethod
    def of(cls, d, e) -> "Delivery":
        import json

        return cls(id=d.id, bot_id=d.bot_id, endpoint_id=e.id, url=e.url, type=d.type, state=d.state,
                   attempts=d.attempts, next_attempt_at=as_utc(d.next_at), last_status=d.last_status,
                   last_error=d.last_error, created_at=as_utc(d.created_at), delivered_at=as_utc(d.delivered_at),
                   payload=json.loads(d.payload))


@router.get("/deliveries", response_model=list[Delivery], summary="Webhook deliveries, newest first")
async def deliveries(
    services: ServicesDep,
    scope: ScopeDep,
    bot_id: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[Delivery]:
    """Each event sent to each endpoint: its webhook-id, how many attempts, the last answer,
    and when the next attempt is due; ``state=dead`` lists those every attempt failed."""
    rows = await services.webhooks.deliveries(tenant=scope.tenant, bot_id=bot_id, state=state, limit=limit, offset=offset)
    return [Delivery.of(d, e) for d, e in rows]


@router.post("/deliveries/{delivery_id}/redeliver", response_model=Delivery, summary="Send a delivery again",
             responses=errors_doc(NotFound))
async def redeliver(delivery_id: str, services: ServicesDep, scope: ScopeDep) -> Delivery:
    """Now, with the same webhook-id (a dead one gets one more attempt)."""
    await services.webhooks.redeliver(delivery_id)
    rows = await services.webhooks.deliveries(tenant=scope.tenant, bot_id=None, state=None, limit=1, offset=0,
                                              delivery_id=delivery_id)
    return Delivery.of(*rows[0])
