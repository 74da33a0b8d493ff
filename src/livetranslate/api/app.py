"""The FastAPI application: services are built once in the lifespan and shared by the routes."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Depends, FastAPI, Request
from starlette.requests import HTTPConnection
from sqlalchemy.exc import SQLAlchemyError
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from livetranslate import __version__, datadir, metrics
from livetranslate.api.limits import BodyLimit
from livetranslate.api.openapi import PROTOCOL_URL, install_docs
from livetranslate.asr import AsrEngine
from livetranslate.errors import LiveTranslateError
from livetranslate.publish import InProcessBus, Publisher
from livetranslate.session import SessionService
from livetranslate.settings import Settings, get_settings
from livetranslate.speakers import VoiceEncoder, Voiceprint, VoiceprintBook
from livetranslate.store import Database, crud, upgrade
from livetranslate.translation import TranslationRouter, build_router
from livetranslate.vad import SileroVad
from livetranslate.web import STATIC

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    engine: AsrEngine
    vad: SileroVad
    bus: InProcessBus
    sessions: SessionService
    translation: TranslationRouter
    voiceprints: VoiceprintBook


DESCRIPTION = f"""REST for sessions, transcripts, speakers and voiceprints, OpenAI-compatible file
transcription, and two WebSockets per session, for audio in and captions out, described in
[the streaming protocol]({PROTOCOL_URL}) (WebSockets are not part of OpenAPI).

Every error is `{{"error": {{"code", "message", "type"}}}}` (OpenAI's shape): each operation lists the
statuses it can answer and the codes under each. Nothing here is fetched from the internet: this
page, [ReDoc](/redoc) and the [dashboard](/) are served by this server."""

TAGS = [
    {"name": "sessions", "description": "A conversation: create it, stream audio into it over the audio WebSocket, "
     "read its transcript in any of its languages and its recording."},
    {"name": "speakers", "description": "Who spoke: rename and merge a session's speakers, add the meeting's "
     "active-speaker events and named captions."},
    {"name": "voiceprints", "description": "Voices enrolled under a name, so that sessions name them."},
    {"name": "languages", "description": "What this server can hear and translate, from what is installed."},
    {"name": "settings", "description": "What this server runs, and the defaults of new sessions."},
    {"name": "openai-compatible", "description": "OpenAI's file endpoints, for the `openai` client and the tools "
     "built on it."},
    {"name": "health", "description": "Liveness, readiness and Prometheus metrics, for load balancers and operators."},
]


def error_body(code: str, message: str, **extra) -> dict:
    """The one error shape (OpenAI's): ``{"error": {"code", "message", "type", ...}}``."""
    return {"error": {"code": code, "message": message, "type": "invalid_request_error", **extra}}


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

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        datadir.hold(settings.data_dir)  # before recovery: it pauses the sessions this directory left live
        if settings.bus_url != "memory://":
            raise ValueError(f"bus_url {settings.bus_url!r} is not supported; supported: memory://")
        if settings.auto_migrate:
            await asyncio.to_thread(upgrade, settings.database_url)
        db = Database(settings.database_url)
        engine = await asyncio.to_thread(AsrEngine.from_settings, settings)
        asr = engine.asr
        await asyncio.to_thread(engine.warm_up)
        engine.start()
        vad = SileroVad()
        bus = InProcessBus(settings.subscriber_queue_size)
        router = build_router(settings, engine)
        encoder = VoiceEncoder()
        voiceprints = VoiceprintBook(
            encoder, vad, threshold=settings.voiceprint_threshold, margin=settings.voiceprint_margin,
            min_speech_s=settings.voiceprint_min_speech_s,
        )
        sessions = SessionService(
            settings=settings, db=db, engine=engine, vad=vad, bus=bus, publisher=Publisher(db, bus), router=router,
            encoder=encoder, voiceprints=voiceprints,
        )
        try:
            rows = await asyncio.to_thread(db.call, crud.list_voiceprints)
            voiceprints.load([Voiceprint.of(r) for r in rows])
            await sessions.load_defaults()
            await sessions.recover()
        except SQLAlchemyError as e:  # the server still starts; /health/ready reports the store
            log.error("store unreachable at start, voiceprints, defaults and interrupted sessions not loaded: %s", e)
        app.state.services = Services(settings, db, engine, vad, bus, sessions, router, voiceprints)
        log.info("ready: model %s (%s) on %s", asr.name, settings.compute_type, settings.device)
        try:
            yield
        finally:
            await sessions.shutdown()
            await router.aclose()
            engine.stop()
            db.dispose()

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
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()
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

    from livetranslate.api.routes import health, languages, openai, sessions, settings as settings_routes
    from livetranslate.api.routes import speakers, streaming, voiceprints

    for module in (sessions, speakers, streaming, voiceprints, languages, settings_routes, openai, health):
        app.include_router(module.router, dependencies=[Depends(_one_value_per_query_parameter)])
    install_docs(app)
    # the dashboard, at / (after the API: its routes win)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="dashboard")
    return app
