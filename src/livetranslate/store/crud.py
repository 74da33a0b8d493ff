"""Persistence as small keyword-only functions over a SQLAlchemy session."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from livetranslate.errors import Conflict, NotFound
from livetranslate.events import SegmentEvent, SpeakerUpdateEvent, TranslationEvent
from livetranslate.store.models import (
    DefaultsRow,
    SourceRow,
    EventRow,
    SegmentRow,
    SessionRow,
    SessionStatus,
    SpeakerRow,
    TimelineEventRow,
    TranslationRow,
    VoiceprintRow,
    utcnow,
)


def create_session(
    db: Session,
    *,
    id: str,
    tenant: str,
    title: str | None,
    language: str | None,
    targets: list[str],
    audio_path: str | None,
    translation_engine: str | None = None,
    glossary: dict | None = None,
    languages: list[str] | None = None,
) -> SessionRow:
    row = SessionRow(
        id=id, tenant_id=tenant, title=title, language=language, targets=targets, audio_path=audio_path,
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


def get_session(db: Session, *, session_id: str, tenant: str | None = None) -> SessionRow:
    """The session; with ``tenant``, only if it is that tenant's (another's is not found, the
    same way as one that does not exist)."""
    row = db.get(SessionRow, session_id)
    if row is None or (tenant is not None and row.tenant_id != tenant):
        raise NotFound(f"session {session_id!r} does not exist")
    return row


def list_sessions(
    db: Session, *, tenant: str | None, limit: int, offset: int, q: str | None = None
) -> tuple[list[SessionRow], int]:
    """The tenant's (None: everyone's), newest first; ``q``: only sessions whose title or
    transcript contains it (any case)."""
    query = select(SessionRow)
    if tenant is not None:
        query = query.where(SessionRow.tenant_id == tenant)
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        spoken = select(SegmentRow.session_id).where(func.lower(SegmentRow.text).like(pattern, escape="\\"))
        query = query.where(
            func.lower(func.coalesce(SessionRow.title, "")).like(pattern, escape="\\") | SessionRow.id.in_(spoken)
        )
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(SessionRow.created_at.desc(), SessionRow.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def delete_session(db: Session, *, session_id: str) -> SessionRow:
    row = get_session(db, session_id=session_id)
    db.execute(delete(EventRow).where(EventRow.session_id == session_id))
    db.execute(delete(SegmentRow).where(SegmentRow.session_id == session_id))
    db.execute(delete(TranslationRow).where(TranslationRow.session_id == session_id))
    db.execute(delete(SpeakerRow).where(SpeakerRow.session_id == session_id))
    db.execute(delete(TimelineEventRow).where(TimelineEventRow.session_id == session_id))
    db.execute(delete(SourceRow).where(SourceRow.session_id == session_id))
    db.delete(row)
    return row


# --- sources


def create_source(db: Session, *, id: str, session_id: str, url: str, track: str, participant: dict | None) -> SourceRow:
    row = SourceRow(id=id, session_id=session_id, url=url, track=track, participant=participant, state="connecting")
    db.add(row)
    db.flush()
    return row


def get_source(db: Session, *, session_id: str, source_id: str) -> SourceRow:
    row = db.get(SourceRow, source_id)
    if row is None or row.session_id != session_id:
        get_session(db, session_id=session_id)  # an unknown session is said as such
        raise NotFound(f"session {session_id!r} has no source {source_id!r}")
    return row


def list_sources(db: Session, *, session_id: str) -> list[SourceRow]:
    return list(db.scalars(select(SourceRow).where(SourceRow.session_id == session_id).order_by(SourceRow.created_at)))


def set_source_state(db: Session, *, source_id: str, state: str, reason: str | None) -> None:
    row = db.get(SourceRow, source_id)
    if row is None:
        raise NotFound(f"no source {source_id!r}")
    row.state, row.reason, row.updated_at = state, reason, utcnow()


def delete_source(db: Session, *, source_id: str) -> None:
    db.execute(delete(SourceRow).where(SourceRow.id == source_id))


def fail_active_sources(db: Session, *, reason: str) -> int:
    """Sources a stopped process was reading: failed, with ``reason``."""
    rows = db.scalars(select(SourceRow).where(SourceRow.state.in_(("connecting", "live", "reconnecting")))).all()
    for row in rows:
        row.state, row.reason, row.updated_at = "failed", reason, utcnow()
    return len(rows)


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
        if event.speaker and db.get(SpeakerRow, (session_id, event.speaker)) is None:
            db.add(SpeakerRow(session_id=session_id, id=event.speaker, name=event.speaker_name,
                              source=event.speaker_source or "cluster"))
            db.flush()
    elif isinstance(event, SpeakerUpdateEvent):
        _apply_speaker_update(db, session_id, event)
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


def _apply_speaker_update(db: Session, session_id: str, event: SpeakerUpdateEvent) -> None:
    row = db.get(SpeakerRow, (session_id, event.speaker))
    if row is None:
        row = SpeakerRow(session_id=session_id, id=event.speaker, source=event.source)
        db.add(row)
    row.name, row.source, row.confidence = event.name, event.source, event.confidence
    row.participant_id, row.voiceprint_id = event.participant_id, event.voiceprint_id
    if event.segment_ids:
        db.execute(
            update(SegmentRow)
            .where(SegmentRow.session_id == session_id, SegmentRow.id.in_(event.segment_ids))
            .values(speaker=event.speaker)
        )
    if event.merged:
        db.execute(
            update(SegmentRow)
            .where(SegmentRow.session_id == session_id, SegmentRow.speaker.in_(event.merged))
            .values(speaker=event.speaker)
        )
        db.execute(
            update(SpeakerRow)
            .where(SpeakerRow.session_id == session_id, SpeakerRow.id.in_(event.merged))
            .values(merged_into=event.speaker)
        )
    db.flush()


def speakers(db: Session, *, session_id: str, merged: bool = False) -> list[SpeakerRow]:
    """The session's speakers in order of appearance (with ``merged``: also those merged away)."""
    q = select(SpeakerRow).where(SpeakerRow.session_id == session_id)
    if not merged:
        q = q.where(SpeakerRow.merged_into.is_(None))
    return sorted(db.scalars(q).all(), key=lambda r: int(r.id[1:]) if r.id[1:].isdigit() else 0)


def get_speaker(db: Session, *, session_id: str, speaker_id: str) -> SpeakerRow:
    row = db.get(SpeakerRow, (session_id, speaker_id))
    if row is None or row.merged_into is not None:
        merged = f" (merged into {row.merged_into})" if row is not None else ""
        raise NotFound(f"session {session_id!r} has no speaker {speaker_id!r}{merged}")
    return row


def speaker_stats(db: Session, *, session_id: str) -> dict[str, tuple[int, float]]:
    """Segments and seconds of speech per speaker."""
    rows = db.execute(
        select(SegmentRow.speaker, func.count(), func.sum(SegmentRow.end - SegmentRow.start))
        .where(SegmentRow.session_id == session_id)
        .group_by(SegmentRow.speaker)
    ).all()
    return {sp: (n, round(float(sec or 0), 3)) for sp, n, sec in rows if sp}


def save_centroids(db: Session, *, session_id: str, centroids: dict[str, list[float]]) -> None:
    for speaker_id, vector in centroids.items():
        row = db.get(SpeakerRow, (session_id, speaker_id))
        if row is not None:
            row.centroid = vector


def add_timeline_events(db: Session, *, session_id: str, events: list[dict], keep: int) -> None:
    """Store meeting events as sent; only the newest ``keep`` per session stay."""
    db.add_all(TimelineEventRow(session_id=session_id, **e) for e in events)
    db.flush()
    cutoff = db.scalar(
        select(TimelineEventRow.id)
        .where(TimelineEventRow.session_id == session_id)
        .order_by(TimelineEventRow.id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is not None:
        db.execute(
            delete(TimelineEventRow).where(TimelineEventRow.session_id == session_id, TimelineEventRow.id <= cutoff)
        )


def timeline_events(db: Session, *, session_id: str) -> list[TimelineEventRow]:
    return list(
        db.scalars(
            select(TimelineEventRow).where(TimelineEventRow.session_id == session_id).order_by(TimelineEventRow.id)
        ).all()
    )


def create_voiceprint(
    db: Session, *, id: str, tenant: str, name: str, embedding: list[float], seconds: float
) -> VoiceprintRow:
    if db.scalar(select(VoiceprintRow).where(VoiceprintRow.tenant_id == tenant, VoiceprintRow.name == name)) is not None:
        raise Conflict(f"a voiceprint named {name!r} exists; add samples to it with POST /v1/voiceprints/{{id}}/samples")
    row = VoiceprintRow(id=id, tenant_id=tenant, name=name, embedding=embedding, seconds=seconds)
    db.add(row)
    db.flush()
    return row


def add_voiceprint_sample(db: Session, *, voiceprint_id: str, embedding: list[float], seconds: float) -> VoiceprintRow:
    """One more sample of an enrolled voice: the embedding becomes the speech-weighted mean."""
    row = get_voiceprint(db, voiceprint_id=voiceprint_id)
    total = [a * row.seconds + b * seconds for a, b in zip(row.embedding, embedding)]
    norm = sum(x * x for x in total) ** 0.5 or 1.0
    row.embedding = [round(x / norm, 6) for x in total]
    row.seconds += seconds
    row.samples += 1
    row.updated_at = utcnow()
    db.flush()
    return row


def get_voiceprint(
    db: Session, *, voiceprint_id: str | None = None, name: str | None = None, tenant: str | None = None
) -> VoiceprintRow:
    """By id, or by ``name`` within ``tenant``; with ``tenant``, only that tenant's."""
    if voiceprint_id is not None:
        row = db.get(VoiceprintRow, voiceprint_id)
    else:
        row = db.scalar(select(VoiceprintRow).where(VoiceprintRow.tenant_id == tenant, VoiceprintRow.name == name))
    if row is None or (tenant is not None and row.tenant_id != tenant):
        raise NotFound(f"no voiceprint {voiceprint_id or name!r}")
    return row


def list_voiceprints(db: Session, *, tenant: str | None) -> list[VoiceprintRow]:
    """The tenant's (None: every tenant's, as the server loads them)."""
    query = select(VoiceprintRow) if tenant is None else select(VoiceprintRow).where(VoiceprintRow.tenant_id == tenant)
    return list(db.scalars(query.order_by(VoiceprintRow.name)).all())


def delete_voiceprint(db: Session, *, voiceprint_id: str) -> None:
    db.delete(get_voiceprint(db, voiceprint_id=voiceprint_id))


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


def translation_problems(db: Session, *, session_id: str, lang: str) -> dict[str, str]:
    """Why segments have no translation into ``lang``: the message of the last warning about
    each (``translation_failed``, ``unsupported_pair``), by segment id."""
    rows = db.scalars(
        select(EventRow.payload).where(EventRow.session_id == session_id, EventRow.type == "warning").order_by(EventRow.seq)
    ).all()
    out: dict[str, str] = {}
    for payload in rows:
        event = json.loads(payload)
        if event.get("lang") == lang and event.get("segment_id") and event.get("code") != "translation_fallback":
            out[event["segment_id"]] = event["message"]
    return out


def translated_languages(db: Session, *, session_id: str) -> list[str]:
    rows = db.scalars(select(TranslationRow.lang).where(TranslationRow.session_id == session_id).distinct()).all()
    return sorted(rows)


def transcribed_until(db: Session, *, session_id: str) -> float:
    """The end (s) of the session's last stored final: its audio is transcribed up to here."""
    return float(db.scalar(select(func.max(SegmentRow.end)).where(SegmentRow.session_id == session_id)) or 0.0)


def interrupted_sessions(db: Session) -> list[SessionRow]:
    """Sessions left ``live`` by a process that stopped without finishing them."""
    return list(db.scalars(select(SessionRow).where(SessionRow.status == SessionStatus.live)).all())


def get_defaults(db: Session, *, tenant: str) -> dict:
    row = db.get(DefaultsRow, tenant)
    return dict(row.values) if row is not None else {}


def put_defaults(db: Session, *, tenant: str, values: dict) -> None:
    row = db.get(DefaultsRow, tenant)
    if row is None:
        db.add(DefaultsRow(tenant_id=tenant, values=values))
    else:
        row.values, row.updated_at = values, utcnow()
