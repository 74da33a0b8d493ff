"""The composition root: every long-lived part of the system is built here, once, from the
settings — the store, the models, the bus, the live sessions and the REST facade.

    async with running(settings) as services:   # the server (``livetranslate serve``)
        ...
    models = Models.load(settings, workers=1)    # a file job (``livetranslate transcribe``)

Nothing else names a concrete bus or builds an engine: the web layer receives
:class:`Services`, the CLI :class:`Models`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from livetranslate import datadir, executors
from livetranslate.audit import Audit
from livetranslate.auth import Auth
from livetranslate.auth import mode as auth_mode
from livetranslate.auth import secret as auth_secret
from livetranslate.asr import AsrEngine
from livetranslate.bots import BotRunner, Bots
from livetranslate.bus import Bus, bus_from_url, check_url
from livetranslate.session import LiveSessions, SessionService
from livetranslate.sources import Sources
from livetranslate.speakers.service import SpeakerService
from livetranslate.netguard import NetGuard
from livetranslate.quotas import Quotas
from livetranslate.settings import Settings
from livetranslate.speakers import VoiceEncoder, Voiceprint, VoiceprintBook
from livetranslate.store import Database, crud, upgrade
from livetranslate.translation import TranslationRouter, build_router
from livetranslate.vad import SileroVad
from livetranslate.webhooks import WebhookStage, Webhooks
from livetranslate.store import bots as bot_store

log = logging.getLogger(__name__)


@dataclass
class Models:
    """What turns audio into text and text into other languages: shared by every session of
    a process, and by a file job."""

    engine: AsrEngine
    vad: SileroVad
    router: TranslationRouter
    encoder: VoiceEncoder

    @classmethod
    def load(cls, settings: Settings, *, workers: int | None = None, final_lane: bool = True) -> "Models":
        """Load the models (blocking: call it in a thread from async code)."""
        engine = AsrEngine.from_settings(settings, workers=workers, final_lane=final_lane)
        return cls(engine=engine, vad=SileroVad(), router=build_router(settings, engine), encoder=VoiceEncoder())

    async def aclose(self) -> None:
        await self.router.aclose()
        self.engine.stop()


@dataclass
class Services:
    """Everything the server's routes use."""

    settings: Settings
    db: Database
    engine: AsrEngine
    vad: SileroVad
    bus: Bus
    sessions: SessionService
    live: LiveSessions
    sources: Sources
    speakers: SpeakerService
    translation: TranslationRouter
    voiceprints: VoiceprintBook
    bots: Bots
    webhooks: Webhooks
    quotas: Quotas
    audit: Audit
    guard: NetGuard
    """Where the server may connect on a caller's word (webhook endpoints, stream URLs)."""
    auth: Auth

    async def stop_live(self) -> None:
        """Server stopping: the bots and sources stop, every live session publishes its last
        finals and pauses, and its sockets are closed (1001) after them. Safe to call more than once."""
        await self.bots.shutdown()
        await self.sources.shutdown()
        await self.live.shutdown()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Services]:
    """Build the server's services, recover what a crash left live, and close it all at the end."""
    datadir.hold(settings.data_dir)  # before recovery: it pauses the sessions this directory left live
    check_url(settings.bus_url)  # an unsupported bus is refused before any model loads
    executors.configure({kind: getattr(settings, f"threads_{kind}") for kind in executors.DEFAULT_SIZES})
    if settings.auto_migrate:
        await asyncio.to_thread(upgrade, settings.database_url)
    db = Database(settings.database_url)
    models = await asyncio.to_thread(Models.load, settings)
    await asyncio.to_thread(models.engine.warm_up)
    models.engine.start()
    bus = bus_from_url(settings.bus_url, db, settings.subscriber_queue_size)
    voiceprints = VoiceprintBook(
        models.encoder, models.vad, threshold=settings.voiceprint_threshold, margin=settings.voiceprint_margin,
        min_speech_s=settings.voiceprint_min_speech_s,
    )
    mode = auth_mode(settings) or "keys"  # unset off loopback: closed
    guard = NetGuard(enabled=mode == "keys", allowed=settings.private_urls_allowed)
    webhooks = Webhooks(settings=settings, db=db, guard=guard)
    quotas = Quotas(settings, db)

    async def bot_of(session_id: str) -> str | None:
        return await executors.run("store", db.call, bot_store.bot_of_session, session_id=session_id)

    live = LiveSessions(
        settings=settings, db=db, engine=models.engine, vad=models.vad, bus=bus, router=models.router,
        encoder=models.encoder, voiceprints=voiceprints, quotas=quotas,
        stages={"webhooks": lambda row: WebhookStage(session_id=row.id, webhooks=webhooks, bot_of=bot_of)},
    )
    sessions = SessionService(settings=settings, db=db, engine=models.engine, bus=bus, router=models.router)
    sources = Sources(settings=settings, db=db, bus=bus, live=live)
    speakers = SpeakerService(settings=settings, db=db, bus=bus)
    bots = Bots(settings=settings, db=db, bus=bus, sessions=sessions, webhooks=webhooks, quotas=quotas,
                runners=lambda row, owner: BotRunner(
                    row, owner, settings=settings, live=live, speakers=speakers, sessions=sessions, db=db,
                    webhooks=webhooks,
                ))
    try:
        rows = await asyncio.to_thread(db.call, crud.list_voiceprints, tenant=None)
        voiceprints.load([Voiceprint.of(r) for r in rows])
        await live.recover()
        await sources.recover()
        await bots.recover()
    except SQLAlchemyError as e:  # the server still starts; /health/ready reports the store
        log.error("store unreachable at start, voiceprints and interrupted sessions not loaded: %s", e)
    webhooks.start()  # deliveries a stopped server owed go out now
    bots.start()
    log.info("ready: model %s (%s) on %s", models.engine.asr.name, settings.compute_type, settings.device)
    try:
        yield Services(settings, db, models.engine, models.vad, bus, sessions, live, sources, speakers, models.router,
                       voiceprints, bots, webhooks, quotas, Audit(db), guard,
                       Auth(mode=mode, db=db, secret=auth_secret(settings)))
    finally:
        await bots.shutdown()
        await webhooks.shutdown()
        await sources.shutdown()
        await live.shutdown()
        await models.aclose()
        db.dispose()
        executors.shutdown()
