"""Session lifecycle: REST operations and the live-audio registry of this process.

The registry only knows which sessions have live audio here; each session's work is in its
own :class:`SessionPipeline`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from livetranslate import metrics
from livetranslate.asr import AsrEngine, SegmenterOptions, UtteranceSegmenter
from livetranslate.audio import make_decoder
from livetranslate.errors import Conflict, InvalidInput, LiveTranslateError
from livetranslate.events import SessionEndedEvent, SessionStatusEvent, StartMessage
from livetranslate.publish import InProcessBus, Publisher
from livetranslate.session.pipeline import SessionPipeline
from livetranslate.settings import Settings
from livetranslate.store import Database, SessionRow, SessionStatus
from livetranslate.store import crud
from livetranslate.translation import Glossary, SessionTranslator, TranslationRouter
from livetranslate.vad import SileroVad

log = logging.getLogger(__name__)


@dataclass
class _Live:
    pipeline: SessionPipeline
    terminate: Callable[[str], Awaitable[None]]
    """Closes the audio socket that feeds this session (used when the session is deleted)."""


class SessionService:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        engine: AsrEngine,
        vad: SileroVad,
        bus: InProcessBus,
        publisher: Publisher,
        router: TranslationRouter,
    ) -> None:
        self._settings = settings
        self._router = router
        self._db = db
        self._engine = engine
        self._vad = vad
        self._bus = bus
        self._publisher = publisher
        self._live: dict[str, _Live] = {}

    # --- REST

    async def create(
        self,
        *,
        title: str | None,
        language: str | None,
        targets: list[str],
        translation_engine: str | None = None,
        glossary: Glossary | None = None,
        languages: list[str] | None = None,
    ) -> SessionRow:
        self._engine.check_language(language)
        if languages:
            if language is not None:
                raise InvalidInput("languages (the ones to detect among) needs language: null")
            for lang in languages:
                self._engine.check_language(lang)
        self._router.check(language, targets, translation_engine)
        session_id = uuid.uuid4().hex
        audio_path = str(self._settings.audio_dir / f"{session_id}.pcm") if self._settings.store_audio else None
        return await asyncio.to_thread(
            self._db.call, crud.create_session, id=session_id, title=title, language=language, targets=targets,
            audio_path=audio_path, translation_engine=translation_engine,
            glossary=glossary.model_dump() if glossary is not None else None, languages=languages or None,
        )

    async def update(self, session_id: str, **changes) -> SessionRow:
        """PATCH: title, targets, translation_engine, glossary; a live session follows at once
        (the next segment is translated into the new targets)."""
        row = await self.get(session_id)
        if "targets" in changes or "translation_engine" in changes:
            self._router.check(
                row.language,
                changes.get("targets", list(row.targets or [])),
                changes.get("translation_engine", row.translation_engine),
            )
        if isinstance(changes.get("glossary"), Glossary):
            changes["glossary"] = changes["glossary"].model_dump()
        row = await asyncio.to_thread(self._db.call, crud.update_session, session_id=session_id, **changes)
        live = self._live.get(session_id)
        if live is not None and live.pipeline.translator is not None:
            translator = live.pipeline.translator
            translator.targets = list(row.targets or [])
            translator.engine = row.translation_engine
            translator.glossary = self._glossary(row)
        return row

    def _glossary(self, row: SessionRow) -> Glossary:
        return self._settings.glossary.merged(Glossary.model_validate(row.glossary) if row.glossary else None)

    async def get(self, session_id: str) -> SessionRow:
        return await asyncio.to_thread(self._db.call, crud.get_session, session_id=session_id)

    async def list(self, *, limit: int, offset: int) -> tuple[list[SessionRow], int]:
        return await asyncio.to_thread(self._db.call, crud.list_sessions, limit=limit, offset=offset)

    async def delete(self, session_id: str) -> None:
        live = self._live.pop(session_id, None)
        if live is not None:
            await live.pipeline.cancel()
            metrics.ACTIVE_SESSIONS.dec()
            await live.terminate("session deleted")
        row = await asyncio.to_thread(self._db.call, crud.delete_session, session_id=session_id)
        self._publisher.forget(session_id)
        self._bus.close_session(session_id, "session deleted")
        if row.audio_path:
            Path(row.audio_path).unlink(missing_ok=True)

    # --- live audio

    async def go_live(
        self, session_id: str, start: StartMessage, terminate: Callable[[str], Awaitable[None]]
    ) -> tuple[SessionPipeline, float]:
        """Attach an audio stream to the session; returns its pipeline and the session time it starts at."""
        if session_id in self._live:
            raise Conflict(f"session {session_id!r} already has a live audio socket; stop it first")
        s = self._settings
        decoder = make_decoder(start.format, start.sample_rate, start.channels)
        row = await asyncio.to_thread(self._db.call, crud.get_session, session_id=session_id)
        if row.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has ended; create a new session")
        await self._engine.prepare(row.language)  # the multilingual model loads on first need
        if session_id in self._live:  # lost a race while reading the row
            raise Conflict(f"session {session_id!r} already has a live audio socket; stop it first")
        offset = row.audio_seconds
        audio_file = None
        if row.audio_path:
            Path(row.audio_path).parent.mkdir(parents=True, exist_ok=True)
            audio_file = open(row.audio_path, "ab")  # noqa: SIM115 - owned by the pipeline
        segmenter = UtteranceSegmenter(
            self._vad.stream(),
            SegmenterOptions.from_settings(s),
            offset_s=offset,
        )
        pipeline = SessionPipeline(
            session_id=session_id,
            language=row.language,
            candidates=row.languages,
            decoder=decoder,
            segmenter=segmenter,
            engine=self._engine,
            publisher=self._publisher,
            final_beam_size=s.final_beam_size,
            draft_beam_size=s.draft_beam_size,
            max_pending_audio_s=s.max_pending_audio_s,
            draft_max_lag_s=s.draft_max_lag_s,
            audio_file=audio_file,
            translator=SessionTranslator(
                session_id=session_id,
                router=self._router,
                publisher=self._publisher,
                targets=list(row.targets or []),
                language=row.language,
                glossary=self._glossary(row),
                engine=row.translation_engine,
                context_segments=s.translation_context_segments,
                drafts=s.translate_drafts and s.drafts,
            ),
        )
        self._live[session_id] = _Live(pipeline, terminate)
        metrics.ACTIVE_SESSIONS.inc()
        try:
            await asyncio.to_thread(self._db.call, crud.set_status, session_id=session_id, status=SessionStatus.live)
            await self._publisher.publish(session_id, SessionStatusEvent(status="live", audio_seconds=offset))
        except BaseException:
            self._live.pop(session_id, None)
            metrics.ACTIVE_SESSIONS.dec()
            await pipeline.cancel()
            raise
        pipeline.start()
        return pipeline, offset

    async def finish(self, session_id: str, *, end: bool, reason: str = "stopped") -> SessionEndedEvent | None:
        """The audio stream is over: publish every final, then mark the session ended (``end``)
        or paused (the socket went away; a new socket may resume it)."""
        live = self._live.pop(session_id, None)
        if live is None:
            return None  # deleted meanwhile, or already finished
        metrics.ACTIVE_SESSIONS.dec()
        pipeline = live.pipeline
        error: LiveTranslateError | None = None
        try:
            await pipeline.finish()
        except LiveTranslateError as e:
            error, end = e, False
        offset_end = round(pipeline.audio_seconds, 3)
        status = SessionStatus.ended if end else SessionStatus.paused
        await asyncio.to_thread(
            self._db.call, crud.set_status, session_id=session_id, status=status, audio_seconds=offset_end
        )
        if end:
            event = await self._publisher.publish(session_id, SessionEndedEvent(reason=reason, audio_seconds=offset_end))
            self._publisher.forget(session_id)
            return event
        await self._publisher.publish(session_id, SessionStatusEvent(status="paused", audio_seconds=offset_end))
        if error is not None:
            raise error
        return None

    async def recover(self) -> list[str]:
        """At start-up (embedded mode: this process owns every session): sessions a crashed
        process left live become paused, their timeline taken from the audio kept on disk."""
        rows = await asyncio.to_thread(self._db.call, crud.interrupted_sessions)
        for row in rows:
            seconds = row.audio_seconds
            if row.audio_path and Path(row.audio_path).is_file():
                seconds = max(seconds, Path(row.audio_path).stat().st_size / (2 * 16000))
            await asyncio.to_thread(
                self._db.call, crud.set_status, session_id=row.id, status=SessionStatus.paused,
                audio_seconds=round(seconds, 3),
            )
            await self._publisher.publish(row.id, SessionStatusEvent(status="paused", audio_seconds=round(seconds, 3)))
            log.warning("session %s was live when the server stopped; it is paused at %.1f s", row.id, seconds)
        return [row.id for row in rows]

    async def shutdown(self) -> None:
        """Server stopping: finish every live session (their finals are stored), leave them paused."""
        await asyncio.gather(
            *(self.finish(sid, end=False) for sid in list(self._live)), return_exceptions=True
        )
