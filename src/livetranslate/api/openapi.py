"""The API's documentation, true to the server and served offline: the one error schema and the
``responses=`` each route declares with it, and the pages at ``/docs`` (Swagger UI), ``/redoc``
(ReDoc) and ``/docs/protocol`` (the WebSocket protocol), whose scripts come from an installed
package (``fastapi-offline``), never from a CDN."""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from markdown_it import MarkdownIt
from pydantic import BaseModel, Field

from livetranslate.web import PROTOCOL
from livetranslate.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LiveTranslateError,
    NotFound,
    NotReady,
    Overloaded,
    RateLimited,
    TooLarge,
    TooMany,
    TranslationFailed,
    Unauthorized,
    UnsupportedLanguage,
    UnsupportedUrl,
    UnsupportedMedia,
)

__all__ = ["ErrorBody", "errors_doc", "install_docs"]

ASSETS = "/docs/assets"
PROTOCOL_URL = "/docs/protocol"
_ASSET_DIR = files("fastapi_offline") / "static"  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js
# the docs pages may load only from this server: ReDoc's side menu asks a CDN for its maker's logo
_OFFLINE = {"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:"}
# Swagger UI has a dark theme (html.dark-mode) but only its standalone top bar turns it on
_FOLLOW_DARK = ("<script>matchMedia('(prefers-color-scheme: dark)').matches && "
                "document.documentElement.classList.add('dark-mode')</script></head>")
_ICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' "
    "height='16' rx='3' fill='%231f5fd6'/%3E%3Cpath d='M4 5h8M4 8h6M4 11h7' stroke='white' "
    "stroke-width='1.6'/%3E%3C/svg%3E"
)


class ErrorDetail(BaseModel):
    code: str = Field(description="For programs: `invalid_input`, `not_found`, `conflict`, `too_large`, "
                      "`unsupported_media`, `unsupported_language`, `not_ready`, ...", examples=["not_found"])
    message: str = Field(description="For people: what is wrong and what is allowed.",
                         examples=["session 'abc' does not exist"])
    type: str = Field(description="Always `invalid_request_error` (OpenAI's error shape).",
                      examples=["invalid_request_error"])


class ErrorBody(BaseModel):
    """Every error the server answers: ``{"error": {"code", "message", "type"}}``, OpenAI's shape."""

    error: ErrorDetail


_MEANS: dict[type[LiveTranslateError], str] = {
    InvalidInput: "a value the server refuses (the message says which and why)",
    UnsupportedLanguage: "a language or language pair this server cannot do (the message lists what it can)",
    UnsupportedUrl: "a stream URL this server does not read (the message lists the schemes it does)",
    NotFound: "no such session, speaker, voiceprint, translation or recording",
    Conflict: "not in this state: the session has ended, the name is taken, the track is already live",
    TooLarge: "the upload is over `max_upload_bytes`",
    UnsupportedMedia: "not audio that can be decoded (unknown format, no audio track, damaged bytes)",
    NotReady: "the model or the store is not available",
    Overloaded: "audio arrives faster than it can be processed",
    TooMany: "over a limit of what may run at once (the message says which)",
    RateLimited: "over a limit of the key or its tenant (the message says which; `Retry-After` says when to "
                 "try again)",
    TranslationFailed: "the translation engine is down, slow, or gave a bad reply",
    Unauthorized: "no API key, or one that is unknown, expired or revoked (with `LIVETRANSLATE_AUTH=keys`)",
    Forbidden: "the key's role may not do this",
}
_UNAUTHORIZED = f"`unauthorized`: {_MEANS[Unauthorized]}"
_FORBIDDEN = ("`forbidden`: the key's role may not do this; `origin_not_allowed`: a browser page of another site "
              "(not in `LIVETRANSLATE_ALLOWED_ORIGINS`)")
# what any request with these parts can meet, before a route runs (added to every operation)
_MALFORMED_BODY = "`http_400`: the body is not valid JSON or multipart"
_INVALID_FIELD = "`invalid_input`: a field is missing, of the wrong type or out of range (the message names it)"
_BODY_TOO_LARGE = "`too_large`: the body is over the upload limit"
_RATE_LIMITED = ("`rate_limited`: over the key's or its tenant's requests a second (`key_requests_per_s`, "
                 "`tenant_requests_per_s`); `Retry-After` says when to try again")


def errors_doc(*raised: type[LiveTranslateError], means: dict[type[LiveTranslateError], str] | None = None
               ) -> dict[int | str, dict]:
    """``responses=`` for a route that raises these errors: the error body under each status,
    described by the codes it can carry (``means``: what an error means on this route)."""
    by_status: dict[int | str, list[str]] = {}
    for exc in raised:
        by_status.setdefault(exc.status_code, []).append(f"`{exc.code}`: {(means or {}).get(exc) or _MEANS[exc]}")
    return {status: {"model": ErrorBody, "description": "; ".join(lines)} for status, lines in by_status.items()}


def _declare(responses: dict, status: str, meaning: str) -> None:
    described = responses.get(status, {}).get("description")
    if described and meaning.split(":")[0] in described:  # that code is said already
        return
    responses[status] = {
        "description": f"{described}; {meaning}" if described and described != "Validation Error" else meaning,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document with the server's real request errors: its ``{"detail": [...]}`` 422
    becomes the error body, and every body can be malformed (400) or too large (413)."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, summary=app.summary, description=app.description,
            routes=app.routes, tags=app.openapi_tags,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path, operations in doc["paths"].items():
            for op in operations.values():
                responses = op["responses"]
                if not path.startswith("/health") and path != "/metrics":  # what a key and a page may meet
                    _declare(responses, "401", _UNAUTHORIZED)
                    _declare(responses, "403", _FORBIDDEN)
                    _declare(responses, "429", _RATE_LIMITED)
                if op.get("parameters") or op.get("requestBody") or "422" in responses:
                    _declare(responses, "422", _INVALID_FIELD)
                if op.get("requestBody"):
                    _declare(responses, "400", _MALFORMED_BODY)
                    _declare(responses, "413", _BODY_TOO_LARGE)
        app.openapi_schema = doc
    return app.openapi_schema


@cache
def _protocol_html() -> str:
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(PROTOCOL.read_text(encoding="utf-8"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>LiveTranslate — streaming protocol</title><link rel="icon" href="{html.escape(_ICON)}">
<style>
:root {{ color-scheme: light dark; --bg: #fff; --fg: #1d2330; --muted: #f2f4f8; --line: #d5dae3; --link: #1a56c4; }}
@media (prefers-color-scheme: dark) {{
  :root {{ --bg: #14171d; --fg: #e6e9ef; --muted: #1f242d; --line: #353c48; --link: #8db6ff; }}
}}
body {{ margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.55 system-ui, sans-serif; }}
main {{ max-width: 60rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }}
nav {{ display: flex; gap: 1rem; flex-wrap: wrap; padding: .5rem 0; border-bottom: 1px solid var(--line); }}
a {{ color: var(--link); }}
code {{ background: var(--muted); padding: 0 .25em; border-radius: 3px; font-size: .92em; overflow-wrap: anywhere; }}
pre {{ background: var(--muted); padding: .75rem; overflow-x: auto; border-radius: 4px; }}
pre code {{ padding: 0; }}
.table {{ overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: .95em; }}
th, td {{ border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }}
</style></head>
<body><main><nav><a href="/">Dashboard</a><a href="/docs">REST API (Swagger UI)</a><a href="/redoc">REST API (ReDoc)</a>
<a href="/openapi.json">openapi.json</a></nav>
{body.replace("<table>", '<div class="table"><table>').replace("</table>", "</table></div>")}
</main></body></html>"""


def _docs_routes(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} — API", swagger_favicon_url=_ICON,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_ui_parameters={"validatorUrl": None},  # never ask an online validator
        )
        return HTMLResponse(bytes(page.body).decode().replace("</head>", _FOLLOW_DARK, 1), headers=_OFFLINE)

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url, title=f"{app.title} — API", redoc_favicon_url=_ICON,
            redoc_js_url=f"{ASSETS}/redoc.standalone.js", with_google_fonts=False,
        )
        return HTMLResponse(page.body, headers=_OFFLINE)

    @router.get(PROTOCOL_URL)
    async def protocol() -> HTMLResponse:
        return HTMLResponse(_protocol_html(), headers=_OFFLINE)

    return router


def install_docs(app: FastAPI) -> None:
    """Serve the documentation pages and their assets, and make ``/openapi.json`` tell what the
    server really answers. Call before mounting anything at ``/``."""
    app.openapi = lambda: _openapi(app)
    app.include_router(_docs_routes(app))
    app.mount(ASSETS, StaticFiles(directory=str(_ASSET_DIR)), name="docs-assets")
