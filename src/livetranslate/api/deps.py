"""Dependencies for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from livetranslate import executors
from livetranslate.auth import COOKIE, SUBPROTOCOL, TOKEN_PREFIX, Principal
from livetranslate.errors import Forbidden
from livetranslate.runtime import Services
from livetranslate.session import Scope
from livetranslate.store import tenancy


def get_services(conn: HTTPConnection) -> Services:
    return conn.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


_SAFE = {"GET", "HEAD", "OPTIONS"}


async def caller(conn: HTTPConnection) -> Principal | None:
    """Who calls, for every route but health and the docs: a key that may read for GET, one
    that may change things for the rest (401/403 otherwise). WebSockets ask in their handler,
    where a refusal is an error event and a close code."""
    if conn.scope["type"] != "http":
        return None
    need = "viewer" if conn.scope["method"] in _SAFE else "member"
    services = get_services(conn)
    who = await services.auth.principal(conn.headers.get("authorization"), need, conn.cookies.get(COOKIE))
    await _counted(services, who)
    _one_session(who, conn.path_params.get("session_id"))
    await _owned(conn, who)
    conn.state.principal = who
    return who


async def socket_caller(ws: WebSocket, session_id: str, need: str) -> Principal:
    """The same for a WebSocket (inside its handler: a refusal is an error event and a close):
    the header, the sign-in cookie, or a share token as the ``lt-token`` subprotocol."""
    authorization = ws.headers.get("authorization")
    offered = ws.scope.get("subprotocols") or []
    if authorization is None and SUBPROTOCOL in offered:
        authorization = next((f"Bearer {p}" for p in offered if p.startswith(TOKEN_PREFIX)), None)
    who = await get_services(ws).auth.principal(authorization, need, ws.cookies.get(COOKIE))
    await _counted(get_services(ws), who)
    _one_session(who, session_id)
    await _owned(ws, who)
    return who


async def _counted(services: Services, who: Principal) -> None:
    """429 over the key's or its tenant's requests a second (an open server, asking for no key, counts none)."""
    if who.key_id is not None:
        await services.quotas.request(tenant=who.tenant, key_id=who.key_id)


async def _owned(conn: HTTPConnection, who: Principal) -> None:
    """404 when the path names another tenant's session, bot, voiceprint or delivery."""
    names = {k: v for k, v in conn.path_params.items() if k in tenancy.OWNED}
    if names:
        await executors.run("store", get_services(conn).db.call, tenancy.check_owned, tenant=who.tenant, names=names)


def scope(who: Annotated[Principal, Depends(caller)]) -> Scope:
    """Whose things a route's lists, searches and new things are: the caller's tenant's."""
    return Scope(tenant=who.tenant)


def subprotocol(ws: WebSocket) -> str | None:
    """``lt-token`` when the browser offered it (it refuses a socket that picks none it offered)."""
    return SUBPROTOCOL if SUBPROTOCOL in (ws.scope.get("subprotocols") or []) else None


def _one_session(who: Principal, session_id: str | None) -> None:
    if who.session is not None and session_id != who.session:
        raise Forbidden("this link reaches one session only")


async def admin(conn: HTTPConnection) -> Principal:
    """Only an admin key (keys, the server's settings)."""
    who = await get_services(conn).auth.principal(conn.headers.get("authorization"), "admin", conn.cookies.get(COOKIE))
    conn.state.principal = who
    return who


CallerDep = Annotated[Principal, Depends(caller)]
ScopeDep = Annotated[Scope, Depends(scope)]
AdminDep = Annotated[Principal, Depends(admin)]
