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

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
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
TOKEN_PREFIX = "ltt_"
_KEY = re.compile(r"lt_[A-Za-z0-9_\-]{43}")
SUBPROTOCOL = "lt-token"
"""A browser's WebSocket carries a token as ``new WebSocket(url, ["lt-token", token])``: no
header can be set there, and a query string would end up in access logs."""
MAX_TOKEN_TTL = timedelta(days=7)


@dataclass(frozen=True)
class Principal:
    tenant: str
    """The tenant's id."""
    role: str
    key_id: str | None = None
    """None: the server asks for no key."""
    session: str | None = None
    """A share link's: the one session it reaches (None: any of the tenant's)."""
    lang: str | None = None
    """A share link's language, for the page it opens (not a limit)."""
    token: bool = False
    """It came from a share token (which makes no other token and no sign-in)."""

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
    def __init__(self, *, mode: str, db, secret: bytes) -> None:
        self.mode = mode
        self._db = db
        self._secret = secret
        self._cache: dict[str, tuple[float, ApiKeyRow, str]] = {}  # digest → (when read, key, tenant id)
        self._signins: dict[str, tuple[float, ApiKeyRow, str, datetime]] = {}  # ... and when the sign-in ends
        self._by_id: dict[str, tuple[float, ApiKeyRow | None]] = {}  # key id → (when read, key): share tokens
        self._touched: dict[str, float] = {}

    async def principal(self, authorization: str | None, need: str, cookie: str | None = None) -> Principal:
        """Who sends ``authorization`` (the header's value) or, without it, the dashboard's
        sign-in ``cookie``, if they may act as ``need``. Raises Unauthorized (401/4401) or
        Forbidden (403/4403)."""
        if self.mode == "none":
            return OPEN
        m = _BEARER.match(authorization or "")
        if m is not None and m[1].startswith(TOKEN_PREFIX):
            return await self._shared(m[1], need)
        if m is not None:
            key, tenant = await self._lookup(digest(m[1]))
        elif cookie:
            key, tenant = await self._signed_in(digest(cookie))
        else:
            raise Unauthorized("this server needs an API key: send `Authorization: Bearer lt_…` "
                               "(make one with `livetranslate keys create`), or sign in on the dashboard")
        _usable(key, f"the API key {key.hint}…")
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

    # --- share tokens: signed, short-lived, one session, a role no higher than their maker's

    def token(self, who: Principal, *, role: str, session: str | None, lang: str | None, ttl: timedelta) -> tuple[str, datetime]:
        """A token that acts as ``who`` would with ``role``, on ``session`` only if given."""
        if not who.may(role):
            raise Forbidden(f"a {who.role} key cannot make a {role} token")
        ends = utcnow() + min(ttl, MAX_TOKEN_TTL)
        body = {"k": who.key_id, "t": who.tenant, "r": role, "s": session, "l": lang, "e": int(ends.timestamp())}
        payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=")
        mac = base64.urlsafe_b64encode(hmac.new(self._secret, payload, "sha256").digest()).rstrip(b"=")
        return f"{TOKEN_PREFIX}{payload.decode()}.{mac.decode()}", ends

    async def _shared(self, token: str, need: str) -> Principal:
        payload, _, mac = token[len(TOKEN_PREFIX):].partition(".")
        good = base64.urlsafe_b64encode(hmac.new(self._secret, payload.encode(), "sha256").digest()).rstrip(b"=")
        if not hmac.compare_digest(good, mac.encode()):
            raise Unauthorized("that token is not one this server made")
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if body["e"] <= time.time():
            raise Unauthorized("the link's token has expired: ask for a new link")
        if body["k"] is None:
            raise Unauthorized("this link was made while the server asked for no key: make a new one")
        key = await self._key_by_id(body["k"])  # revoking the key ends its links
        if key is None:
            raise Unauthorized("the key this link was made with was revoked")
        _usable(key, "the key this link was made with")
        if not Principal(tenant=key.tenant_id, role=key.role).may(body["r"]) or body["t"] != key.tenant_id:
            raise Unauthorized("that token does not match the key it names")
        who = Principal(tenant=body["t"], role=body["r"], key_id=body["k"], session=body["s"], lang=body["l"], token=True)
        if not who.may(need):
            raise Forbidden(f"a {who.role} link may not do this: it takes a {need} key")
        return who

    async def _key_by_id(self, key_id: str) -> ApiKeyRow | None:
        cached = self._by_id.get(key_id)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_S:
            return cached[1]
        found = await executors.run("store", self._db.call, store.key_by_id, key_id=key_id)
        key = found[0] if found is not None else None
        if len(self._by_id) > 10_000:
            self._by_id.clear()
        self._by_id[key_id] = (time.monotonic(), key)
        return key

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
        if not _KEY.fullmatch(key):  # a link's token is for its one session, never a sign-in
            raise Unauthorized("sign in with an API key (lt_ and 43 characters), not a link's token")
        who = await self.principal(f"Bearer {key}", "viewer")
        if who.token or who.key_id is None:
            raise Unauthorized("sign in with an API key, not a link's token")
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
        if self.mode == "none":  # no keys asked for: whoever calls sees every key
            tenant = None
        row = await executors.run("store", self._db.call, store.revoke, key_id=key_id, tenant_id=tenant)
        self._cache = {h: c for h, c in self._cache.items() if c[1].id != key_id}
        self._signins = {h: c for h, c in self._signins.items() if c[1].id != key_id}
        self._by_id.pop(key_id, None)
        return row

    async def list(self, tenant: str | None):
        tenant = None if self.mode == "none" else tenant
        return await executors.run("store", self._db.call, store.list_keys, tenant_id=tenant)

    async def tenant_name(self, tenant_id: str) -> str:
        """The name of the tenant (``default`` with no keys asked for)."""
        if tenant_id == OPEN.tenant:
            return OPEN.tenant
        return (await executors.run("store", self._db.call, store.tenant_by_id, tenant_id=tenant_id)).name


def _usable(key: ApiKeyRow, what: str) -> None:
    """Unauthorized when the key was revoked or has expired (``what``: how the message names it)."""
    if key.revoked_at is not None:
        raise Unauthorized(f"{what} was revoked")
    if key.expires_at is not None and as_utc(key.expires_at) <= utcnow():
        raise Unauthorized(f"{what} has expired")


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


def secret(settings) -> bytes:
    """What signs share tokens: ``secret_key``, else one made once and kept in the data
    directory (every process on that directory signs alike; set it for a cluster)."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value().encode()
    else:
        path = settings.data_dir / "secret_key"
        if not path.exists():  # written whole, then put in place: no process ever reads half of it
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            os.replace(tmp, path)
        value = path.read_text().strip().encode()
    if len(value) < 32:
        raise ValueError("the secret that signs share tokens is under 32 characters (LIVETRANSLATE_SECRET_KEY or "
                         "DATA_DIR/secret_key): give a longer one")
    return value


_SECRETS = [
    (re.compile(r"(?i)(bearer[ \t]+)\S+"), r"\1[redacted]"),
    (re.compile(r"\b(ltt?_)[A-Za-z0-9_\-.]{8,}"), r"\1[redacted]"),
    (re.compile(r"\b(whsec_)[A-Za-z0-9+/=]{8,}"), r"\1[redacted]"),
    (re.compile(r"((?:lt_session|lt-token)[=, ]+)[^;\s,]+"), r"\1[redacted]"),
]


def redact(text: str) -> str:
    """Keys, tokens, webhook secrets and sign-in cookies masked (what a log may say of them)."""
    for pattern, mask in _SECRETS:
        text = pattern.sub(mask, text)
    return text


def keep_secrets_out_of_logs() -> None:
    """Every log record, whatever logger and handler it goes through (a library's debug lines
    print request headers), has its secrets masked when it is made."""
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)  # the message and each argument masked, the shape kept (formatters
        if isinstance(record.msg, str):  # such as uvicorn's access log unpack the arguments)
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return record

    factory.redacts = True
    logging.setLogRecordFactory(factory)
