"""One session with live audio in this process: its tracks, the stages they share, and its
commands.

A session's audio arrives on one or more tracks (:mod:`.track`), each with its own
:class:`SessionPipeline`; the tracks share the session's translation and speakers stages. The
session is live while any track is. What the REST facade changes reaches a live session only as
a command on the bus (:class:`~livetranslate.events.SessionCommand`), so the facade and the
session may be in different processes. The registry of them is :mod:`.registry`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from livetranslate import executors
from livetranslate.errors import LiveTranslateError
from livetranslate.events import (
    DeleteCommand, RetargetCommand, SessionEndedEvent, SessionEventT, SessionStatusEvent, SpeakerCommand, StopCommand,
    TimelineCommand,
)
from livetranslate.session.track import Track, TrackState
from livetranslate.settings import Settings
from livetranslate.speakers import SessionSpeakers
from livetranslate.speakers.timeline import check_timeline
from livetranslate.stages import Stage
from livetranslate.store import SessionRow, SessionStatus, crud
from livetranslate.translation import Glossary, SessionTranslator

if TYPE_CHECKING:
    from livetranslate.session.registry import LiveSessions

log = logging.getLogger(__name__)


def session_glossary(settings: Settings, stored: dict | None) -> Glossary:
    """The server's glossary with the session's own on top."""
    return settings.glossary.merged(Glossary.stored(stored) if stored else None)


class LiveSession:
    """A session with live audio in this process."""

    def __init__(self, registry: "LiveSessions", row: SessionRow, stages: list[Stage],
                 speakers: SessionSpeakers) -> None:
        self.id = row.id
        self.tenant = row.tenant_id
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
        self.quotas = registry.quotas
        """Where the audio its tracks take is counted (None: nowhere)."""
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
