"""What one API key and one tenant may use: requests a second, live sessions and bots at once,
audio hours a day, upload size. Over a limit is ``429`` with ``Retry-After`` (a socket closes
with ``4429``); nothing already accepted is lost.

The limits are the server's settings (``key_requests_per_s``, ``tenant_…``), each overridable
per tenant by an operator (``livetranslate tenants limits``): :class:`TenantLimits`, stored
with the tenant. Requests are counted in a moving one-second window, audio by UTC day, by
the ``limits`` library; its storage is in this process (``memory://``).
Live sessions and bots at once are counted where they run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from datetime import time as dtime

from limits import RateLimitItemPerDay, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from pydantic import BaseModel, ConfigDict, Field

from livetranslate import executors
from livetranslate.errors import RateLimited, TooLarge
from livetranslate.settings import Settings
from livetranslate.store import Database, keys

_CACHE_S = 5.0
"""How long a tenant's limits are used before they are read again (a change by the CLI applies
within this)."""

_AT_ONCE_RETRY_S = 10.0
"""``Retry-After`` of a limit of things at once (when one ends is not known: a polling hint)."""


class TenantLimits(BaseModel):
    """A tenant's own limits, each in place of the server's setting (unset: the setting)."""

    model_config = ConfigDict(extra="forbid")

    key_requests_per_s: int | None = Field(None, ge=1, description="Requests a second of each of its keys.")
    requests_per_s: int | None = Field(None, ge=1, description="Requests a second of all its keys together.")
    live_sessions: int | None = Field(None, ge=0, description="Its sessions live at once.")
    bots: int | None = Field(None, ge=0, description="Its bots running at once.")
    audio_hours_per_day: float | None = Field(None, gt=0, description="Hours of audio its sessions take in a UTC day.")
    upload_bytes: int | None = Field(None, ge=1024, description="Largest file it may upload (at most the server's).")


@dataclass(frozen=True)
class Limits:
    """What applies to one tenant (None: no limit but the server's own)."""

    key_requests_per_s: int | None
    requests_per_s: int | None
    live_sessions: int | None
    bots: int | None
    audio_hours_per_day: float | None
    upload_bytes: int

    @classmethod
    def of(cls, settings: Settings, own: TenantLimits) -> "Limits":
        def pick(mine, server):
            return server if mine is None else mine

        return cls(
            key_requests_per_s=pick(own.key_requests_per_s, settings.key_requests_per_s),
            requests_per_s=pick(own.requests_per_s, settings.tenant_requests_per_s),
            live_sessions=pick(own.live_sessions, settings.tenant_live_sessions),
            bots=pick(own.bots, settings.tenant_bots),
            audio_hours_per_day=pick(own.audio_hours_per_day, settings.tenant_audio_hours_per_day),
            upload_bytes=min(pick(own.upload_bytes, settings.max_upload_bytes), settings.max_upload_bytes),
        )


class Quotas:
    """The counters, and the checks each place that spends something makes."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        storage = MemoryStorage()
        self._moving = MovingWindowRateLimiter(storage)
        self._daily = FixedWindowRateLimiter(storage)
        self._read: dict[str, tuple[float, Limits]] = {}

    async def of(self, tenant: str) -> Limits:
        """The limits that apply to ``tenant`` (its own over the server's)."""
        now = time.monotonic()
        cached = self._read.get(tenant)
        if cached is None or now - cached[0] > _CACHE_S:
            own = await executors.run("store", self._db.call, keys.tenant_limits, tenant_id=tenant)
            cached = self._read[tenant] = (now, Limits.of(self._settings, TenantLimits.model_validate(own or {})))
        return cached[1]

    async def request(self, *, tenant: str, key_id: str) -> None:
        """One request (or socket opening) by ``key_id`` of ``tenant``: RateLimited when over."""
        limits = await self.of(tenant)
        for amount, who, what in ((limits.key_requests_per_s, ("key", key_id), "this key"),
                                  (limits.requests_per_s, ("tenant", tenant), "this tenant's keys together")):
            if amount is None:
                continue
            item = RateLimitItemPerSecond(amount)
            if not await self._moving.hit(item, *who):
                stats = await self._moving.get_window_stats(item, *who)
                raise RateLimited(f"{what} may make {amount} requests a second; slow down",
                                  retry_after=stats.reset_time - time.time())

    async def audio(self, *, tenant: str, seconds: int = 0) -> None:
        """Count ``seconds`` of audio taken for ``tenant`` (0: only check that some are left);
        RateLimited when today's are used up (what was taken is kept: the caller takes no more)."""
        hours = (await self.of(tenant)).audio_hours_per_day
        if hours is None:
            return
        now = datetime.now(timezone.utc)
        item, ids = _today(tenant, hours, now)
        ok = await self._daily.hit(item, *ids, cost=seconds) if seconds > 0 else await self._daily.test(item, *ids)
        if not ok:
            midnight = datetime.combine(now.date() + timedelta(days=1), dtime(), timezone.utc)
            raise RateLimited(f"your {hours:g} hours of audio a day are used up (tenant_audio_hours_per_day); "
                              "more can be taken from midnight UTC", retry_after=(midnight - now).total_seconds())

    async def audio_used(self, tenant: str) -> int:
        """Seconds of audio the tenant's sessions took today (UTC; counted only under a limit)."""
        hours = (await self.of(tenant)).audio_hours_per_day
        if hours is None:
            return 0
        item, ids = _today(tenant, hours, datetime.now(timezone.utc))
        stats = await self._daily.get_window_stats(item, *ids)
        return item.amount - stats.remaining

    async def check_upload(self, *, tenant: str, size: int | None) -> None:
        """TooLarge when a file of ``size`` bytes is over what the tenant may upload."""
        most = (await self.of(tenant)).upload_bytes
        if size is not None and size > most:
            raise TooLarge(f"upload of {size} bytes is over the limit of {most} bytes")


def _today(tenant: str, hours: float, now: datetime) -> tuple[RateLimitItemPerDay, tuple[str, ...]]:
    """The tenant's daily audio count: its seconds, and its key (the UTC day's: a new count each day)."""
    return RateLimitItemPerDay(max(1, round(hours * 3600))), ("audio", tenant, now.date().isoformat())


def check_at_once(most: int | None, running: int, what: str, setting: str) -> None:
    """RateLimited when ``running`` of a tenant's ``what`` run and it may run at most ``most``."""
    if most is not None and running >= most:
        raise RateLimited(f"your {what} at once are at your limit ({most}); wait for one to end ({setting})",
                          retry_after=_AT_ONCE_RETRY_S)


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
