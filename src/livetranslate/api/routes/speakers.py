"""A session's speakers over REST: who they are and on what evidence, renames and merges,
and the meeting's timeline events (active speaker, named captions)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from livetranslate.api.deps import CallerDep, ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.errors import Conflict, InvalidInput, NotFound
from livetranslate.exports import speaker_label
from livetranslate.events import OneLine, SpeakerSource, SpeakerTimelineEvent, SpeakerUpdateEvent
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

    name: OneLine | None = Field(
        ..., min_length=1, max_length=200, description="The speaker's name; null takes the name away."
    )


class SpeakerMerge(BaseModel):
    model_config = {"extra": "forbid"}

    into: str = Field(min_length=1, max_length=16, description="The speaker who stays; this one's segments join them.")


class SpeakerEvents(BaseModel):
    model_config = {"extra": "forbid"}

    events: list[SpeakerTimelineEvent] = Field(min_length=1, max_length=1000)


class Accepted(BaseModel):
    accepted: int = Field(description="How many events were stored.")


@router.get("/speakers", response_model=list[SpeakerOut], summary="A session's speakers",
            responses=errors_doc(NotFound))
async def list_speakers(session_id: str, services: ServicesDep) -> list[SpeakerOut]:
    """Each speaker (`S1`, `S2`, ... in order of appearance) with their name and on what evidence
    (`source`: the meeting, a voiceprint, voice clustering, a person), and how much they spoke."""
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


@router.patch("/speakers/{speaker_id}", response_model=SpeakerUpdateEvent, summary="Rename a speaker",
              responses=errors_doc(NotFound, Conflict))
async def rename_speaker(
    session_id: str, speaker_id: str, services: ServicesDep, who: CallerDep, body: Annotated[SpeakerPatch, Body()]
) -> SpeakerUpdateEvent:
    """Name (or un-name) a speaker: every segment of theirs follows, live clients get a
    ``speaker.update`` event. ``409`` when another speaker has that name: merge them instead."""
    renamed = await services.speakers.rename(session_id, speaker_id, body.name)
    await services.audit.record(who, "speaker.rename", speaker_id, session=session_id, name=body.name)
    return renamed


@router.post("/speakers/{speaker_id}/merge", response_model=SpeakerUpdateEvent, summary="Merge two speakers",
             responses=errors_doc(InvalidInput, NotFound))
async def merge_speaker(
    session_id: str, speaker_id: str, services: ServicesDep, who: CallerDep, body: Annotated[SpeakerMerge, Body()]
) -> SpeakerUpdateEvent:
    """Two speakers are one person: ``speaker_id``'s segments become ``into``'s. ``400`` for a
    speaker merged into itself, ``404`` for an unknown (or merged-away) one."""
    merged = await services.speakers.merge(session_id, speaker_id, body.into)
    await services.audit.record(who, "speaker.merge", speaker_id, session=session_id, into=body.into)
    return merged


@router.post("/speaker-events", status_code=202, response_model=Accepted, summary="Add the meeting's speaker timeline",
             responses=errors_doc(InvalidInput, NotFound, Conflict))
async def add_speaker_events(session_id: str, services: ServicesDep, body: Annotated[SpeakerEvents, Body()]) -> dict:
    """The meeting's active-speaker events and named captions, in session media time: they name
    the speakers heard at those times. ``400`` for a time beyond the audio heard so far (plus
    ``speaker_event_lead_s``), ``409`` once the session has ended."""
    accepted = await services.speakers.add_events(session_id, body.events)
    return {"accepted": accepted}
