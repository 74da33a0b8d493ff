"""Audio sources other than a client's own socket, each feeding a track of a live session
(:mod:`livetranslate.session.track`): stream URLs (:mod:`.url`) today, meeting bots next.

:class:`Sources` is the registry of this process: add a source to a session (it is stored,
then read in a task of its own), read, list and remove them, and publish each state change
as a ``source.status`` event.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict

from livetranslate import executors
from livetranslate.bus import Bus
from livetranslate.errors import Conflict, NotFound
from livetranslate.events import Participant, SourceStatusEvent
from livetranslate.session import LiveSessions, TrackSpec
from livetranslate.settings import Settings
from livetranslate.sources.url import UrlSource, check_url
from livetranslate.store import Database, SessionStatus, SourceRow, crud

log = logging.getLogger(__name__)

ACTIVE = ("connecting", "live", "reconnecting")


class Sources:
    def __init__(self, *, settings: Settings, db: Database, bus: Bus, live: LiveSessions) -> None:
        self._s = settings
        self._db = db
        self._bus = bus
        self._live = live
        self._running: dict[str, tuple[UrlSource, asyncio.Task]] = {}
        self._adding: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def add(self, session_id: str, url: str, *, track: str | None = None,
                  participant: Participant | None = None) -> SourceRow:
        """Start reading ``url`` into the session (its track ``track``, or the participant's, or
        the session's only one). Raises InvalidInput, NotFound, Conflict."""
        check_url(url, allow_files=self._s.allow_file_urls)
        name = track or (participant.id if participant else "")
        async with self._adding[session_id]:  # two adds for one track: the second is a 409, not a failed source
            return await self._add(session_id, url, name, participant)

    async def _add(self, session_id: str, url: str, name: str, participant: Participant | None) -> SourceRow:
        session = await executors.run("store", self._db.call, crud.get_session, session_id=session_id)
        if session.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has ended; create a new session")
        self._live.check_track_free(session_id, name)
        for other in await self.list(session_id):
            if other.state in ACTIVE and other.track == name:
                raise Conflict(f"source {other.id} already feeds track {name!r} of this session; remove it first")
        row = await executors.run(
            "store", self._db.call, crud.create_source, id=uuid.uuid4().hex, session_id=session_id, url=url, track=name,
            participant=participant.model_dump() if participant else None,
        )
        source = UrlSource(
            source_id=row.id, session_id=session_id, url=url, spec=TrackSpec(
                format="pcm_f32le", sample_rate=16000, name=name, participant=participant,
            ), live=self._live, report=lambda state, reason: self._report(row, state, reason), settings=self._s,
        )
        task = asyncio.create_task(self._run(source), name=f"source-{row.id}")
        self._running[row.id] = (source, task)
        return row

    async def _run(self, source: UrlSource) -> None:
        try:
            await source.run()
        except Exception:
            log.exception("source %s of session %s failed", source.id, source.session_id)
        finally:
            self._running.pop(source.id, None)

    async def _report(self, row: SourceRow, state: str, reason: str | None) -> None:
        """Store the source's state and publish it, unless the session has ended (its
        ``session.ended`` is its last event: the row alone says what became of the source)."""
        try:
            await executors.run("store", self._db.call, crud.set_source_state, source_id=row.id, state=state, reason=reason)
            session = await executors.run("store", self._db.call, crud.get_session, session_id=row.session_id)
            if session.status is SessionStatus.ended:
                return
            await self._bus.publish(row.session_id, SourceStatusEvent(
                source_id=row.id, url=row.url, track=row.track, state=state, reason=reason,
            ))
        except NotFound:  # the session (and its sources) were deleted
            pass

    async def get(self, session_id: str, source_id: str) -> SourceRow:
        return await executors.run("store", self._db.call, crud.get_source, session_id=session_id, source_id=source_id)

    async def list(self, session_id: str) -> list[SourceRow]:
        return await executors.run("store", self._db.call, crud.list_sources, session_id=session_id)

    async def remove(self, session_id: str, source_id: str) -> None:
        """Stop reading (what it sent is kept; the session pauses if it was its only source) and forget it."""
        await self.get(session_id, source_id)
        running = self._running.get(source_id)
        if running is not None:
            source, task = running
            source.stop("removed")
            await asyncio.gather(task, return_exceptions=True)
        await executors.run("store", self._db.call, crud.delete_source, source_id=source_id)

    async def recover(self) -> None:
        """At start-up: sources a stopped server was reading are over (add them again to go on)."""
        await executors.run("store", self._db.call, crud.fail_active_sources, reason="the server stopped while reading it")

    async def shutdown(self) -> None:
        for source, _ in list(self._running.values()):
            source.stop("the server stopped")
        await asyncio.gather(*(task for _, task in list(self._running.values())), return_exceptions=True)
