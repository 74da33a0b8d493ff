"""A session's speakers over REST: who they are and on what evidence, renames and merges,
and the meeting's timeline events (active speaker, named captions)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from livetranslate.api.deps import ServicesDep
from livetranslate.exports import speaker_label
from livetranslate.events import SpeakerSource, SpeakerTimelineEvent, SpeakerUpdateEvent
from livetranslate.store import crud

router = APIRouter(prefix="/v1/sessions/{session_id}", tags=["speakers"])


class SpeakerOut(BaseModel):
    id: str
    name: str | None
    label: str = Field(description="What transcripts show: the name, else 'Speaker N'.")
    source: SpeakerSource
    confidence: float | None
    participant_id: str | None
    voiceprint_id: str | None
    segments: int
    seconds: float


class SpeakerPatch(BaseModel):
    model_config = {"extra": "forbid"}

    name: str | None = Field(
        ..., min_length=1, max_length=200, description="The speaker's name; null takes the name away."
    )


class SpeakerMerge(BaseModel):
    model_config = {"extra": "forbid"}

    into: str = Field(min_length=1, max_length=16, description="The speaker who stays; this one's segments join them.")


class SpeakerEvents(BaseModel):
    model_config = {"extra": "forbid"}

    events: list[SpeakerTimelineEvent] = Field(min_length=1, max_length=1000)


@router.get("/speakers", response_model=list[SpeakerOut])
async def list_speakers(session_id: str, services: ServicesDep) -> list[SpeakerOut]:
    def load():
        with services.db.session() as db:
            crud.get_session(db, session_id=session_id)
            return crud.speakers(db, session_id=session_id), crud.speaker_stats(db, session_id=session_id)

    rows, stats = await asyncio.to_thread(load)
    return [
        SpeakerOut(
            id=r.id, name=r.name, label=speaker_label(r.id, r.name), source=r.source, confidence=r.confidence,
            participant_id=r.participant_id, voiceprint_id=r.voiceprint_id,
            segments=stats.get(r.id, (0, 0.0))[0], seconds=stats.get(r.id, (0, 0.0))[1],
        )
        for r in rows
        if r.id in stats or r.name  # a voice the clustering gave up on keeps no segments
    ]


@router.patch("/speakers/{speaker_id}", response_model=SpeakerUpdateEvent)
async def rename_speaker(
    session_id: str, speaker_id: str, services: ServicesDep, body: Annotated[SpeakerPatch, Body()]
) -> SpeakerUpdateEvent:
    """Name (or un-name) a speaker: every segment of theirs follows, live clients get a
    ``speaker.update`` event."""
    return await services.sessions.rename_speaker(session_id, speaker_id, body.name)


@router.post("/speakers/{speaker_id}/merge", response_model=SpeakerUpdateEvent)
async def merge_speaker(
    session_id: str, speaker_id: str, services: ServicesDep, body: Annotated[SpeakerMerge, Body()]
) -> SpeakerUpdateEvent:
    """Two speakers are one person: ``speaker_id``'s segments become ``into``'s."""
    return await services.sessions.merge_speakers(session_id, speaker_id, body.into)


@router.post("/speaker-events", status_code=202)
async def add_speaker_events(session_id: str, services: ServicesDep, body: Annotated[SpeakerEvents, Body()]) -> dict:
    """The meeting's active-speaker events and named captions, in session media time."""
    accepted = await services.sessions.speaker_events(session_id, body.events)
    return {"accepted": accepted}
