"""Dependencies for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from livetranslate.auth import COOKIE, Principal
from livetranslate.runtime import Services


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
    who = await get_services(conn).auth.principal(conn.headers.get("authorization"), need, conn.cookies.get(COOKIE))
    conn.state.principal = who
    return who


async def admin(conn: HTTPConnection) -> Principal:
    """Only an admin key (keys, the server's settings)."""
    who = await get_services(conn).auth.principal(conn.headers.get("authorization"), "admin", conn.cookies.get(COOKIE))
    conn.state.principal = who
    return who


CallerDep = Annotated[Principal, Depends(caller)]
AdminDep = Annotated[Principal, Depends(admin)]
