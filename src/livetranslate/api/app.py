"""The FastAPI application: services are built once in the lifespan and shared by the routes."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from sqlalchemy.exc import SQLAlchemyError
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from livetranslate import __version__, metrics
from livetranslate.api.limits import BodyLimit
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


def error_body(code: str, message: str, **extra) -> dict:
    """The one error shape (OpenAI's): ``{"error": {"code", "message", "type", ...}}``."""
    return {"error": {"code": code, "message": message, "type": "invalid_request_error", **extra}}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
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
        summary="Real-time speech transcription for meetings and live voice.",
        description="REST for sessions and transcripts; WebSockets for audio in and captions out "
        "(protocol: docs/protocol.md). Errors are `{\"error\": {\"code\", \"message\", \"type\"}}`.",
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
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(f"http_{exc.status_code}", str(exc.detail)), status_code=exc.status_code)

    # multipart framing on top of the largest accepted file
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes + 64 * 1024)

    from livetranslate.api.routes import health, languages, openai, sessions, settings as settings_routes
    from livetranslate.api.routes import speakers, streaming, voiceprints

    for module in (sessions, speakers, streaming, voiceprints, languages, settings_routes, openai, health):
        app.include_router(module.router)
    # the dashboard, at / (after the API: its routes win)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="dashboard")
    return app
