"""Who is calling: API keys, the role and tenant each carries, and whether the server asks.

    LIVETRANSLATE_AUTH=none   everyone is the admin of the "default" tenant (the default on loopback)
    LIVETRANSLATE_AUTH=keys   every call carries ``Authorization: Bearer lt_…`` (the OpenAI client's
                              ``api_key`` sends exactly that)

Roles, each allowed what the one before it is: ``viewer`` reads, ``member`` also creates and
changes (sessions, audio, bots, speakers), ``admin`` also manages keys and the server's
settings. Keys are 32 random bytes, shown once; the store keeps their SHA-256. A key's
answer is kept for ``_CACHE_S`` (a revoke in this process applies at once).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from livetranslate import executors
from livetranslate.errors import Forbidden, Unauthorized
from livetranslate.store import as_utc
from livetranslate.store import keys as store
from livetranslate.store.models import ApiKeyRow, utcnow

ROLES = ("viewer", "member", "admin")
COOKIE = "lt_session"
"""The dashboard's sign-in: an opaque random value, HttpOnly and SameSite=Strict (never the key)."""
SIGN_IN = timedelta(days=14)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CACHE_S = 5.0
_TOUCH_S = 60.0  # last_used_at is written at most this often per key
_BEARER = re.compile(r"Bearer[ \t]+(\S+)\Z", re.IGNORECASE)


@dataclass(frozen=True)
class Principal:
    tenant: str
    """The tenant's id."""
    role: str
    key_id: str | None = None
    """None: the server asks for no key."""

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


OPEN = Principal(tenant="default", role="admin")


def mode(settings) -> str | None:
    """``none`` or ``keys``; None when the settings leave it open on an address beyond loopback."""
    if settings.auth is not None:
        return settings.auth
    return "none" if settings.host in LOOPBACK else None


def new_key() -> str:
    return "lt_" + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_ttl(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m``: how long a key lasts."""
    m = re.fullmatch(r"([1-9][0-9]{0,5})([dhm])", text.strip())
    if not m:
        raise ValueError(f"{text!r} is no duration: give e.g. 90d, 12h or 30m")
    unit = {"d": "days", "h": "hours", "m": "minutes"}[m[2]]
    return timedelta(**{unit: int(m[1])})


class Auth:
    def __init__(self, *, mode: str, db) -> None:
        self.mode = mode
        self._db = db
        self._cache: dict[str, tuple[float, ApiKeyRow, str]] = {}  # digest → (when read, key, tenant id)
        self._signins: dict[str, tuple[float, ApiKeyRow, str, datetime]] = {}  # ... and when the sign-in ends
        self._touched: dict[str, float] = {}

    async def principal(self, authorization: str | None, need: str, cookie: str | None = None) -> Principal:
        """Who sends ``authorization`` (the header's value) or, without it, the dashboard's
        sign-in ``cookie``, if they may act as ``need``. Raises Unauthorized (401/4401) or
        Forbidden (403/4403)."""
        if self.mode == "none":
            return OPEN
        m = _BEARER.match(authorization or "")
        if m is not None:
            key, tenant = await self._lookup(digest(m[1]))
        elif cookie:
            key, tenant = await self._signed_in(digest(cookie))
        else:
            raise Unauthorized("this server needs an API key: send `Authorization: Bearer lt_…` "
                               "(make one with `livetranslate keys create`), or sign in on the dashboard")
        if key.revoked_at is not None:
            raise Unauthorized(f"the API key {key.hint}… was revoked")
        if key.expires_at is not None and as_utc(key.expires_at) <= utcnow():
            raise Unauthorized(f"the API key {key.hint}… has expired")
        who = Principal(tenant=tenant, role=key.role, key_id=key.id)
        if not who.may(need):
            raise Forbidden(f"a {key.role} key may not do this: it takes a {need} key")
        await self._touch(key.id)
        return who

    async def _lookup(self, hashed: str) -> tuple[ApiKeyRow, str]:
        cached = self._cache.get(hashed)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_S:
            return cached[1], cached[2]
        found = await executors.run("store", self._db.call, store.key_by_hash, digest=hashed)
        if found is None:
            raise Unauthorized("that API key is not one of this server's")
        key, tenant = found
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[hashed] = (time.monotonic(), key, tenant.id)
        return key, tenant.id

    async def _signed_in(self, hashed: str) -> tuple[ApiKeyRow, str]:
        cached = self._signins.get(hashed)
        if cached is None or time.monotonic() - cached[0] >= _CACHE_S:
            found = await executors.run("store", self._db.call, store.key_by_web_session, digest=hashed)
            if found is None:
                raise Unauthorized("not signed in (or signed out): sign in again with an API key")
            cached = (time.monotonic(), found[0], found[1].id, as_utc(found[2]))
            if len(self._signins) > 10_000:
                self._signins.clear()
            self._signins[hashed] = cached
        if cached[3] <= utcnow():
            raise Unauthorized("the sign-in has expired: sign in again")
        return cached[1], cached[2]

    async def sign_in(self, key: str) -> tuple[str, Principal, datetime]:
        """A dashboard sign-in with ``key``: the cookie's value (random, shown to the browser
        only), who it is and when it ends. Raises Unauthorized."""
        who = await self.principal(f"Bearer {key}", "viewer")
        token, ends = secrets.token_urlsafe(32), utcnow() + SIGN_IN
        await executors.run("store", self._db.call, store.add_web_session, digest=digest(token), key_id=who.key_id,
                            expires_at=ends)
        return token, who, ends

    async def sign_out(self, cookie: str) -> None:
        hashed = digest(cookie)
        self._signins.pop(hashed, None)
        await executors.run("store", self._db.call, store.drop_web_session, digest=hashed)

    async def _touch(self, key_id: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(key_id, -_TOUCH_S) >= _TOUCH_S:
            self._touched[key_id] = now
            await executors.run("store", self._db.call, store.used, key_id=key_id, at=utcnow())

    # --- keys (the CLI, and /v1/keys for admins)

    async def create(self, *, tenant: str, role: str, name: str | None, ttl: timedelta | None) -> tuple[ApiKeyRow, str]:
        """A new key for ``tenant`` (made if new); returns it with the key itself, shown once."""
        return await executors.run("store", self._db.call, create_key, tenant=tenant, role=role, name=name, ttl=ttl)

    async def revoke(self, key_id: str, tenant: str | None) -> ApiKeyRow:
        if tenant == OPEN.tenant:  # no keys asked for: the default tenant's admin sees every key
            tenant = None
        row = await executors.run("store", self._db.call, store.revoke, key_id=key_id, tenant_id=tenant)
        self._cache = {h: c for h, c in self._cache.items() if c[1].id != key_id}
        self._signins = {h: c for h, c in self._signins.items() if c[1].id != key_id}
        return row

    async def list(self, tenant: str | None):
        tenant = None if tenant == OPEN.tenant else tenant
        return await executors.run("store", self._db.call, store.list_keys, tenant_id=tenant)

    async def tenant_name(self, tenant_id: str) -> str:
        """The name of the tenant (``default`` with no keys asked for)."""
        if tenant_id == OPEN.tenant:
            return OPEN.tenant
        return (await executors.run("store", self._db.call, store.tenant_by_id, tenant_id=tenant_id)).name


def create_key(db, *, tenant: str, role: str, name: str | None, ttl: timedelta | None) -> tuple[ApiKeyRow, str]:
    """In one transaction (the CLI calls it with its own database session)."""
    import uuid

    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    key = new_key()
    row = ApiKeyRow(id=uuid.uuid4().hex, tenant_id=store.tenant(db, name=tenant, make=True).id, role=role, name=name,
                    hash=digest(key), hint=key[:7], created_at=utcnow(),
                    expires_at=utcnow() + ttl if ttl else None)
    return store.add_key(db, row=row), key
