"""A session's audio sources over REST: stream URLs the server reads into the session (HLS,
Icecast/HTTP MP3 or AAC, HTTP(S) files, RTSP, RTMP, SRT). Each state change also arrives on
the session's event stream as ``source.status``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, Field

from livetranslate.api.deps import ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.errors import Conflict, InvalidInput, NotFound, UnsupportedUrl
from livetranslate.events import Participant, SourceState
from livetranslate.store import SourceRow, as_utc

router = APIRouter(prefix="/v1/sessions/{session_id}/sources", tags=["sources"])


class SourceCreate(BaseModel):
    model_config = {"extra": "forbid"}

    url: str = Field(min_length=1, max_length=4096, examples=["https://example.org/live/radio.m3u8"],
                     description="What to read: http(s), rtsp, rtmp(s) or srt (file:// only when the server allows it).")
    track: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                              description="The session track it feeds (default: the participant's, else the only one).")
    participant: Participant | None = Field(None, description="Who this source is: its segments are theirs.")


class SourceOut(BaseModel):
    id: str
    session_id: str
    url: str
    track: str = Field(description='The track it feeds ("" for the session\'s only one).')
    participant: Participant | None
    state: SourceState
    reason: str | None = Field(description="Why it is reconnecting, ended or failed.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SourceRow) -> "SourceOut":
        return cls(id=row.id, session_id=row.session_id, url=row.url, track=row.track,
                   participant=Participant.model_validate(row.participant) if row.participant else None,
                   state=row.state, reason=row.reason, created_at=as_utc(row.created_at),
                   updated_at=as_utc(row.updated_at))


@router.post("", status_code=201, response_model=SourceOut, summary="Read a stream URL into the session",
             responses=errors_doc(InvalidInput, UnsupportedUrl, NotFound, Conflict))
async def add_source(session_id: str, services: ServicesDep, body: Annotated[SourceCreate, Body()]) -> SourceOut:
    """The server connects, decodes and paces the stream as it arrives (a file at real-time
    pace); a live stream that drops is reconnected with backoff, the session paused meanwhile.
    `422` for a scheme it cannot read (the message lists those it can), `409` when the session
    has ended or the track is already fed."""
    await services.guard.check(body.url, "stream URL")
    row = await services.sources.add(session_id, body.url, track=body.track, participant=body.participant)
    return SourceOut.of(row)


@router.get("", response_model=list[SourceOut], summary="A session's sources", responses=errors_doc(NotFound))
async def list_sources(session_id: str, services: ServicesDep) -> list[SourceOut]:
    """Every source added to the session (removed ones are gone), oldest first, with its state."""
    await services.sessions.get(session_id)
    return [SourceOut.of(r) for r in await services.sources.list(session_id)]


@router.get("/{source_id}", response_model=SourceOut, summary="One source and its state",
            responses=errors_doc(NotFound))
async def get_source(session_id: str, source_id: str, services: ServicesDep) -> SourceOut:
    """Its state now (`source.status` events on the session's stream say each change)."""
    return SourceOut.of(await services.sources.get(session_id, source_id))


@router.delete("/{source_id}", status_code=204, summary="Stop reading a source",
               responses=errors_doc(NotFound))
async def delete_source(session_id: str, source_id: str, services: ServicesDep) -> Response:
    """What it sent is kept; the session pauses if it was its only audio."""
    await services.sources.remove(session_id, source_id)
    return Response(status_code=204)
