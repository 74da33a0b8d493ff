"""Standard Webhooks signing (https://www.standardwebhooks.com), for senders and receivers.

Every delivery carries ``webhook-id`` (the same on every retry: keep it to drop duplicates),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, where ``key`` is the endpoint's
secret ``whsec_<base64>`` decoded. Several signatures may be sent, space-separated (a secret
being rotated). A receiver checks it with :func:`verify` (this module needs nothing but the
standard library: copy it into a receiver as it is)::

    from livetranslate.webhooks.signing import verify
    event = verify(secret, request.headers, await request.body())   # raises InvalidSignature
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping

PREFIX = "whsec_"
TOLERANCE_S = 300


class InvalidSignature(Exception):
    pass


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    """The secret's key; ValueError for one that is not ``whsec_`` and base64 of 16-64 bytes."""
    if not secret.startswith(PREFIX):
        raise ValueError(f"a webhook secret starts with {PREFIX}")
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except ValueError as e:
        raise ValueError("a webhook secret is whsec_ and then base64") from e
    if not 16 <= len(key) <= 64:
        raise ValueError("a webhook secret's key is 16 to 64 bytes")
    return key


def check_secret(secret: str) -> str:
    _key(secret)
    return secret


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sign(secret, msg_id, ts, body),
            "content-type": "application/json"}


def verify(secret: str, received: Mapping[str, str], body: bytes, *, now: float | None = None,
           tolerance_s: int = TOLERANCE_S) -> dict:
    """The delivered event, if its signature is the secret's and it is fresh; else InvalidSignature."""
    get = {k.lower(): v for k, v in received.items()}.get
    msg_id, ts, signatures = get("webhook-id"), get("webhook-timestamp"), get("webhook-signature")
    if not (msg_id and ts and signatures):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(ts)
    except ValueError as e:
        raise InvalidSignature("webhook-timestamp is not a number") from e
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        raise InvalidSignature("webhook-timestamp is too old or in the future (a replay?)")
    expected = sign(secret, msg_id, timestamp, body).split(",", 1)[1].encode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(errors="replace"), expected):
            return json.loads(body)
    raise InvalidSignature("no signature matches the secret")
