"""Persistence as small keyword-only functions over a SQLAlchemy session."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from livetranslate.errors import Conflict, NotFound
from livetranslate.events import SegmentEvent, TranslationEvent
from livetranslate.store.models import EventRow, SegmentRow, SessionRow, SessionStatus, TranslationRow, utcnow


def create_session(
    db: Session,
    *,
    id: str,
    title: str | None,
    language: str | None,
    targets: list[str],
    audio_path: str | None,
    translation_engine: str | None = None,
    glossary: dict | None = None,
    languages: list[str] | None = None,
) -> SessionRow:
    row = SessionRow(
        id=id, title=title, language=language, targets=targets, audio_path=audio_path,
        translation_engine=translation_engine, glossary=glossary, languages=languages,
    )
    db.add(row)
    db.flush()
    return row


_UNSET = object()


def update_session(
    db: Session, *, session_id: str, title=_UNSET, targets=_UNSET, translation_engine=_UNSET, glossary=_UNSET
) -> SessionRow:
    """Change what a session may change while it runs (what was not passed stays)."""
    row = get_session(db, session_id=session_id)
    if row.status is SessionStatus.ended and (targets is not _UNSET or glossary is not _UNSET):
        raise Conflict(f"session {session_id!r} has ended; its targets and glossary no longer change")
    for name, value in (
        ("title", title), ("targets", targets), ("translation_engine", translation_engine), ("glossary", glossary)
    ):
        if value is not _UNSET:
            setattr(row, name, value)
    db.flush()
    return row


def get_session(db: Session, *, session_id: str) -> SessionRow:
    row = db.get(SessionRow, session_id)
    if row is None:
        raise NotFound(f"session {session_id!r} does not exist")
    return row


def list_sessions(db: Session, *, limit: int, offset: int) -> tuple[list[SessionRow], int]:
    total = db.scalar(select(func.count()).select_from(SessionRow)) or 0
    rows = db.scalars(
        select(SessionRow).order_by(SessionRow.created_at.desc(), SessionRow.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def delete_session(db: Session, *, session_id: str) -> SessionRow:
    row = get_session(db, session_id=session_id)
    db.execute(delete(EventRow).where(EventRow.session_id == session_id))
    db.execute(delete(SegmentRow).where(SegmentRow.session_id == session_id))
    db.execute(delete(TranslationRow).where(TranslationRow.session_id == session_id))
    db.delete(row)
    return row


def set_status(
    db: Session, *, session_id: str, status: SessionStatus, audio_seconds: float | None = None
) -> SessionRow:
    row = get_session(db, session_id=session_id)
    if row.status != status:
        if not row.status.can_become(status):
            raise Conflict(f"session {session_id!r} is {row.status.value}; it cannot become {status.value}")
        row.status = status
        if status is SessionStatus.live and row.started_at is None:
            row.started_at = utcnow()
        if status is SessionStatus.ended:
            row.ended_at = utcnow()
    if audio_seconds is not None:
        row.audio_seconds = audio_seconds
    return row


def append_event(db: Session, *, session_id: str, event) -> int:
    """Store a session event under the next seq (assigned atomically by the database)."""
    seq = db.scalar(
        update(SessionRow)
        .where(SessionRow.id == session_id)
        .values(last_seq=SessionRow.last_seq + 1)
        .returning(SessionRow.last_seq)
    )
    if seq is None:
        raise NotFound(f"session {session_id!r} does not exist")
    event.seq = seq
    db.add(EventRow(session_id=session_id, seq=seq, type=event.type, payload=event.to_json()))
    if isinstance(event, SegmentEvent) and event.status == "final" and event.text:
        db.add(
            SegmentRow(
                id=event.segment_id,
                session_id=session_id,
                seq=seq,
                start=event.start,
                end=event.end,
                text=event.text,
                language=event.language,
                speaker=event.speaker,
                words=[w.model_dump() for w in event.words],
            )
        )
    elif isinstance(event, TranslationEvent) and event.status == "final":
        db.execute(
            delete(TranslationRow).where(TranslationRow.segment_id == event.segment_id, TranslationRow.lang == event.lang)
        )
        if event.text:
            db.add(
                TranslationRow(
                    session_id=session_id, segment_id=event.segment_id, lang=event.lang, text=event.text,
                    engine=event.engine, latency_ms=event.latency_ms, seq=seq,
                )
            )
    return seq


def events_after(db: Session, *, session_id: str, after_seq: int, limit: int = 1000) -> list[tuple[int, str]]:
    rows = db.execute(
        select(EventRow.seq, EventRow.payload)
        .where(EventRow.session_id == session_id, EventRow.seq > after_seq)
        .order_by(EventRow.seq)
        .limit(limit)
    ).all()
    return [(seq, payload) for seq, payload in rows]


def final_segments(db: Session, *, session_id: str) -> list[SegmentRow]:
    return list(
        db.scalars(select(SegmentRow).where(SegmentRow.session_id == session_id).order_by(SegmentRow.start)).all()
    )


def translations(db: Session, *, session_id: str, lang: str) -> dict[str, TranslationRow]:
    """The final translations of a session into ``lang``, by segment id."""
    rows = db.scalars(
        select(TranslationRow).where(TranslationRow.session_id == session_id, TranslationRow.lang == lang)
    ).all()
    return {r.segment_id: r for r in rows}


def translated_languages(db: Session, *, session_id: str) -> list[str]:
    rows = db.scalars(select(TranslationRow.lang).where(TranslationRow.session_id == session_id).distinct()).all()
    return sorted(rows)


def interrupted_sessions(db: Session) -> list[SessionRow]:
    """Sessions left ``live`` by a process that stopped without finishing them."""
    return list(db.scalars(select(SessionRow).where(SessionRow.status == SessionStatus.live)).all())
