"""Meeting bots over REST: send a bot into a meeting, follow its state, make it leave. The
bot's captions are an ordinary session (``session_id``): its sockets, transcript, exports
and the dashboard work on it, and each state change is also a ``bot.status`` event there."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
import httpx
from pydantic import AfterValidator, BaseModel, Field

from livetranslate.api.deps import CallerDep, ScopeDep, ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.bots.lifecycle import BotState, SubCode
from livetranslate.bots.options import AutomaticLeave
from livetranslate.errors import Conflict, InvalidInput, NotFound, NotReady, Overloaded, TooMany, UnsupportedLanguage, UnsupportedUrl
from livetranslate.events import OneLine
from livetranslate.store import as_utc
from livetranslate.store.models import BotParticipantEventRow, BotRow, BotStatusChangeRow
from livetranslate.translation.langid import LanguageCode
from livetranslate.webhooks import EVENTS
from livetranslate.webhooks.signing import check_secret

router = APIRouter(prefix="/v1/bots", tags=["bots"])
_MEANS = {
    UnsupportedUrl: "no meeting link this server recognises, or a platform without an adapter yet (the message "
    "lists the supported platforms and an example link)",
    Conflict: "a bot is already active for this meeting or deduplication key, or the bot is not in a state for this",
    TooMany: "as many bots run as `max_concurrent_bots` allows",
    NotReady: "no bot browser can start on this server (the message says what is missing)",
}
_PAUSE_MEANS = {
    Conflict: "the bot is not in the state this needs (recording to pause, paused to resume)",
    Overloaded: "the server carries as many live sessions as it may",
}


def _http_url(value: str) -> str:
    """A URL httpx can send to, with a host."""
    try:
        if not httpx.URL(value).host:
            raise ValueError("the URL has no host")
    except httpx.InvalidURL as e:
        raise ValueError(f"not a URL: {e}") from e
    return value


class WebhookSpec(BaseModel):
    model_config = {"extra": "forbid"}

    url: Annotated[str, AfterValidator(_http_url)] = Field(
        min_length=1, max_length=2048, pattern=r"^https?://", examples=["https://example.org/hooks/meetings"])
    events: list[Literal[EVENTS]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="The event types it takes (default: all)."
    )
    secret: Annotated[str, AfterValidator(check_secret)] | None = Field(
        None, pattern=r"^whsec_[A-Za-z0-9+/=]{20,90}$",
        description="Its signing secret: `whsec_` and the base64 of 16-64 random bytes (default: one is made and "
        "shown once, in this reply).")


class BotCreate(BaseModel):
    model_config = {"extra": "forbid"}

    meeting_url: str = Field(min_length=1, max_length=2048, examples=["https://meet.google.com/abc-defg-hij"])
    bot_name: OneLine | None = Field(None, min_length=1, max_length=100, description="The name it joins with.")
    title: OneLine | None = Field(None, max_length=300, description="Its session's title (default: the meeting and the time).")
    language: LanguageCode | None = Field(None, description="The spoken language (default: detected).")
    targets: list[LanguageCode] = Field(default_factory=list, max_length=20, description="Languages to translate into.")
    join_at: datetime | None = Field(None, description="When to join (with a time zone); default: now.")
    automatic_leave: AutomaticLeave = Field(default_factory=AutomaticLeave)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=50, description="Yours: returned as given.")
    deduplication_key: OneLine | None = Field(
        None, min_length=1, max_length=200, description="At most one active bot per key (409 for a second)."
    )
    webhooks: list[WebhookSpec] = Field(default_factory=list, max_length=10,
                                        description="Endpoints for its events, signed the Standard Webhooks way.")


class BotStatus(BaseModel):
    code: BotState
    sub_code: SubCode | None = None
    message: str | None = None
    created_at: datetime


class StatusChange(BaseModel):
    old: BotState | None
    new: BotState
    sub_code: SubCode | None
    message: str | None
    source: str = Field(description="Who made it: bot, user, scheduler or reaper.")
    created_at: datetime

    @classmethod
    def of(cls, row: BotStatusChangeRow) -> "StatusChange":
        return cls(old=row.old, new=row.new, sub_code=row.sub_code, message=row.message, source=row.source,
                   created_at=as_utc(row.created_at))


class BotOut(BaseModel):
    id: str
    platform: str = Field(examples=["google_meet"])
    meeting_id: str = Field(examples=["abc-defg-hij"])
    meeting_url: str
    bot_name: str
    session_id: str = Field(description="The session its captions go to.")
    status: BotStatus
    status_changes: list[StatusChange] | None = Field(description="Every state it went through (one bot only).")
    join_at: datetime | None
    automatic_leave: AutomaticLeave
    metadata: dict[str, str]
    deduplication_key: str | None
    screenshots: int = Field(description="Screenshots it took (GET …/screenshots/{n}, from 1).")
    created_at: datetime

    @classmethod
    def of(cls, row: BotRow, changes: list[BotStatusChangeRow] | None = None) -> "BotOut":
        return cls(
            id=row.id, platform=row.platform, meeting_id=row.meeting_id, meeting_url=row.meeting_url,
            bot_name=row.bot_name, session_id=row.session_id,
            status=BotStatus(code=row.status, sub_code=row.sub_code, message=row.message, created_at=as_utc(row.status_at)),
            status_changes=[StatusChange.of(c) for c in changes] if changes is not None else None,
            join_at=as_utc(row.join_at), automatic_leave=AutomaticLeave.model_validate(row.options["automatic_leave"]),
            metadata=row.user_metadata, deduplication_key=row.deduplication_key, screenshots=row.screenshots,
            created_at=as_utc(row.created_at),
        )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    secret: str = Field(description="Its signing secret: shown only when the bot is created.")


class BotCreated(BotOut):
    webhooks: list[WebhookOut]


class BotPage(BaseModel):
    items: list[BotOut]
    total: int
    limit: int
    offset: int


class ParticipantEvent(BaseModel):
    kind: str = Field(description="join, leave, speech_on or speech_off.")
    participant_id: str
    name: str | None
    time: float = Field(description="Seconds of the bot's session audio when the bot saw it.")
    created_at: datetime

    @classmethod
    def of(cls, row: BotParticipantEventRow) -> "ParticipantEvent":
        return cls(kind=row.kind, participant_id=row.participant_id, name=row.name, time=row.time,
                   created_at=as_utc(row.created_at))


class Participant(BaseModel):
    id: str
    name: str | None = Field(description="The latest name the meeting showed.")
    joined_at: float | None = Field(description="Session time (s) of their first join the bot saw (null: there before it).")
    left_at: float | None = Field(description="Session time (s) they left (null: still in).")
    speech_s: float = Field(description="Seconds the meeting showed them speaking.")


async def _bot(services, bot_id: str) -> BotOut:
    row = await services.bots.get(bot_id)
    return BotOut.of(row, await services.bots.status_changes(bot_id))


@router.post("", status_code=201, response_model=BotCreated, summary="Send a bot into a meeting",
             responses=errors_doc(InvalidInput, UnsupportedUrl, UnsupportedLanguage, Conflict, TooMany, NotReady,
                                  means=_MEANS))
async def create_bot(services: ServicesDep, scope: ScopeDep, who: CallerDep, body: Annotated[BotCreate, Body()]
                     ) -> BotCreated:
    """It joins now (or at ``join_at``), asks to be let in, captions the call into its session
    and leaves by itself by ``automatic_leave``. ``422`` for a link that is no meeting this
    server can join, ``409`` for a second active bot on the meeting or key, ``429`` over
    ``max_concurrent_bots``, ``503`` when no browser can start. Each webhook's secret is in
    this reply only."""
    for hook in body.webhooks:  # before anything is made
        await services.guard.check(hook.url, "webhook endpoint")
    row, endpoints = await services.bots.create(
        scope=scope, meeting_url=body.meeting_url, bot_name=body.bot_name, title=body.title, language=body.language,
        targets=body.targets, join_at=body.join_at, automatic_leave=body.automatic_leave, metadata=body.metadata,
        deduplication_key=body.deduplication_key, webhooks=[w.model_dump() for w in body.webhooks],
    )
    await services.audit.record(who, "bot.send", row.id, platform=row.platform, meeting=row.meeting_id,
                                join_at=body.join_at.isoformat() if body.join_at else None)
    bot = await _bot(services, row.id)
    return BotCreated(**bot.model_dump(), webhooks=[
        WebhookOut(id=e.id, url=e.url, events=e.events, secret=e.secret) for e in endpoints
    ])


@router.get("", response_model=BotPage, summary="Bots, newest first")
async def list_bots(
    services: ServicesDep,
    scope: ScopeDep,
    status: Annotated[str | None, Query(max_length=400, description="Only these states, comma-separated.",
                                        examples=["joining,in_call_recording"])] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> BotPage:
    """A page of bots (``limit``, ``offset``), only those in the given states when ``status``
    is set, and how many match in all (``total``)."""
    states = [s.strip() for s in status.split(",") if s.strip()] if status else None
    unknown = sorted(set(states or ()) - {s.value for s in BotState})
    if unknown:
        shown = ", ".join(u[:40] for u in unknown[:3])
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "status"), "msg": (
            f"unknown state {shown}; states: {', '.join(s.value for s in BotState)}")}])
    rows, total = await services.bots.list(scope=scope, status=states, limit=limit, offset=offset)
    return BotPage(items=[BotOut.of(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{bot_id}", response_model=BotOut, summary="One bot, with every state it went through",
            responses=errors_doc(NotFound))
async def get_bot(bot_id: str, services: ServicesDep) -> BotOut:
    """Its state now and every move before it, each with its sub-code, message and source."""
    return await _bot(services, bot_id)


@router.post("/{bot_id}/leave", response_model=BotOut, summary="Make the bot leave its meeting",
             responses=errors_doc(NotFound, Conflict, means=_MEANS))
async def leave_bot(bot_id: str, services: ServicesDep, who: CallerDep) -> BotOut:
    """It leaves at once (``leaving``, then ``call_ended`` with ``bot_received_leave_call``,
    whatever else was happening); a scheduled bot is cancelled. ``409`` once it has ended."""
    await services.bots.leave(bot_id)
    await services.audit.record(who, "bot.leave", bot_id)
    return await _bot(services, bot_id)


@router.post("/{bot_id}/pause", response_model=BotOut, summary="Pause the bot's captions",
             responses=errors_doc(NotFound, Conflict, means=_PAUSE_MEANS))
async def pause_bot(bot_id: str, services: ServicesDep) -> BotOut:
    """The bot stays in the call (``paused``) and its session pauses with the finals of what
    it heard; nothing the call says meanwhile is transcribed or stored. ``409`` unless it is
    ``in_call_recording``."""
    await services.bots.pause(bot_id)
    return await _bot(services, bot_id)


@router.post("/{bot_id}/resume", response_model=BotOut, summary="Resume the bot's captions",
             responses=errors_doc(NotFound, Conflict, Overloaded, means=_PAUSE_MEANS))
async def resume_bot(bot_id: str, services: ServicesDep) -> BotOut:
    """Captions again from now on, in the same session (``in_call_recording``). ``409``
    unless it is ``paused``; ``503`` when the server has no room for another live session."""
    await services.bots.resume(bot_id)
    return await _bot(services, bot_id)


@router.delete("/{bot_id}", status_code=204, summary="Cancel a scheduled bot",
               responses=errors_doc(NotFound, Conflict, means=_MEANS))
async def cancel_bot(bot_id: str, services: ServicesDep, who: CallerDep) -> Response:
    """Only before it joins (``scheduled``); a bot on its way or in the call is made to leave
    instead (``409`` says so)."""
    await services.bots.cancel(bot_id)
    await services.audit.record(who, "bot.cancel", bot_id)
    return Response(status_code=204)


@router.get("/{bot_id}/participant-events", response_model=list[ParticipantEvent],
            summary="Who joined, left, began and stopped speaking", responses=errors_doc(NotFound))
async def participant_events(
    bot_id: str, services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000, offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[ParticipantEvent]:
    """In the order the bot saw them: ``join`` (a rename comes as a join with the new name),
    ``leave``, ``speech_on`` and ``speech_off`` (the meeting's speaking indicator)."""
    rows = await services.bots.participant_events(bot_id, limit=limit, offset=offset)
    return [ParticipantEvent.of(r) for r in rows]


@router.get("/{bot_id}/participants", response_model=list[Participant], summary="The people the bot saw",
            responses=errors_doc(NotFound))
async def participants(bot_id: str, services: ServicesDep) -> list[Participant]:
    """From its participant events: each person's latest name, when they joined and left, and
    how long the meeting showed them speaking."""
    people: dict[str, Participant] = {}
    speaking: dict[str, float] = {}
    for e in await services.bots.participant_events(bot_id, limit=10**9):
        p = people.setdefault(e.participant_id, Participant(id=e.participant_id, name=e.name, joined_at=None,
                                                            left_at=None, speech_s=0.0))
        p.name = e.name or p.name
        if e.kind == "join":
            p.joined_at = e.time if p.joined_at is None else p.joined_at
            p.left_at = None
        elif e.kind == "leave":
            p.left_at = e.time
        elif e.kind == "speech_on":
            speaking.setdefault(e.participant_id, e.time)
        elif e.kind == "speech_off" and e.participant_id in speaking:
            p.speech_s = round(p.speech_s + e.time - speaking.pop(e.participant_id), 3)
    return list(people.values())


@router.get("/{bot_id}/screenshots/{n}", summary="A screenshot the bot took (PNG)",
            responses={200: {"content": {"image/png": {}}}, **errors_doc(NotFound)})
async def screenshot(bot_id: str, n: int, services: ServicesDep) -> FileResponse:
    """Taken when a step failed (a button not found) and at each state in a call, numbered from 1."""
    row = await services.bots.get(bot_id)
    return FileResponse(services.bots.screenshot(row, n), media_type="image/png")
