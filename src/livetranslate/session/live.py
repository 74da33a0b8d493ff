"""Live sessions of this process: each one's tracks, the stages they share, and its commands.

:class:`LiveSessions` is the registry (open a track, recover after a crash, shut down);
:class:`LiveSession` is one session with live audio here. A session's audio arrives on one or
more tracks (:mod:`.track`), each with its own :class:`SessionPipeline`; the tracks share the
session's translation and speakers stages. The session is live while any track is. What the
REST facade changes reaches a live session only as a command on the bus
(:class:`~livetranslate.events.SessionCommand`), so the facade and the session may be in
different processes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

from livetranslate import executors, metrics
from livetranslate.asr import AsrEngine, SegmenterOptions, UtteranceSegmenter
from livetranslate.audio import make_decoder
from livetranslate.bus import Bus
from livetranslate.errors import Conflict, LiveTranslateError, Overloaded
from livetranslate.events import (
    DeleteCommand, Participant, RetargetCommand, SessionEndedEvent, SessionEventT, SessionStatusEvent, SpeakerCommand,
    SpeakerTimelineEvent, StopCommand, TimelineCommand,
)
from livetranslate.session.pipeline import SessionPipeline
from livetranslate.stages import Stage
from livetranslate.session.track import Track, TrackSpec, TrackState
from livetranslate.settings import Settings
from livetranslate.speakers import SessionSpeakers, Speaker, Timeline, VoiceEncoder, VoiceprintBook
from livetranslate.speakers.timeline import check_timeline
from livetranslate.store import Database, SessionRow, SessionStatus, crud
from livetranslate.translation import Glossary, SessionTranslator, TranslationRouter
from livetranslate.vad import SileroVad

log = logging.getLogger(__name__)


def session_glossary(settings: Settings, stored: dict | None) -> Glossary:
    """The server's glossary with the session's own on top."""
    return settings.glossary.merged(Glossary.stored(stored) if stored else None)


class LiveSession:
    """A session with live audio in this process."""

    def __init__(self, registry: "LiveSessions", row: SessionRow, stages: list[Stage],
                 speakers: SessionSpeakers) -> None:
        self.id = row.id
        self.stages = stages
        """Run on every event the session publishes (:mod:`.stages`)."""
        self.translator = next((s for s in stages if isinstance(s, SessionTranslator)), None)
        self.speakers = speakers
        self.offset = row.audio_seconds
        """Session time at which the first track went live."""
        self.since = time.monotonic()
        self.tracks: dict[str, Track] = {}
        """By track name ("" for the session's single unnamed track)."""
        self.heard = 0.0
        """The furthest session time of a track that has finished."""
        self.finishing = 0
        """Tracks publishing their last finals: the last one to end closes the session."""
        self.ending: str | None = None
        """Set by a stop command: the session ends (with this reason) when its tracks are done."""
        self.gone = asyncio.Event()
        """Set when the session has no live audio here any more (finished or deleted)."""
        self.closing = False
        """Its last track is done and it is closing: a track that arrives now waits for it (see ``open_track``)."""
        self.closed = False
        """Its last event (paused or ended) is out: nothing more is published from here."""
        self._registry = registry
        self._bus = registry.bus
        self._commands: asyncio.Task | None = None

    def now(self) -> float:
        """Session time by the clock: where a track joining now starts."""
        return self.offset + time.monotonic() - self.since

    def audio_seconds(self) -> float:
        return max([self.offset, self.heard, *(t.pipeline.audio_seconds for t in self.tracks.values())])

    async def publish(self, event: SessionEventT, audio: np.ndarray | None = None) -> SessionEventT:
        """Store and deliver ``event``, then hand it to every stage (what they emit comes back here).
        Once the session has closed here nothing more goes out (its ``session.ended`` is the last event)."""
        if self.closed:
            log.warning("session %s: a %s after the session closed was dropped", self.id, event.type)
            return event
        event = await self._bus.publish(self.id, event)
        for stage in self.stages:
            stage.handle(event, self.publish, audio=audio)
        return event

    # --- commands (from the REST facade, through the bus)

    def take_commands(self) -> None:
        """Become the owner of the session's commands (at once: a command sent from now on is ours)."""
        commands = self._bus.commands(self.id)
        self._commands = asyncio.create_task(self._run_commands(commands), name=f"commands-{self.id}")

    async def _run_commands(self, commands) -> None:
        async for delivery in commands:
            try:
                await self._handle(delivery.command)
            except LiveTranslateError as e:
                delivery.done(e)
            except Exception as e:
                log.exception("session %s: command %s failed", self.id, delivery.command.type)
                delivery.done(e)
            else:
                delivery.done()

    async def _handle(self, command) -> None:
        if isinstance(command, RetargetCommand) and self.translator is not None:
            self.translator.targets = list(command.targets)
            self.translator.engine = command.translation_engine
            self.translator.glossary = session_glossary(self._registry.settings, command.glossary)
        elif isinstance(command, SpeakerCommand):
            self.speakers.apply(command.update)
        elif isinstance(command, TimelineCommand):
            check_timeline(command.events, self.audio_seconds(), self._registry.settings.speaker_event_lead_s)
            await executors.run("voice", self.speakers.add_timeline, command.events)
            for update in self.speakers.take_updates():
                await self.publish(update)
        elif isinstance(command, StopCommand):
            # the sources stop feeding; the last track's finish ends the session (the sender waits for
            # its session.ended: this loop must stay free for the commands that finishing may send)
            self.ending = command.reason
            for track in list(self.tracks.values()):
                await track.terminate("session ended")
            if not self.tracks and not self.finishing and not self.closing:  # nothing left that would end it
                try:
                    await self._close(end=True, reason=command.reason, error=None)
                finally:
                    self.gone.set()
        elif isinstance(command, DeleteCommand):
            await self._registry.drop(self)

    # --- tracks

    async def finish_track(self, track: Track, *, end: bool, reason: str = "stopped") -> SessionEndedEvent | None:
        """A track's audio is over: publish its finals. When it was the session's last live
        track, mark the session ended (``end``) or paused (its source went away; a new track
        may resume it)."""
        if self.tracks.get(track.spec.name) is not track:
            return None  # already finishing, or the session was deleted
        del self.tracks[track.spec.name]
        if end:
            track.move(TrackState.stopping)
        self.finishing += 1
        error: LiveTranslateError | None = None
        try:
            await track.drain()
            self.heard = max(self.heard, track.pipeline.audio_seconds)  # a track joining meanwhile starts after it
            try:
                await track.pipeline.finish()
            except LiveTranslateError as e:
                error, end = e, False
            self.heard = max(self.heard, track.pipeline.audio_seconds)
            track.move(TrackState.stopped if end else TrackState.aborted)
        finally:
            self.finishing -= 1
        if self.tracks or self.finishing or self.closing or self._registry.get(self.id) is not self:
            # other tracks go on (or finish), or the session was deleted meanwhile
            if error is not None:
                raise error
            return None
        try:
            return await self._close(end=end or self.ending is not None, reason=self.ending or reason, error=error)
        finally:
            self.gone.set()

    async def _close(self, *, end: bool, reason: str, error: LiveTranslateError | None) -> SessionEndedEvent | None:
        """Finish the stages, store where the session stands, publish paused or ended; the session
        stays registered (closing) until then, so a track that arrives meanwhile waits for it."""
        self.closing = True
        try:
            return await self._closed(end=end, reason=reason, error=error)
        finally:
            self.closed = True
            self._registry.forget(self)

    async def _closed(self, *, end: bool, reason: str, error: LiveTranslateError | None) -> SessionEndedEvent | None:
        for stage in self.stages:
            try:
                await stage.finish()
            except Exception:  # a failing stage must not keep the session from closing
                log.exception("session %s: the %s stage failed to finish", self.id, stage.name)
        offset_end = round(self.audio_seconds(), 3)
        centroids = self.speakers.centroids()
        status = SessionStatus.ended if end else SessionStatus.paused
        db = self._registry.db

        def store():
            with db.session() as s:
                crud.save_centroids(s, session_id=self.id, centroids=centroids)
                crud.set_status(s, session_id=self.id, status=status, audio_seconds=offset_end)

        await executors.run("store", store)
        if end:
            return await self.publish(SessionEndedEvent(reason=reason, audio_seconds=offset_end))
        await self.publish(SessionStatusEvent(status="paused", audio_seconds=offset_end))
        if error is not None:
            raise error
        return None

    async def cancel(self) -> None:
        """Deleted: drop the live audio, publish nothing more, close the sources."""
        self.gone.set()
        tracks = list(self.tracks.values())
        self.tracks.clear()
        for track in tracks:
            track.state = TrackState.cancelled
            await track.pipeline.cancel()
        for stage in self.stages:
            await stage.cancel()
        for track in tracks:
            await track.terminate("session deleted")


class LiveSessions:
    """The registry of this process's live sessions."""

    def __init__(
        self, *, settings: Settings, db: Database, engine: AsrEngine, vad: SileroVad, bus: Bus,
        router: TranslationRouter, encoder: VoiceEncoder | None = None, voiceprints: VoiceprintBook | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self._engine = engine
        self._vad = vad
        self._router = router
        self._encoder = encoder if settings.speakers else None
        self._voiceprints = voiceprints
        self._live: dict[str, LiveSession] = {}

    def get(self, session_id: str) -> LiveSession | None:
        return self._live.get(session_id)

    def forget(self, live: LiveSession) -> None:
        """The session has no live audio here any more."""
        if self._live.get(live.id) is live:
            del self._live[live.id]
            metrics.ACTIVE_SESSIONS.dec()
            self.bus.release(live.id)

    async def drop(self, live: LiveSession) -> None:
        """The session is being deleted."""
        self.forget(live)
        await live.cancel()

    async def open_track(
        self, session_id: str, spec: TrackSpec, terminate: Callable[[str], Awaitable[None]]
    ) -> Track:
        """Attach a source to the session (it goes live if it was not)."""
        await self._make_room(session_id, spec.name)
        decoder = make_decoder(spec.format, spec.sample_rate, spec.channels)
        row = await executors.run("store", self.db.call, crud.get_session, session_id=session_id)
        if row.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has ended; create a new session")
        await self._engine.prepare(row.language)  # the multilingual model loads on first need
        live = self._live.get(session_id)
        if live is not None and live.closing:  # it began closing while the row was read: start again
            return await self.open_track(session_id, spec, terminate)
        first = False
        if live is None:
            if len(self._live) >= self.settings.max_live_sessions:
                raise Overloaded(f"this server runs its most live sessions ({self.settings.max_live_sessions}); "
                                 "try again later")
            opened = await self._open(row)
            live = self._live.get(session_id)  # another track may have opened it meanwhile
            if live is None:
                live, first = opened, True
        # no await from here until the track is registered: two sources cannot both take it
        self.check_track_free(session_id, spec.name)
        offset = row.audio_seconds if first else max(live.now(), live.audio_seconds())
        track = Track(live, spec, self._pipeline(row, spec, live, decoder, offset), offset, terminate)
        live.tracks[spec.name] = track
        if first:
            await self._go_live(live, track, offset)
        track.pipeline.start()
        return track

    def _pipeline(self, row: SessionRow, spec: TrackSpec, live: LiveSession, decoder, offset: float) -> SessionPipeline:
        s = self.settings
        audio_file = None
        if row.audio_path and spec.name == "" and spec.record:  # the session's recording is its unnamed track
            Path(row.audio_path).parent.mkdir(parents=True, exist_ok=True)
            audio_file = open(row.audio_path, "ab")  # noqa: SIM115 - owned by the pipeline
            gap = int(offset * 16000) - audio_file.tell() // 2  # a re-attached track starts by the clock
            if gap > 0:  # silence, so that the recording stays the session's timeline
                audio_file.write(b"\0\0" * gap)
        segmenter = UtteranceSegmenter(self._vad.stream(), SegmenterOptions.from_settings(s), offset_s=offset)
        return SessionPipeline(
            session_id=row.id, language=row.language, candidates=row.languages, decoder=decoder,
            segmenter=segmenter, engine=self._engine, publish=live.publish, final_beam_size=s.final_beam_size,
            draft_beam_size=s.draft_beam_size, max_pending_audio_s=s.max_pending_audio_s,
            draft_max_lag_s=s.draft_max_lag_s, audio_file=audio_file, speakers=live.speakers, encoder=self._encoder, participant=spec.participant,
        )

    async def _go_live(self, live: LiveSession, track: Track, offset: float) -> None:
        self._live[live.id] = live
        metrics.ACTIVE_SESSIONS.inc()
        live.take_commands()  # before it is said to be live: a command sent after that reaches it
        try:
            await executors.run("store", self.db.call, crud.set_status, session_id=live.id, status=SessionStatus.live)
            await live.publish(SessionStatusEvent(status="live", audio_seconds=offset))
        except BaseException:
            self._live.pop(live.id, None)
            metrics.ACTIVE_SESSIONS.dec()
            self.bus.release(live.id)
            await track.pipeline.cancel()
            for stage in live.stages:
                await stage.cancel()
            raise
        for stage in live.stages:
            stage.start()

    async def _make_room(self, session_id: str, name: str) -> None:
        """Wait until the session can take track ``name``: a closing session closes first; a
        track still held by a source that went away (its drop not noticed yet) is waited for
        up to ``reattach_wait_s``, and one silent for ``takeover_after_s`` (a half-open client)
        is taken over. A track being fed stays its source's: Conflict."""
        s = self.settings
        deadline = time.monotonic() + s.reattach_wait_s
        while True:
            live = self._live.get(session_id)
            if live is not None and live.closing:
                await live.gone.wait()  # its last events first; then this track opens it again
                continue
            try:
                return self.check_track_free(session_id, name)
            except Conflict:
                held = live.tracks.get(name) if live is not None else None
                if held is not None and held.quiet_s >= s.takeover_after_s:
                    await held.take_over(f"another connection took this track over (nothing heard for {held.quiet_s:.1f} s)")
                    continue
                # going quiet: wait until it can be taken over (but not for ever behind a source that pulses)
                quiet = held is not None and held.quiet_s > 0.5 and time.monotonic() < deadline + s.takeover_after_s
                if time.monotonic() >= deadline and not quiet:
                    raise
            await asyncio.sleep(0.05)

    def check_track_free(self, session_id: str, track: str) -> None:
        live = self._live.get(session_id)
        if live is None:
            return
        if track == "" or "" in live.tracks:
            raise Conflict(
                f"session {session_id!r} already has a live audio socket that is sending audio; stop it first "
                "(several sockets at once must each name a different track)"
            )
        if track in live.tracks:
            raise Conflict(f"track {track!r} of session {session_id!r} is already live")

    async def _open(self, row: SessionRow) -> LiveSession:
        """The stages a session's tracks share, picking up where a paused session left off."""
        s = self.settings

        def load():
            with self.db.session() as db:
                return crud.speakers(db, session_id=row.id, merged=True), crud.timeline_events(db, session_id=row.id)

        speaker_rows, timeline_rows = await executors.run("store", load)
        timeline = Timeline.from_settings(s)
        for e in timeline_rows:
            timeline.add(SpeakerTimelineEvent(
                kind=e.kind, participant=Participant.model_construct(id=e.participant_id, name=e.name), time=e.time, end=e.end,
                text=e.text,
            ))
        speakers = SessionSpeakers.from_settings(
            s, timeline=timeline, voiceprints=self._voiceprints,
            known=[
                Speaker(id=r.id, name=r.name, source=r.source, confidence=r.confidence, participant_id=r.participant_id,
                        voiceprint_id=r.voiceprint_id, merged_into=r.merged_into)
                for r in speaker_rows
            ],
            centroids={r.id: np.asarray(r.centroid, np.float32) for r in speaker_rows if r.centroid},
        )
        return LiveSession(self, row, self._stages(row), speakers)

    def _stages(self, row: SessionRow) -> list[Stage]:
        """The stages a session runs, as the settings name them."""
        s = self.settings
        build = {
            "translation": lambda: SessionTranslator(
                session_id=row.id, router=self._router, targets=list(row.targets or []), language=row.language,
                glossary=session_glossary(s, row.glossary), engine=row.translation_engine,
                context_segments=s.translation_context_segments, drafts=s.translate_drafts and s.drafts,
            ),
        }
        return [build[name]() for name in s.session_stages]

    async def recover(self) -> list[str]:
        """At start-up (embedded mode: this process owns every session): sessions a crashed
        process left live are paused after the audio it had received is transcribed
        (:mod:`livetranslate.session.recovery`). Returns their ids."""
        from livetranslate.session.recovery import recover

        return await recover(self)

    async def shutdown(self) -> None:
        """Server stopping: finish every live session (their finals are stored), leave them paused."""
        async def pause(live: LiveSession) -> None:
            for track in list(live.tracks.values()):
                try:
                    await track.abort()  # its finals are published; the session pauses
                    await track.terminate("the server is stopping")
                except Exception:
                    log.exception("session %s: finishing track %r at shutdown failed", live.id, track.spec.name)

        await asyncio.gather(*(pause(live) for live in list(self._live.values())))

