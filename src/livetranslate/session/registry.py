"""The registry of this process's live sessions: open a track (the session goes live if it was
not), make room for a source that re-attaches, recover after a crash, shut down. Each live
session is a :class:`~livetranslate.session.live.LiveSession`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

from livetranslate import executors, metrics
from livetranslate.asr import AsrEngine, SegmenterOptions, UtteranceSegmenter
from livetranslate.audio import make_decoder
from livetranslate.bus import Bus
from livetranslate.errors import Conflict, Overloaded
from livetranslate.events import Participant, SessionStatusEvent, SpeakerTimelineEvent
from livetranslate.quotas import Quotas, check_at_once
from livetranslate.session.live import LiveSession, session_glossary
from livetranslate.session.pipeline import SessionPipeline
from livetranslate.session.track import Track, TrackSpec
from livetranslate.settings import Settings
from livetranslate.speakers import SessionSpeakers, Speaker, Timeline, VoiceEncoder, VoiceprintBook
from livetranslate.stages import Stage
from livetranslate.store import Database, SessionRow, SessionStatus, crud
from livetranslate.translation import SessionTranslator, TranslationRouter
from livetranslate.vad import SileroVad

log = logging.getLogger(__name__)


class LiveSessions:
    """The registry of this process's live sessions."""

    def __init__(
        self, *, settings: Settings, db: Database, engine: AsrEngine, vad: SileroVad, bus: Bus,
        router: TranslationRouter, encoder: VoiceEncoder | None = None, voiceprints: VoiceprintBook | None = None,
        stages: dict[str, Callable[[SessionRow], Stage]] | None = None, quotas: Quotas | None = None,
    ) -> None:
        """``stages``: the stages built outside the session package (webhooks), by name."""
        self.settings = settings
        self.db = db
        self.bus = bus
        self._engine = engine
        self._vad = vad
        self._router = router
        self._encoder = encoder if settings.speakers else None
        self._voiceprints = voiceprints
        self._stage_makers = stages or {}
        self._live: dict[str, LiveSession] = {}
        self.quotas = quotas
        self._opening: Counter[str] = Counter()
        """Sessions going live (their stages being read), by tenant: counted against its limit."""

    def get(self, session_id: str) -> LiveSession | None:
        return self._live.get(session_id)

    def live_of(self, tenant: str) -> int:
        """How many of the tenant's sessions are live here."""
        return sum(1 for live in self._live.values() if live.tenant == tenant)

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
        most = None
        if self.quotas is not None:
            await self.quotas.audio(tenant=row.tenant_id)  # some of today's audio left
            most = (await self.quotas.of(row.tenant_id)).live_sessions
        live = self._live.get(session_id)
        if live is not None and live.closing:  # it began closing while the row was read: start again
            return await self.open_track(session_id, spec, terminate)
        first = False
        if live is None:
            if len(self._live) >= self.settings.max_live_sessions:
                raise Overloaded(f"this server runs its most live sessions ({self.settings.max_live_sessions}); "
                                 "try again later")
            check_at_once(most, self.live_of(row.tenant_id) + self._opening[row.tenant_id], "sessions live",
                          "tenant_live_sessions")
            self._opening[row.tenant_id] += 1
            try:
                opened = await self._open(row)
            finally:
                self._opening[row.tenant_id] -= 1
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
                text=e.text, exact=e.exact,
            ))
        speakers = SessionSpeakers.from_settings(
            s, timeline=timeline, voiceprints=self._voiceprints.of_tenant(row.tenant_id) if self._voiceprints else None,
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
            **{name: (lambda make=make: make(row)) for name, make in self._stage_makers.items()},
        }
        return [build[name]() for name in s.session_stages if name in build]

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

