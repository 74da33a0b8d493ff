"""Sessions over REST: create, list, read, change, delete; transcript exports (per language,
or bilingual) and the recorded audio."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from livetranslate.api.deps import CallerDep, ScopeDep, ServicesDep
from livetranslate.api.downloads import content_disposition, download_name, wav_response
from livetranslate.api.openapi import ErrorBody, errors_doc
from livetranslate.errors import Conflict, InvalidInput, NotFound, UnsupportedLanguage
from livetranslate.events import OneLine
from livetranslate.exports import MEDIA_TYPES, TranscriptSegment, render
from livetranslate.store import SessionRow
from livetranslate.store.models import as_utc
from livetranslate.store import crud
from livetranslate.translation import EngineName, Glossary
from livetranslate.translation.glossary import GlossaryInput
from livetranslate.translation.langid import LanguageCode

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])



class SessionCreate(BaseModel):
    title: OneLine | None = Field(None, max_length=300)
    language: LanguageCode | None = Field(
        "en",
        description="Spoken language (ISO 639-1, any case), or null to detect it (multilingual models). "
        "Omitted: the default set in Settings (GET /v1/settings), else the server's default_language.",
    )
    languages: list[LanguageCode] | None = Field(
        None, max_length=10,
        description="With language null: the languages this meeting speaks; detection chooses among them.",
    )
    targets: list[LanguageCode] = Field(
        default_factory=list, max_length=20,
        description="Languages to translate into (GET /v1/languages lists them); not the spoken language itself.",
    )
    translation_engine: EngineName | None = Field(None, description="Engine for this session; default from settings.")
    glossary: GlossaryInput | None = Field(None, description="Added to the server's default glossary for this session.")


class SessionPatch(BaseModel):
    """Fields to change; what is left out stays as it is."""

    model_config = {"extra": "forbid"}

    title: OneLine | None = Field(None, max_length=300)
    targets: list[LanguageCode] | None = Field(None, max_length=20)
    translation_engine: EngineName | None = None
    glossary: GlossaryInput | None = None


class SessionOut(BaseModel):
    id: str
    title: str | None
    language: str | None
    languages: list[str] | None
    targets: list[str]
    translation_engine: str | None
    glossary: Glossary | None
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    audio_seconds: float
    last_seq: int
    has_audio: bool

    @classmethod
    def of(cls, row: SessionRow) -> "SessionOut":
        return cls(
            id=row.id,
            title=row.title,
            language=row.language,
            languages=row.languages,
            targets=list(row.targets or []),
            translation_engine=row.translation_engine,
            glossary=Glossary.stored(row.glossary) if row.glossary else None,
            status=row.status.value,
            created_at=as_utc(row.created_at),
            started_at=as_utc(row.started_at),
            ended_at=as_utc(row.ended_at),
            audio_seconds=round(row.audio_seconds, 3),
            last_seq=row.last_seq,
            has_audio=bool(row.audio_path) and Path(row.audio_path).is_file(),
        )


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int


@router.post("", status_code=201, response_model=SessionOut, summary="Create a session",
             responses=errors_doc(InvalidInput, UnsupportedLanguage))
async def create_session(
    services: ServicesDep, scope: ScopeDep, body: Annotated[SessionCreate, Body()] = SessionCreate()
) -> SessionOut:
    """A conversation to stream audio into (the audio WebSocket, see the streaming protocol).
    What the body leaves out comes from the defaults (``GET /v1/settings``). ``422`` for a
    language or target this server cannot do, listing those it can."""
    defaults = await services.sessions.defaults(scope)  # the dashboard's Settings, for what the body leaves out
    given = body.model_fields_set
    glossary = defaults.glossary.merged(body.glossary) if defaults.glossary.terms or defaults.glossary.keep else body.glossary
    if glossary is not None and (problem := glossary.over_bounds()) is not None:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "glossary"), "msg": f"with the default glossary added: {problem}"}]
        )
    row = await services.sessions.create(
        scope=scope,
        title=body.title,
        language=body.language if "language" in given else defaults.language,
        targets=body.targets if "targets" in given else list(defaults.targets),
        translation_engine=body.translation_engine or defaults.translation_engine,
        glossary=glossary,
        languages=body.languages,
    )
    return SessionOut.of(row)


@router.patch("/{session_id}", response_model=SessionOut, summary="Change a session",
              responses=errors_doc(InvalidInput, NotFound, Conflict, UnsupportedLanguage))
async def update_session(session_id: str, services: ServicesDep, body: Annotated[SessionPatch, Body()]) -> SessionOut:
    """Title, targets, engine, glossary; also while live: the next segment is translated into the
    new targets. ``409`` for targets or glossary once the session has ended (the title may change)."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "targets" in changes and changes["targets"] is None:
        raise InvalidInput("targets: use [] to stop translating, not null")
    return SessionOut.of(await services.sessions.update(session_id, **changes))


@router.get("", response_model=SessionPage, summary="List sessions, newest first")
async def list_sessions(
    services: ServicesDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    q: Annotated[str | None, Query(max_length=200, description="Only sessions whose title or transcript contains this (any case).")] = None,
) -> SessionPage:
    """A page of the caller's sessions (``limit``, ``offset``) and how many match in all (``total``)."""
    rows, total = await services.sessions.list(scope=scope, limit=limit, offset=offset, q=q or None)
    return SessionPage(items=[SessionOut.of(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{session_id}", response_model=SessionOut, summary="One session", responses=errors_doc(NotFound))
async def get_session(session_id: str, services: ServicesDep) -> SessionOut:
    """Its settings, status (``created → live ⇄ paused → ended``) and how much audio it has heard."""
    return SessionOut.of(await services.sessions.get(session_id))


@router.delete("/{session_id}", status_code=204, summary="Delete a session", responses=errors_doc(NotFound, Conflict))
async def delete_session(session_id: str, services: ServicesDep, who: CallerDep) -> Response:
    """With its transcript, translations, speakers and recording, and the bot that captioned
    it (its moves, screenshots and webhook deliveries); a live audio socket is closed
    (``1001``). ``409`` while its bot is still in the meeting: make it leave first."""
    await services.sessions.get(session_id)
    bots = await services.bots.of_session(session_id)
    await services.sessions.delete(session_id)
    await services.audit.record(who, "session.delete", session_id)
    services.bots.forget_files(bots)
    return Response(status_code=204)


@router.post("/{session_id}/end", response_model=SessionOut, summary="End a session",
             responses=errors_doc(NotFound, Conflict))
async def end_session(session_id: str, services: ServicesDep) -> SessionOut:
    """End a session that is paused (or live: its audio sockets are finished as by ``stop``, then closed).
    ``409`` when it has already ended, or while a meeting bot is in its call (make the bot leave:
    that ends the session)."""
    await services.bots.of_session(session_id)
    return SessionOut.of(await services.sessions.end(session_id))


@router.get(
    "/{session_id}/transcript", summary="The transcript, in any of its languages",
    description="The final segments as JSON, SRT, WebVTT or text; with `lang`, in that translation; with "
    "`bilingual`, each caption as the original line then the translation. Files are named from the title and "
    "date. `404` for a language the session was never translated into.",
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}, **errors_doc(InvalidInput, NotFound)},
)
async def get_transcript(
    session_id: str,
    services: ServicesDep,
    format: Annotated[Literal["json", "srt", "vtt", "txt"], Query()] = "json",
    lang: Annotated[
        LanguageCode | None, Query(description="A target language: the transcript in translation (a segment not translated "
                          "into it is marked with its own language, e.g. `[de] …`, and in JSON has `translation: null` "
                          "and `translation_error`).")
    ] = None,
    bilingual: Annotated[bool, Query(description="With lang: each caption as the original line, then the translation.")] = False,
) -> Response:
    if bilingual and lang is None:
        raise InvalidInput("bilingual=true needs lang (the translation to show under each original line)")

    def load():
        with services.db.session() as db:
            row = crud.get_session(db, session_id=session_id)
            available = crud.translated_languages(db, session_id=session_id)
            translations = crud.translations(db, session_id=session_id, lang=lang) if lang else {}
            problems = crud.translation_problems(db, session_id=session_id, lang=lang) if lang else {}
            names = {sp.id: sp.name for sp in crud.speakers(db, session_id=session_id)}
            return row, crud.final_segments(db, session_id=session_id), available, translations, problems, names

    row, rows, available, translations, problems, names = await asyncio.to_thread(load)
    if lang is not None and lang not in available and lang not in (row.targets or []):
        raise NotFound(
            f"session {session_id!r} has no translation into {lang!r}; available: {available or 'none'}"
        )
    language_of = {r.id: r.language for r in rows}
    by_language = {language_of.get(seg_id): why for seg_id, why in problems.items()}  # warned once per pair
    segments = []
    for r in rows:
        seg = TranscriptSegment(
            id=r.id, start=r.start, end=r.end, text=r.text, language=r.language, speaker=r.speaker,
            speaker_name=names.get(r.speaker), words=r.words,
        )
        if lang is not None:
            _show_translation(seg, lang, translations.get(r.id), problems.get(r.id) or by_language.get(r.language))
        segments.append(seg)
    meta = SessionOut.of(row).model_dump(mode="json")
    body = render(segments, format, session=meta, lang=lang, bilingual=bilingual)
    suffix = (f".{lang}" if lang else "") + (".bilingual" if bilingual else "")
    disposition = content_disposition(download_name(row, f"{suffix}.{format}"), inline=format == "json")
    return Response(body, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})


def _show_translation(seg: TranscriptSegment, lang: str, row, problem: str | None) -> None:
    """The segment's translation into ``lang``; a segment spoken in ``lang`` is its own; else
    why there is none (the export then marks the line with its language)."""
    if row is not None:
        seg.translation, seg.translation_engine = row.text, row.engine
    elif seg.language == lang:
        seg.translation, seg.translation_engine = seg.text, "none"
    else:
        seg.translation_error = problem or f"not translated into {lang}"


@router.head("/{session_id}/audio", include_in_schema=False)
@router.get(
    "/{session_id}/audio",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/wav": {}}}, 206: {"description": "The byte range asked for (`Range: bytes=…`)."},
               416: {"model": ErrorBody, "description": "A range outside the file (`Content-Range: bytes */size`)."},
               **errors_doc(NotFound)},
    summary="The recording",
)
async def get_audio(session_id: str, request: Request, services: ServicesDep) -> Response:
    """The session's recording as 16 kHz mono WAV; byte ranges (``Range``) for seeking; HEAD for its size."""
    row = await services.sessions.get(session_id)
    if not row.audio_path or not Path(row.audio_path).is_file():
        raise NotFound(f"session {session_id!r} has no recorded audio (store_audio off, or no audio received)")
    return wav_response(
        Path(row.audio_path), request.headers.get("range"), head=request.method == "HEAD",
        disposition=content_disposition(download_name(row, ".wav")),
    )
