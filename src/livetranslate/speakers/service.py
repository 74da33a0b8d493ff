"""A session's speakers over REST, wherever the session runs: renames and merges (stored and
published, then sent to the live session as a command) and the meeting's timeline events
(checked by the live session against the audio it has heard, or here against the stored
audio when it is not live, then stored)."""

from __future__ import annotations


from livetranslate import executors
from livetranslate.bus import Bus
from livetranslate.errors import Conflict, InvalidInput
from livetranslate.events import SpeakerCommand, SpeakerTimelineEvent, SpeakerUpdateEvent, TimelineCommand
from livetranslate.session.service import EVERYONE, Scope
from livetranslate.settings import Settings
from livetranslate.speakers.timeline import check_timeline
from livetranslate.store import Database, SessionStatus, crud


class SpeakerService:
    def __init__(self, *, settings: Settings, db: Database, bus: Bus) -> None:
        self._settings = settings
        self._db = db
        self._bus = bus

    async def add_events(self, session_id: str, events: list[SpeakerTimelineEvent], scope: Scope = EVERYONE) -> int:
        """Meeting timeline events (REST or the audio socket): used at once by a live session
        (which checks them against the audio it has heard), and stored (a paused session uses
        them when it resumes). Returns how many."""
        row = await executors.run("store", self._db.call, crud.get_session, session_id=session_id)
        if row.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has ended; meeting events no longer change it")
        if not await self._bus.send(session_id, TimelineCommand(events=events)):
            check_timeline(events, row.audio_seconds, self._settings.speaker_event_lead_s)
        stored = [
            {"kind": e.kind, "participant_id": e.participant.id, "name": e.participant.name, "time": e.time,
             "end": e.end, "text": e.text, "exact": e.exact}
            for e in events
        ]
        await executors.run(
            "store", self._db.call, crud.add_timeline_events, session_id=session_id, events=stored,
            keep=self._settings.speaker_timeline_max_events,
        )
        return len(events)

    async def rename(
        self, session_id: str, speaker_id: str, name: str | None, scope: Scope = EVERYONE
    ) -> SpeakerUpdateEvent:
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

        row = await executors.run("store", check)
        event = SpeakerUpdateEvent(
            speaker=speaker_id, name=name, source="user" if name else "cluster", participant_id=row.participant_id,
            voiceprint_id=row.voiceprint_id,
        )
        return await self._speaker_update(session_id, event)

    async def merge(self, session_id: str, speaker_id: str, into: str, scope: Scope = EVERYONE) -> SpeakerUpdateEvent:
        if speaker_id == into:
            raise InvalidInput("a speaker cannot be merged into itself")

        def check():
            with self._db.session() as db:
                crud.get_session(db, session_id=session_id)
                gone = crud.get_speaker(db, session_id=session_id, speaker_id=speaker_id)
                return gone, crud.get_speaker(db, session_id=session_id, speaker_id=into)

        gone, target = await executors.run("store", check)
        event = SpeakerUpdateEvent(
            speaker=into, name=target.name, source=target.source, confidence=target.confidence, merged=[speaker_id],
            participant_id=target.participant_id or gone.participant_id,
            voiceprint_id=target.voiceprint_id or gone.voiceprint_id,
        )
        return await self._speaker_update(session_id, event)

    async def _speaker_update(self, session_id: str, event: SpeakerUpdateEvent) -> SpeakerUpdateEvent:
        event = await self._bus.publish(session_id, event)
        await self._bus.send(session_id, SpeakerCommand(update=event))
        return event
