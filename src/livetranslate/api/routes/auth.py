"""The dashboard's sign-in: a key is given once, the browser keeps an HttpOnly cookie (never
the key), and signing out ends it. With ``LIVETRANSLATE_AUTH=none`` there is nothing to sign into."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from livetranslate.api.deps import ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.auth import COOKIE, SIGN_IN
from livetranslate.errors import Unauthorized

router = APIRouter(prefix="/v1/auth", tags=["keys"])


class SignIn(BaseModel):
    model_config = {"extra": "forbid"}

    key: str = Field(min_length=1, max_length=1000, description="An API key (`lt_…`).")


class SignedIn(BaseModel):
    mode: Literal["none", "keys"] = Field(description="`none`: the server asks for no key.")
    role: str
    tenant: str | None = None
    key_hint: str | None = None
    expires_at: datetime | None = None


@router.post("/session", response_model=SignedIn, summary="Sign the dashboard in with a key",
             responses=errors_doc(Unauthorized))
async def sign_in(body: SignIn, request: Request, response: Response, services: ServicesDep) -> SignedIn:
    """Sets the `lt_session` cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) for 14 days;
    the key itself is not kept by the browser."""
    auth = services.auth
    if auth.mode == "none":
        return SignedIn(mode="none", role="admin")
    token, who, ends = await auth.sign_in(body.key)
    response.set_cookie(COOKIE, token, max_age=int(SIGN_IN.total_seconds()), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return SignedIn(mode="keys", role=who.role, tenant=await auth.tenant_name(who.tenant), key_hint=body.key[:7],
                    expires_at=ends)


@router.get("/session", response_model=SignedIn, summary="Who the dashboard is signed in as",
            responses=errors_doc(Unauthorized))
async def whoami(request: Request, services: ServicesDep) -> SignedIn:
    """``401`` when signed out (with keys asked for)."""
    auth = services.auth
    if auth.mode == "none":
        return SignedIn(mode="none", role="admin")
    who = await auth.principal(request.headers.get("authorization"), "viewer", request.cookies.get(COOKIE))
    return SignedIn(mode="keys", role=who.role, tenant=await auth.tenant_name(who.tenant))


@router.delete("/session", status_code=204, summary="Sign the dashboard out")
async def sign_out(request: Request, services: ServicesDep) -> Response:
    """The sign-in ends here and now; the cookie is cleared."""
    if (cookie := request.cookies.get(COOKIE)) and services.auth.mode == "keys":
        await services.auth.sign_out(cookie)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
