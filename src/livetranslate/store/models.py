"""The tables, one model each. The schema is owned by the Alembic migrations beside this file."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


DEFAULT_TENANT = "default"
"""Whose the data of a server that asks for no key is (and what was stored before tenants)."""


class Base(DeclarativeBase):
    pass


class SessionStatus(str, enum.Enum):
    """created → live ⇄ paused → ended (created and paused may also end directly)."""

    created = "created"
    live = "live"
    paused = "paused"
    ended = "ended"

    def can_become(self, new: "SessionStatus") -> bool:
        return new in _TRANSITIONS[self]


_TRANSITIONS = {
    SessionStatus.created: {SessionStatus.live, SessionStatus.ended},
    SessionStatus.live: {SessionStatus.paused, SessionStatus.ended},
    SessionStatus.paused: {SessionStatus.live, SessionStatus.ended},
    SessionStatus.ended: set(),
}


class SourceRow(Base):
    """A stream URL read into a session (``livetranslate.sources``)."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    track: Mapped[str] = mapped_column(String(64), default="")
    participant: Mapped[dict | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="connecting")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    """Whose it is: everything under a session (its segments, events, speakers, sources, bot) is too."""
    title: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(16))
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    """With ``language`` None: the languages detection chooses from (None: any)."""
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    translation_engine: Mapped[str | None] = mapped_column(String(32))
    glossary: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[SessionStatus] = mapped_column(
        Enum(SessionStatus, name="session_status", native_enum=False, length=16), default=SessionStatus.created
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    audio_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    audio_path: Mapped[str | None] = mapped_column(String(1000))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_sessions_created_at", "created_at"),
        Index("ix_sessions_tenant_created_at", "tenant_id", "created_at"),
    )


class SegmentRow(Base):
    """A final segment (drafts live only in the event log)."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    speaker: Mapped[str | None] = mapped_column(String(64))
    words: Mapped[list[dict]] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_segments_session_start", "session_id", "start"),)


class EventRow(Base):
    """The session's event log, replayed to clients that resume with ``after_seq``."""

    __tablename__ = "events"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TranslationRow(Base):
    """The final translation of a segment into one language."""

    __tablename__ = "translations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    segment_id: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(32))
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    seq: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("segment_id", "lang", name="uq_translations_segment_lang"),
        Index("ix_translations_session_lang", "session_id", "lang"),
    )


class SpeakerRow(Base):
    """A speaker of a session: a voice cluster, a participant, or both once evidence joins them."""

    __tablename__ = "speakers"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    """S1, S2, ... in order of appearance."""
    name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    """Evidence for the identity (events.SpeakerSource); ``cluster`` while unnamed."""
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    participant_id: Mapped[str | None] = mapped_column(String(128))
    voiceprint_id: Mapped[str | None] = mapped_column(String(32))
    merged_into: Mapped[str | None] = mapped_column(String(16))
    centroid: Mapped[list[float] | None] = mapped_column(JSON)
    """The voice cluster's mean embedding, kept so a resumed session knows the voice again."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TimelineEventRow(Base):
    """The meeting's own word on who spoke when (bounded per session: the oldest go first)."""

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    participant_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    time: Mapped[float] = mapped_column(Float)
    """Session media time as the meeting sent it (the timeline adds ``speaker_event_delay_s``)."""
    end: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    exact: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The time was measured on the audio (a bot's channels), not read off a lagging indicator."""

    __table_args__ = (Index("ix_timeline_events_session_time", "session_id", "time"),)


class VoiceprintRow(Base):
    """An enrolled voice: its embedding (never the audio)."""

    __tablename__ = "voiceprints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    """Only this tenant's sessions are named after it."""
    name: Mapped[str] = mapped_column(String(200))
    embedding: Mapped[list[float]] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
    """Seconds of speech enrolled (the embedding is their average)."""
    samples: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_voiceprints_tenant_name"),)


class DefaultsRow(Base):
    """The defaults for new sessions a tenant's people set from the dashboard (a row per tenant)."""

    __tablename__ = "defaults"

    tenant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    values: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BotRow(Base):
    """A meeting bot (``livetranslate.bots``): its meeting, its request, and its state now."""

    __tablename__ = "bots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[str] = mapped_column(String(200))
    meeting_url: Mapped[str] = mapped_column(Text)
    bot_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32))
    """bots.lifecycle.BotState."""
    sub_code: Mapped[str | None] = mapped_column(String(48))
    message: Mapped[str | None] = mapped_column(Text)
    status_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    leave_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    join_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    """What was asked: automatic_leave, language, targets."""
    user_metadata: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    deduplication_key: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    screenshots: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("ix_bots_meeting", "platform", "meeting_id"),
        Index("ix_bots_deduplication_key", "deduplication_key"),
        Index("ix_bots_created_at", "created_at"),
    )


class BotStatusChangeRow(Base):
    """One move of a bot's lifecycle, in order."""

    __tablename__ = "bot_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    old: Mapped[str | None] = mapped_column(String(32))
    new: Mapped[str] = mapped_column(String(32))
    sub_code: Mapped[str | None] = mapped_column(String(48))
    message: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    """bot, user, scheduler or reaper."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BotParticipantEventRow(Base):
    """What the bot saw of the meeting's people: join, leave, speech_on, speech_off."""

    __tablename__ = "bot_participant_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    participant_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    time: Mapped[float] = mapped_column(Float)
    """Session media time (s) when the bot saw it."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookEndpointRow(Base):
    """Where a bot's events are delivered (``livetranslate.webhooks``)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    """Event types it takes (empty: all)."""
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDeliveryRow(Base):
    """One event for one endpoint: the outbox, with its attempts."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """The ``webhook-id``: the same on every attempt."""
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[str] = mapped_column(String(32), index=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    """pending, delivered or dead (every attempt failed)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_at"),)


class TenantRow(Base):
    """Whose data a thing is: every API key belongs to one tenant."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    limits: Mapped[dict | None] = mapped_column(JSON)
    """Its own limits over the server's (:class:`livetranslate.quotas.TenantLimits`)."""


class ApiKeyRow(Base):
    """An API key, stored as the SHA-256 of the key (the key is shown once, when made): keys
    are 32 random bytes, so a fast hash is as safe as a slow one and costs nothing per request."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    """The key's first characters (``lt_AbC1…``), to tell keys apart in lists."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSessionRow(Base):
    """A dashboard sign-in: the browser holds a random cookie (HttpOnly), the store its SHA-256
    and the key it was made with (revoking the key ends it)."""

    __tablename__ = "web_sessions"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEventRow(Base):
    """Who changed what, and when: key create/revoke, session delete, speaker rename/merge,
    voiceprint enroll/delete, settings changes, bots sent and made to leave (:mod:`livetranslate.audit`)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_id_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(32))
    """The key that did it (None: an open server, or the CLI on the store)."""
    via: Mapped[str] = mapped_column(String(16))
    """``api`` (a key, a sign-in or a share token), ``open`` (a server asking for no key) or ``cli``."""
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
