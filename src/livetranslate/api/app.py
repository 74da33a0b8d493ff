"""The FastAPI application: services are built once in the lifespan and shared by the routes."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from starlette.requests import HTTPConnection
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from livetranslate import __version__, metrics
from livetranslate.api.guard import Guard, allowed_hosts, policy
from livetranslate.auth import keep_secrets_out_of_logs
from livetranslate.api.limits import BodyLimit
from livetranslate.api.openapi import PROTOCOL_URL, install_docs
from livetranslate.api.routes import bots, health, languages, openai, sessions, settings as settings_routes
from livetranslate.api.deps import caller
from livetranslate.api.routes import auth as auth_routes
from livetranslate.api.routes import audit, keys, sources, speakers, streaming, tokens, voiceprints, webhooks
from livetranslate.errors import LiveTranslateError, RateLimited, error_body
from livetranslate.quotas import retry_after_header
from livetranslate.runtime import running
from livetranslate.settings import Settings, get_settings
from livetranslate.web import STATIC

log = logging.getLogger(__name__)

DESCRIPTION = f"""REST for sessions, transcripts, speakers and voiceprints, OpenAI-compatible file
transcription, and two WebSockets per session, for audio in and captions out, described in
[the streaming protocol]({PROTOCOL_URL}) (WebSockets are not part of OpenAPI).

Every error is `{{"error": {{"code", "message", "type"}}}}` (OpenAI's shape): each operation lists the
statuses it can answer and the codes under each. Nothing here is fetched from the internet: this
page, [ReDoc](/redoc) and the [dashboard](/) are served by this server."""

TAGS = [
    {"name": "sessions", "description": "A conversation: create it, stream audio into it over the audio WebSocket, "
     "read its transcript in any of its languages and its recording."},
    {"name": "sources", "description": "Stream URLs the server reads into a session: HLS, Icecast, HTTP files, "
     "RTSP/RTMP/SRT, reconnected when they drop."},
    {"name": "bots", "description": "Meeting bots: send one into a Google Meet; it asks to join, captions the call "
     "into its session with the speakers' names, leaves by itself and reports each state."},
    {"name": "webhooks", "description": "Signed deliveries of bot events (Standard Webhooks), retried until a 2xx; "
     "what was sent, and sending again."},
    {"name": "speakers", "description": "Who spoke: rename and merge a session's speakers, add the meeting's "
     "active-speaker events and named captions."},
    {"name": "voiceprints", "description": "Voices enrolled under a name, so that sessions name them."},
    {"name": "languages", "description": "What this server can hear and translate, from what is installed."},
    {"name": "settings", "description": "What this server runs, and the defaults of new sessions."},
    {"name": "openai-compatible", "description": "OpenAI's file endpoints, for the `openai` client and the tools "
     "built on it."},
    {"name": "keys", "description": "API keys of the caller's tenant, for its admins (with `LIVETRANSLATE_AUTH=keys` "
     "every call but health carries one: `Authorization: Bearer lt_…`)."},
    {"name": "audit", "description": "Who did what, for a tenant's admins: keys made and revoked, sessions deleted, "
     "speakers renamed and merged, voices enrolled and forgotten, defaults changed, bots sent and made to leave."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics, for load balancers and operators."},
]


def _allowed(app: FastAPI, path: str) -> str:
    """The methods the API takes at this path, from its OpenAPI document ("" when it has none);
    a literal path wins over a template (``/v1/voiceprints/verify`` over ``/{voiceprint_id}``)."""
    matches = [
        (template.count("{"), {m.upper() for m in operations})
        for template, operations in app.openapi()["paths"].items() if compile_path(template)[0].fullmatch(path)
    ]
    fewest = min((params for params, _ in matches), default=0)
    methods = set().union(*(ms for params, ms in matches if params == fewest))
    return ", ".join(sorted(methods))


def _one_value_per_query_parameter(conn: HTTPConnection) -> None:
    """No query parameter of this API takes a list: a repeated one is refused, not the last taken."""
    route = conn.scope.get("route")
    if conn.scope["type"] != "http" or route is None:
        return
    names = {param.alias for param in route.dependant.query_params}
    keys = [key for key, _ in conn.query_params.multi_items() if key in names]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise RequestValidationError(
            [{"loc": ("query", key), "msg": f"given {keys.count(key)} times; give it once"} for key in repeated]
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    keep_secrets_out_of_logs()  # however the app is run

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with running(settings) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="LiveTranslate",
        version=__version__,
        summary="Real-time speech transcription and translation for meetings and live voice.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,  # served offline by install_docs
        redoc_url=None,
        lifespan=lifespan,
    )

    @app.exception_handler(LiveTranslateError)
    async def _domain_error(_: Request, exc: LiveTranslateError) -> JSONResponse:
        metrics.ERRORS.labels(exc.code).inc()
        headers = {"WWW-Authenticate": 'Bearer realm="livetranslate"'} if exc.status_code == 401 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": retry_after_header(exc.retry_after)}
        extra = {"retry_after": round(exc.retry_after, 1)} if isinstance(exc, RateLimited) else {}
        return JSONResponse(error_body(exc.code, exc.message, **extra), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # a bug: still the JSON error shape
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        metrics.ERRORS.labels("internal_error").inc()
        return JSONResponse(error_body("internal_error", "internal error; nothing accepted was lost"), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        form = getattr(request, "_form", None) or {}  # the parsed form, when the body was one
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: "
            + ("must not be empty" if e.get("type") == "missing" and form.get(str(e["loc"][-1])) == "" else e["msg"])
            for e in exc.errors()
        )
        metrics.ERRORS.labels("invalid_input").inc()
        return JSONResponse(error_body("invalid_input", problems or "invalid request"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status, detail, headers = exc.status_code, str(exc.detail), exc.headers
        allowed = _allowed(app, request.url.path) if status in (404, 405) else ""
        if allowed:  # an API path with another method fell through to the dashboard's mount at /
            status, detail, headers = 405, "Method Not Allowed", {"Allow": allowed}
        return JSONResponse(error_body(f"http_{status}", detail), status_code=status, headers=headers)

    # multipart framing on top of the largest accepted file
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes + 64 * 1024)
    app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["*"],
                       allow_headers=["*"], expose_headers=["Content-Disposition"], max_age=600)
    app.add_middleware(Guard, hosts=allowed_hosts(settings.host, settings.allowed_hosts),  # outermost
                       origins=settings.allowed_origins, csp=policy(settings.allowed_origins))

    for module in (sessions, sources, bots, webhooks, speakers, streaming, voiceprints, languages, settings_routes, openai,
                   keys, audit, tokens, auth_routes, health):
        # load balancers ask health without a key; signing in is how the dashboard gets one
        asks = [] if module in (health, auth_routes) else [Depends(caller)]
        app.include_router(module.router, dependencies=[*asks, Depends(_one_value_per_query_parameter)])
    install_docs(app)
    # the dashboard, at / (after the API: its routes win)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="dashboard")
    return app
