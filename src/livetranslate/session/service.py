"""Session lifecycle: REST operations and the live-audio registry of this process.

The registry only knows which sessions have live audio here. A session's audio arrives on
one or more tracks (sockets), each with its own :class:`SessionPipeline`; the tracks share
the session's translation and speakers stages. The session is live while any track is.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from livetranslate import metrics
from livetranslate.asr import AsrEngine, SegmenterOptions, UtteranceSegmenter
from livetranslate.audio import make_decoder
from livetranslate.errors import Conflict, InvalidInput, LiveTranslateError
from livetranslate.events import (
    Participant,
    SessionEndedEvent,
    SessionStatusEvent,
    SpeakerTimelineEvent,
    SpeakerUpdateEvent,
    StartMessage,
)
from livetranslate.publish import InProcessBus, Publisher
from livetranslate.session.defaults import SessionDefaults
from livetranslate.session.pipeline import SessionPipeline
from livetranslate.settings import Settings
from livetranslate.speakers import SessionSpeakers, Speaker, Timeline, VoiceEncoder, VoiceprintBook
from livetranslate.store import Database, SessionRow, SessionStatus
from livetranslate.store import crud
from livetranslate.translation import Glossary, SessionTranslator, TranslationRouter
from livetranslate.vad import SileroVad

log = logging.getLogger(__name__)


@dataclass
class _Track:
    pipeline: SessionPipeline
    terminate: Callable[[str], Awaitable[None]]
    """Closes the audio socket that feeds this track (used when the session is deleted)."""


@dataclass
class _Live:
    """A session with live audio in this process."""

    translator: SessionTranslator
    speakers: SessionSpeakers
    offset: float
    """Session time at which the first track went live."""
    since: float = field(default_factory=time.monotonic)
    tracks: dict[str, _Track] = field(default_factory=dict)
    """By track name ("" for the session's single unnamed track)."""
    heard: float = 0.0
    """The furthest session time of a track that has finished."""
    finishing: int = 0
    """Tracks publishing their last finals: the last one to end closes the session."""
    ending: str | None = None
    """Set by :meth:`SessionService.end`: the session ends (with this reason) when its tracks are done."""
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the session has no live audio here any more (finished or deleted)."""

    def now(self) -> float:
        """Session time by the clock: where a track joining now starts."""
        return self.offset + time.monotonic() - self.since

    def audio_seconds(self) -> float:
        return max([self.offset, self.heard, *(t.pipeline.audio_seconds for t in self.tracks.values())])


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
        encoder: VoiceEncoder | None = None,
        voiceprints: VoiceprintBook | None = None,
    ) -> None:
        self._settings = settings
        self.defaults = SessionDefaults.from_settings(settings)
        """For sessions created without saying (the dashboard's Settings); see :meth:`load_defaults`."""
        self._encoder = encoder if settings.speakers else None
        self._voiceprints = voiceprints
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
        if live is not None:
            translator = live.translator
            translator.targets = list(row.targets or [])
            translator.engine = row.translation_engine
            translator.glossary = self._glossary(row)
        return row

    async def load_defaults(self) -> None:
        """The stored defaults on top of the server's settings (at start-up)."""
        stored = await asyncio.to_thread(self._db.call, crud.get_defaults)
        if stored:
            self.defaults = SessionDefaults.model_validate({**self.defaults.model_dump(), **stored})

    async def update_defaults(self, changes: dict) -> SessionDefaults:
        """Change the defaults of new sessions; checked like a session would be, then stored."""
        new = SessionDefaults.model_validate({**self.defaults.model_dump(), **changes})
        self._engine.check_language(new.language)
        self._router.check(new.language, new.targets, new.translation_engine)
        await asyncio.to_thread(self._db.call, crud.put_defaults, values=new.model_dump(mode="json"))
        self.defaults = new
        return new

    def _glossary(self, row: SessionRow) -> Glossary:
        return self._settings.glossary.merged(Glossary.model_validate(row.glossary) if row.glossary else None)

    async def get(self, session_id: str) -> SessionRow:
        return await asyncio.to_thread(self._db.call, crud.get_session, session_id=session_id)

    async def list(self, *, limit: int, offset: int, q: str | None = None) -> tuple[list[SessionRow], int]:
        return await asyncio.to_thread(self._db.call, crud.list_sessions, limit=limit, offset=offset, q=q)

    async def delete(self, session_id: str) -> None:
        live = self._live.pop(session_id, None)
        if live is not None:
            live.gone.set()
            for track in live.tracks.values():
                await track.pipeline.cancel()
            await live.translator.cancel()
            metrics.ACTIVE_SESSIONS.dec()
            for track in live.tracks.values():
                await track.terminate("session deleted")
        row = await asyncio.to_thread(self._db.call, crud.delete_session, session_id=session_id)
        self._publisher.forget(session_id)
        self._bus.close_session(session_id, "session deleted")
        if row.audio_path:
            Path(row.audio_path).unlink(missing_ok=True)

    # --- live audio

    async def go_live(
        self, session_id: str, start: StartMessage, terminate: Callable[[str], Awaitable[None]]
    ) -> tuple[SessionPipeline, float]:
        """Attach an audio stream (a track) to the session; returns its pipeline and the session
        time it starts at."""
        s = self._settings
        track = start.track_key
        self._check_track_free(session_id, track)
        decoder = make_decoder(start.format, start.sample_rate, start.channels)
        row = await asyncio.to_thread(self._db.call, crud.get_session, session_id=session_id)
        if row.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has ended; create a new session")
        await self._engine.prepare(row.language)  # the multilingual model loads on first need
        live = self._live.get(session_id)
        first = False
        if live is None:
            opened = await self._open(row)
            live = self._live.get(session_id)  # another track may have opened it meanwhile
            if live is None:
                live, first = opened, True
        # no await from here until the track is registered: two sockets cannot both take it
        self._check_track_free(session_id, track)
        offset = row.audio_seconds if first else live.now()
        audio_file = None
        if row.audio_path and track == "":  # the session's recording is its unnamed track
            Path(row.audio_path).parent.mkdir(parents=True, exist_ok=True)
            audio_file = open(row.audio_path, "ab")  # noqa: SIM115 - owned by the pipeline
        segmenter = UtteranceSegmenter(self._vad.stream(), SegmenterOptions.from_settings(s), offset_s=offset)
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
            translator=live.translator,
            speakers=live.speakers,
            encoder=self._encoder,
            participant=start.participant,
        )
        live.tracks[track] = _Track(pipeline, terminate)
        if first:
            self._live[session_id] = live
            metrics.ACTIVE_SESSIONS.inc()
            try:
                await asyncio.to_thread(
                    self._db.call, crud.set_status, session_id=session_id, status=SessionStatus.live
                )
                await self._publisher.publish(session_id, SessionStatusEvent(status="live", audio_seconds=offset))
            except BaseException:
                self._live.pop(session_id, None)
                metrics.ACTIVE_SESSIONS.dec()
                await pipeline.cancel()
                await live.translator.cancel()
                raise
            live.translator.start()
        pipeline.start()
        return pipeline, offset

    def _check_track_free(self, session_id: str, track: str) -> None:
        live = self._live.get(session_id)
        if live is None:
            return
        if track == "" or "" in live.tracks:
            raise Conflict(
                f"session {session_id!r} already has a live audio socket; stop it first "
                "(several sockets at once must each name a different track)"
            )
        if track in live.tracks:
            raise Conflict(f"track {track!r} of session {session_id!r} is already live")

    async def _open(self, row: SessionRow) -> _Live:
        """The stages a session's tracks share, picking up where a paused session left off."""
        s = self._settings

        def load():
            with self._db.session() as db:
                return crud.speakers(db, session_id=row.id, merged=True), crud.timeline_events(db, session_id=row.id)

        speaker_rows, timeline_rows = await asyncio.to_thread(load)
        timeline = Timeline.from_settings(s)
        for e in timeline_rows:
            timeline.add(SpeakerTimelineEvent(
                kind=e.kind, participant=Participant(id=e.participant_id, name=e.name), time=e.time, end=e.end,
                text=e.text,
            ))
        speakers = SessionSpeakers.from_settings(
            s,
            timeline=timeline,
            voiceprints=self._voiceprints,
            known=[
                Speaker(id=r.id, name=r.name, source=r.source, confidence=r.confidence, participant_id=r.participant_id,
                        voiceprint_id=r.voiceprint_id, merged_into=r.merged_into)
                for r in speaker_rows
            ],
            centroids={r.id: np.asarray(r.centroid, np.float32) for r in speaker_rows if r.centroid},
        )
        translator = SessionTranslator(
            session_id=row.id,
            router=self._router,
            publisher=self._publisher,
            targets=list(row.targets or []),
            language=row.language,
            glossary=self._glossary(row),
            engine=row.translation_engine,
            context_segments=s.translation_context_segments,
            drafts=s.translate_drafts and s.drafts,
        )
        return _Live(translator=translator, speakers=speakers, offset=row.audio_seconds)

    async def finish(
        self, session_id: str, *, end: bool, reason: str = "stopped", track: str | None = ""
    ) -> SessionEndedEvent | None:
        """A track's audio is over: publish its finals. When it was the session's last live
        track, mark the session ended (``end``) or paused (the socket went away; a new socket
        may resume it). ``track`` None: every track (server shutdown)."""
        live = self._live.get(session_id)
        if live is None:
            return None  # deleted meanwhile, or already finished
        names = list(live.tracks) if track is None else [track]
        finishing = [t for t in (live.tracks.pop(name, None) for name in names) if t is not None]
        if not finishing:
            return None  # that track is already finishing
        live.finishing += 1
        error: LiveTranslateError | None = None
        try:
            for t in finishing:
                try:
                    await t.pipeline.finish()
                except LiveTranslateError as e:
                    error, end = e, False
                live.heard = max(live.heard, t.pipeline.audio_seconds)
        finally:
            live.finishing -= 1
        if live.tracks or live.finishing or self._live.get(session_id) is not live:
            # other tracks go on (or finish), or the session was deleted meanwhile
            if error is not None:
                raise error
            return None
        del self._live[session_id]
        metrics.ACTIVE_SESSIONS.dec()
        try:
            return await self._close_live(session_id, live, end=end or live.ending is not None,
                                          reason=live.ending or reason, error=error)
        finally:
            live.gone.set()

    async def _close_live(
        self, session_id: str, live: _Live, *, end: bool, reason: str, error: LiveTranslateError | None
    ) -> SessionEndedEvent | None:
        await live.translator.finish()
        offset_end = round(live.audio_seconds(), 3)
        centroids = live.speakers.centroids()
        status = SessionStatus.ended if end else SessionStatus.paused

        def store():
            with self._db.session() as db:
                crud.save_centroids(db, session_id=session_id, centroids=centroids)
                crud.set_status(db, session_id=session_id, status=status, audio_seconds=offset_end)

        await asyncio.to_thread(store)
        if end:
            event = await self._publisher.publish(session_id, SessionEndedEvent(reason=reason, audio_seconds=offset_end))
            self._publisher.forget(session_id)
            return event
        await self._publisher.publish(session_id, SessionStatusEvent(status="paused", audio_seconds=offset_end))
        if error is not None:
            raise error
        return None

    async def end(self, session_id: str) -> SessionRow:
        """End a session from outside its audio (REST): a live one here stops as if its sockets
        had sent ``stop`` (their finals are stored, then the sockets close); a paused or new one
        ends at once. Raises NotFound, or Conflict when it has ended or is live on another server."""
        live = self._live.get(session_id)
        if live is not None:
            live.ending = "ended"
            for track in list(live.tracks.values()):  # the sockets stop feeding; their finish ends it
                await track.terminate("session ended")
            await live.gone.wait()
            return await self.get(session_id)
        row = await self.get(session_id)
        if row.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has already ended")
        if row.status is SessionStatus.live:
            raise Conflict(f"session {session_id!r} is live on another server; end it there (stop its audio socket)")
        row = await asyncio.to_thread(self._db.call, crud.set_status, session_id=session_id, status=SessionStatus.ended)
        await self._publisher.publish(session_id, SessionEndedEvent(reason="ended", audio_seconds=row.audio_seconds))
        self._publisher.forget(session_id)
        return row

    # --- speakers

    async def speaker_events(self, session_id: str, events: list[SpeakerTimelineEvent]) -> int:
        """Meeting timeline events (REST or the audio socket): stored, and used at once if the
        session is live (a paused session uses them when it resumes). Returns how many."""
        row = await self.get(session_id)
        if row.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has ended; meeting events no longer change it")
        live = self._live.get(session_id)
        heard = live.audio_seconds() if live is not None else row.audio_seconds
        limit = heard + self._settings.speaker_event_lead_s
        for e in events:
            latest = max(e.time, e.end or 0.0)
            if latest > limit:
                raise InvalidInput(
                    f"a {e.kind!r} event at {latest:.2f} s is outside the session: audio so far ends at "
                    f"{heard:.2f} s (events may lead it by {self._settings.speaker_event_lead_s:g} s)"
                )
        stored = [
            {"kind": e.kind, "participant_id": e.participant.id, "name": e.participant.name, "time": e.time,
             "end": e.end, "text": e.text}
            for e in events
        ]
        await asyncio.to_thread(
            self._db.call, crud.add_timeline_events, session_id=session_id, events=stored,
            keep=self._settings.speaker_timeline_max_events,
        )
        if live is not None:
            await asyncio.to_thread(live.speakers.add_timeline, events)
            for update in live.speakers.take_updates():
                await self._publisher.publish(session_id, update)
        return len(events)

    async def rename_speaker(self, session_id: str, speaker_id: str, name: str | None) -> SpeakerUpdateEvent:
        def check():
            with self._db.session() as db:
                crud.get_session(db, session_id=session_id)
                row = crud.get_speaker(db, session_id=session_id, speaker_id=speaker_id)
                if name is not None:
                    for other in crud.speakers(db, session_id=session_id):
                        if other.id != speaker_id and other.name == name:
                            raise Conflict(
                                f"{other.id} is already called {name!r}; if they are the same person, merge "
                                f"them: POST /v1/sessions/{session_id}/speakers/{speaker_id}/merge "
                                f'{{"into": "{other.id}"}}'
                            )
                return row

        row = await asyncio.to_thread(check)
        event = SpeakerUpdateEvent(
            speaker=speaker_id, name=name, source="user" if name else "cluster", participant_id=row.participant_id,
            voiceprint_id=row.voiceprint_id,
        )
        return await self._speaker_update(session_id, event)

    async def merge_speakers(self, session_id: str, speaker_id: str, into: str) -> SpeakerUpdateEvent:
        if speaker_id == into:
            raise InvalidInput("a speaker cannot be merged into itself")

        def check():
            with self._db.session() as db:
                crud.get_session(db, session_id=session_id)
                gone = crud.get_speaker(db, session_id=session_id, speaker_id=speaker_id)
                return gone, crud.get_speaker(db, session_id=session_id, speaker_id=into)

        gone, target = await asyncio.to_thread(check)
        event = SpeakerUpdateEvent(
            speaker=into, name=target.name, source=target.source, confidence=target.confidence, merged=[speaker_id],
            participant_id=target.participant_id or gone.participant_id,
            voiceprint_id=target.voiceprint_id or gone.voiceprint_id,
        )
        return await self._speaker_update(session_id, event)

    async def _speaker_update(self, session_id: str, event: SpeakerUpdateEvent) -> SpeakerUpdateEvent:
        event = await self._publisher.publish(session_id, event)
        live = self._live.get(session_id)
        if live is not None:
            live.speakers.apply(event)
        return event

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
            *(self.finish(sid, end=False, track=None) for sid in list(self._live)), return_exceptions=True
        )
