"""Webhooks: a bot's events delivered to its endpoints from a stored outbox, signed the
Standard Webhooks way (:mod:`.signing`), retried on a schedule until a 2xx, dead after the last.

    webhooks.add_endpoints(bot_id, [{"url", "events", "secret"?}])   # secrets made when not given
    await webhooks.enqueue(bot_id, "bot.status_change", {...})       # stored, then sent

Each event is one delivery per endpoint that takes its type, with one ``webhook-id`` for all
its attempts (receivers drop duplicates by it). Attempts: at once, then after 5 s, 5 min,
30 min, 2 h, 5 h, 10 h and 10 h (``webhook_retry_scale`` shrinks them for tests); each waits
at most ``webhook_timeout_s``; only a 2xx counts (a redirect is a failure). The outbox is in
the store, so deliveries a stopped server owed go out when it starts again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta

import httpx

from livetranslate import executors, metrics
from livetranslate.netguard import NetGuard
from livetranslate.settings import Settings
from livetranslate.store import Database
from livetranslate.store import webhooks as store
from livetranslate.store.models import WebhookDeliveryRow, WebhookEndpointRow, utcnow
from livetranslate.webhooks.signing import headers, new_secret

log = logging.getLogger(__name__)

SCHEDULE_S = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
EVENTS = ("bot.status_change", "participant.join", "participant.leave", "participant.speech_on",
          "participant.speech_off", "transcript.final", "translation.final")


class Webhooks:
    def __init__(self, *, settings: Settings, db: Database, guard: NetGuard) -> None:
        self._s = settings
        self._db = db
        self.guard = guard
        """Where a delivery may go (checked when an endpoint is given, and before each attempt)."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._endpoints: dict[str, list[WebhookEndpointRow]] = {}  # by bot: read once, they do not change

    async def add_endpoints(self, bot_id: str, specs: list[dict]) -> list[WebhookEndpointRow]:
        rows = [WebhookEndpointRow(id=uuid.uuid4().hex, bot_id=bot_id, url=s["url"], events=list(s.get("events") or []),
                                   secret=s.get("secret") or new_secret(), created_at=utcnow()) for s in specs]
        if rows:
            await self._call(store.add_endpoints, rows=rows)
        self._endpoints[bot_id] = rows
        return rows

    def forget(self, bot_id: str) -> None:
        """The bot has ended: its endpoints are read again if ever needed."""
        self._endpoints.pop(bot_id, None)

    async def endpoints(self, bot_id: str) -> list[WebhookEndpointRow]:
        if bot_id not in self._endpoints:
            self._endpoints[bot_id] = await self._call(store.endpoints, bot_id=bot_id)
        return self._endpoints[bot_id]

    async def enqueue(self, bot_id: str, event_type: str, data: dict) -> int:
        """Store the event for each endpoint that takes it; returns how many deliveries."""
        rows = deliveries(bot_id, await self.endpoints(bot_id), event_type, data)
        if rows:
            await self._call(store.enqueue, rows=rows)
            self.wake()
        return len(rows)

    def wake(self) -> None:
        """Deliveries were stored (here or in a caller's transaction): send them now."""
        self._wake.set()

    async def deliveries(self, *, tenant: str | None, bot_id: str | None, state: str | None, limit: int, offset: int,
                         delivery_id: str | None = None):
        return await self._call(store.list_deliveries, tenant=tenant, bot_id=bot_id, state=state, limit=limit,
                                offset=offset, delivery_id=delivery_id)

    async def redeliver(self, delivery_id: str) -> WebhookDeliveryRow:
        row = await self._call(store.redeliver, delivery_id=delivery_id)
        self._wake.set()
        return row

    # --- the sender

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhooks")

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self._s.webhook_timeout_s, follow_redirects=False) as http:
            while True:
                try:
                    due = await self._call(store.due, now=utcnow(), limit=50)
                    await asyncio.gather(*(self._attempt(http, d, e) for d, e in due), return_exceptions=True)
                except Exception:
                    log.exception("webhooks: a delivery pass failed")
                    due = []
                if len(due) < 50:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), self._s.webhook_poll_s)
                    except TimeoutError:
                        pass

    async def _attempt(self, http: httpx.AsyncClient, d: WebhookDeliveryRow, e: WebhookEndpointRow) -> None:
        body = d.payload.encode()
        status, error = None, None
        try:
            await self.guard.check(e.url, "webhook endpoint")  # its name may point elsewhere by now
            r = await http.post(e.url, content=body, headers=headers(e.secret, d.id, body))
            status = r.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}: {r.text[:200]}"
        except Exception as exc:  # unreachable, refused, slow, a URL httpx cannot use: a failed attempt
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempt = d.attempts + 1
        delivered = status is not None and 200 <= status < 300
        next_at = None if delivered or attempt >= len(SCHEDULE_S) else (
            utcnow() + timedelta(seconds=SCHEDULE_S[attempt] * self._s.webhook_retry_scale))
        await self._call(store.record_attempt, delivery_id=d.id, status=status, error=error, next_at=next_at)
        metrics.WEBHOOKS.labels("delivered" if delivered else "dead" if next_at is None else "retry").inc()
        if not delivered:
            log.warning("webhook %s to %s failed (attempt %d): %s", d.id, e.url, attempt, error)

    async def _call(self, fn, **kwargs):
        return await executors.run("store", self._db.call, fn, **kwargs)


def deliveries(bot_id: str, endpoints: list[WebhookEndpointRow], event_type: str, data: dict) -> list[WebhookDeliveryRow]:
    """One event's deliveries, to each endpoint that takes it (for the caller to store, in the
    transaction of the change they announce)."""
    now = utcnow()
    body = json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data}, separators=(",", ":"))
    return [WebhookDeliveryRow(id=f"msg_{uuid.uuid4().hex}", endpoint_id=e.id, bot_id=bot_id, type=event_type,
                               payload=body, state="pending", attempts=0, next_at=now, created_at=now)
            for e in endpoints if not e.events or event_type in e.events]
