"""Every message on the data path and on the wire, defined once.

*Session events* (``segment``, ``translation``, ``warning``, ``session.status``,
``session.ended``) carry a per-session,
gap-free ``seq``; they are stored in the event log and can be replayed. *Connection
messages* (``ready``, ``error``) belong to one socket, carry no ``seq`` and are not stored.
*Client messages* (``start``, ``stop``) are what a client sends on the audio socket.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from livetranslate.errors import InvalidInput

AUDIO_FORMATS = ("pcm_s16le", "pcm_f32le", "wav", "webm", "ogg", "mp3", "mp4", "flac", "auto")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> str:
        return self.model_dump_json()


# --- session events (stored, replayable) ---------------------------------------------


class Word(BaseModel):
    word: str
    start: float
    end: float
    probability: float


class SegmentEvent(_Message):
    """A caption. Drafts of one utterance share ``segment_id`` and replace each other;
    exactly one ``final`` follows. Times are seconds of audio from the session start."""

    type: Literal["segment"] = "segment"
    seq: int = 0
    segment_id: str
    status: Literal["draft", "final"]
    text: str
    start: float
    end: float
    language: str | None
    speaker: str | None = None
    words: list[Word] = Field(default_factory=list)


class TranslationEvent(_Message):
    """A segment's text in one target language. Like segments, a draft (provisional, from
    the segment's draft) is replaced by the one final translation of the same
    ``segment_id`` and ``lang``."""

    type: Literal["translation"] = "translation"
    seq: int = 0
    segment_id: str
    lang: str
    text: str
    status: Literal["draft", "final"]
    engine: str
    source_language: str
    latency_ms: float = Field(0.0, description="Time the engine took for this translation.")


class WarningEvent(_Message):
    """Something degraded but nothing was lost: e.g. the LLM engine failed and the offline
    engine translated instead, or no engine translates a detected language pair."""

    type: Literal["warning"] = "warning"
    seq: int = 0
    code: str
    message: str
    segment_id: str | None = None
    lang: str | None = None
    engine: str | None = None


class SessionStatusEvent(_Message):
    """The session's audio went live (a socket started) or paused (the socket went away)."""

    type: Literal["session.status"] = "session.status"
    seq: int = 0
    status: Literal["live", "paused"]
    audio_seconds: float = 0.0


class SessionEndedEvent(_Message):
    type: Literal["session.ended"] = "session.ended"
    seq: int = 0
    reason: str = "stopped"
    audio_seconds: float = 0.0


SessionEvent = Annotated[
    Union[SegmentEvent, TranslationEvent, WarningEvent, SessionStatusEvent, SessionEndedEvent],
    Field(discriminator="type"),
]
_session_event = TypeAdapter(SessionEvent)


SessionEventT = SegmentEvent | TranslationEvent | WarningEvent | SessionStatusEvent | SessionEndedEvent


def parse_session_event(data: str | bytes | dict) -> SessionEventT:
    if isinstance(data, dict):
        return _session_event.validate_python(data)
    return _session_event.validate_json(data)


# --- connection messages (one socket, not stored) ---------------------------------------


class ReadyMessage(_Message):
    """Sent on the audio socket once ``start`` is accepted."""

    type: Literal["ready"] = "ready"
    session_id: str
    format: str
    sample_rate: int
    channels: int
    audio_offset: float = Field(0.0, description="Session time (s) at which this socket's audio begins.")


class ErrorMessage(_Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    close_code: int | None = None


# --- client messages (audio socket) ---------------------------------------------------


class StartMessage(_Message):
    type: Literal["start"]
    format: Literal[AUDIO_FORMATS] = "pcm_s16le"  # type: ignore[valid-type]
    sample_rate: int | None = Field(None, ge=1000, le=384000, description="Required for raw PCM formats.")
    channels: int = Field(1, ge=1, le=8)


class StopMessage(_Message):
    type: Literal["stop"]


ClientMessage = Annotated[Union[StartMessage, StopMessage], Field(discriminator="type")]
_client_message = TypeAdapter(ClientMessage)


def parse_client_message(text: str) -> StartMessage | StopMessage:
    """Parse a client text frame; raise :class:`InvalidInput` saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"text frame is not valid JSON: {e.msg} at position {e.pos}") from e
    if not isinstance(data, dict) or "type" not in data:
        raise InvalidInput('text frame must be a JSON object with a "type": one of "start", "stop"')
    try:
        msg = _client_message.validate_python(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'type'}: {err['msg']}" for err in e.errors()
        )
        raise InvalidInput(f"invalid {data.get('type')!r} message: {problems}") from e
    if isinstance(msg, StartMessage) and msg.format.startswith("pcm_") and msg.sample_rate is None:
        raise InvalidInput(f"format {msg.format!r} needs sample_rate")
    return msg
