"""Every message on the data path and on the wire, defined once.

*Session events* (``segment``, ``translation``, ``speaker.update``, ``warning``,
``session.status``, ``source.status``, ``bot.status``, ``session.ended``) carry a per-session,
gap-free ``seq``; they are stored in the event log and can be replayed. *Connection
messages* (``ready``, ``input``, ``error``) belong to one socket, carry no ``seq`` and are not stored.
*Client messages* (``start``, ``speakers``, ``stop``) are what a client sends on the audio socket.
*Session commands* (``retarget``, ``speaker``, ``timeline``, ``stop``, ``delete``) go through the bus to
whoever runs a live session; they are not stored.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from livetranslate.errors import InvalidInput

AUDIO_FORMATS = ("pcm_s16le", "pcm_f32le", "wav", "webm", "ogg", "mp3", "mp4", "flac", "auto")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must be one line of text: no line breaks, tabs, NUL or other control characters")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
"""Names and titles: text without control characters (NUL, line breaks), which no store,
caption line or export has to guard against."""


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


SpeakerSource = Literal["track", "meeting", "voiceprint", "cluster", "user"]
"""Where a speaker's identity comes from, strongest first: the participant's own audio track,
the meeting's active-speaker events or named captions, an enrolled voiceprint, a voice
cluster alone (no name), or a person who renamed it."""


class SegmentEvent(_Message):
    """A caption. Drafts of one utterance share ``segment_id`` and replace each other;
    at least one ``final`` follows: an utterance in which the speaker changes ends as one
    final per speaker turn (the first keeps the drafts' ``segment_id``). Times are seconds of
    audio from the session start."""

    type: Literal["segment"] = "segment"
    seq: int = 0
    segment_id: str
    status: Literal["draft", "final"]
    text: str
    start: float
    end: float
    language: str | None
    speaker: str | None = Field(None, description="Stable id within the session (S1, S2, ...); finals only.")
    speaker_name: str | None = Field(None, description="A name only where evidence names the speaker.")
    speaker_source: SpeakerSource | None = None
    words: list[Word] = Field(default_factory=list)


class SpeakerUpdateEvent(_Message):
    """Attribution changed after the fact: ``speaker`` is now called ``name`` (null: no name)
    on the strength of ``source``; the segments in ``segment_ids`` (earlier finals) now belong
    to it; the speakers in ``merged`` were merged into it and no longer exist. Clients apply it
    to every segment of ``speaker`` they show."""

    type: Literal["speaker.update"] = "speaker.update"
    seq: int = 0
    speaker: str
    name: str | None
    source: SpeakerSource
    confidence: float = 1.0
    participant_id: str | None = Field(None, description="The meeting participant this speaker is.")
    voiceprint_id: str | None = Field(None, description="The enrolled voiceprint that named this speaker.")
    segment_ids: list[str] = Field(default_factory=list)
    merged: list[str] = Field(default_factory=list)


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
    """Something degraded, said rather than hidden: the LLM engine failed and the offline engine
    translated instead, no engine translates a detected language pair, a segment's
    translation failed, or a final could not be transcribed (``asr_failed``: its caption is
    missing)."""

    type: Literal["warning"] = "warning"
    seq: int = 0
    code: str
    message: str
    segment_id: str | None = None
    lang: str | None = None
    engine: str | None = None
    start: float | None = Field(None, description="Session time the warning is about (``asr_failed``: the lost final's span).")
    end: float | None = None


class SessionStatusEvent(_Message):
    """The session's audio went live (a socket started) or paused (the socket went away)."""

    type: Literal["session.status"] = "session.status"
    seq: int = 0
    status: Literal["live", "paused"]
    audio_seconds: float = 0.0


SourceState = Literal["connecting", "live", "reconnecting", "ended", "failed"]


class SourceStatusEvent(_Message):
    """A stream URL the server reads into the session changed state: ``connecting``, ``live``
    (audio arriving), ``reconnecting`` (it dropped or stalled: the session pauses until it is
    back), ``ended`` (the stream is over, or it was removed), ``failed`` (``reason`` says why)."""

    type: Literal["source.status"] = "source.status"
    seq: int = 0
    source_id: str
    url: str
    track: str = ""
    state: SourceState
    reason: str | None = None


class BotStatusEvent(_Message):
    """A meeting bot feeding this session changed state (``livetranslate.bots.lifecycle``):
    ``joining``, ``in_waiting_room``, ``in_call_recording``, ... ``call_ended`` and ``fatal``
    with a ``sub_code`` saying why. ``source``: who moved it (the bot, a user, the scheduler,
    the reaper)."""

    type: Literal["bot.status"] = "bot.status"
    seq: int = 0
    bot_id: str
    old: str | None
    new: str
    sub_code: str | None = None
    message: str | None = None
    source: Literal["bot", "user", "scheduler", "reaper"]
    created_at: datetime


class SessionEndedEvent(_Message):
    type: Literal["session.ended"] = "session.ended"
    seq: int = 0
    reason: str = "stopped"
    audio_seconds: float = 0.0


SessionEvent = Annotated[
    Union[
        SegmentEvent, TranslationEvent, SpeakerUpdateEvent, WarningEvent, SessionStatusEvent, SourceStatusEvent,
        BotStatusEvent, SessionEndedEvent,
    ],
    Field(discriminator="type"),
]
_session_event = TypeAdapter(SessionEvent)


SessionEventT = (
    SegmentEvent | TranslationEvent | SpeakerUpdateEvent | WarningEvent | SessionStatusEvent | SourceStatusEvent
    | BotStatusEvent | SessionEndedEvent
)


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
    sample_rate: int = Field(description="The rate the server decodes and resamples to (16000): session times, recording.")
    channels: int = Field(1, description="The channels it decodes to (1: channels are averaged).")
    input_sample_rate: int | None = Field(
        description="The client's own rate: as announced for raw PCM; null for a container until its header is read "
        "(an ``input`` message then says it)."
    )
    input_channels: int | None = Field(description="The client's own channel count, like ``input_sample_rate``.")
    audio_offset: float = Field(0.0, description="Session time (s) at which this socket's audio begins.")


class InputMessage(_Message):
    """Sent on the audio socket once a container's header has been read: what the stream is."""

    type: Literal["input"] = "input"
    format: str
    sample_rate: int
    channels: int


class ErrorMessage(_Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    close_code: int | None = None
    retry_after: float | None = Field(None, description="Over a limit (`rate_limited`): seconds until it may be tried again.")


# --- client messages (audio socket) ---------------------------------------------------


class Participant(_Message):
    id: OneLine = Field(min_length=1, max_length=128, description="The meeting's id for the participant.")
    name: OneLine | None = Field(None, min_length=1, max_length=200)


class StartMessage(_Message):
    type: Literal["start"]
    format: Literal[AUDIO_FORMATS] = "pcm_s16le"  # type: ignore[valid-type]
    sample_rate: int | None = Field(None, ge=1000, le=384000, strict=True, description="Required for raw PCM formats.")
    channels: int = Field(1, ge=1, le=8, strict=True)
    track: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="One of several audio tracks of the session (each on its own socket).",
    )
    participant: Participant | None = Field(None, description="Who this track is: its segments are theirs.")
    events: Literal["all", "none"] = Field(
        "all", description="`none`: a sender that reads nothing back (only `ready`, errors and the close come); "
        "read the captions from the events socket instead.",
    )

    @property
    def track_key(self) -> str:
        """The track this socket feeds: named, the participant's, or "" (the session's only track)."""
        return self.track or (self.participant.id if self.participant else "")


class SpeakerTimelineEvent(_Message):
    """What the meeting says about who speaks: ``on``/``off`` (active-speaker indicator at
    ``time``), or ``caption`` (a line of the meeting's own captions, ``time`` to ``end``).
    Times are session media time (seconds of audio from the session start), before the
    session's ``delay_s`` correction."""

    kind: Literal["on", "off", "caption"]
    participant: Participant
    time: float = Field(ge=0)
    end: float | None = Field(None, ge=0, description="caption: when the line ends.")
    text: str | None = Field(None, max_length=2000)
    exact: bool = Field(False, description="The time is when the voice began or ended, measured on the audio (as a "
                        "meeting bot does on its channels), not when a lagging indicator changed: the speakers stage "
                        "then trusts a short turn it names.")

    @model_validator(mode="after")
    def _caption_span(self) -> "SpeakerTimelineEvent":
        if self.kind == "caption" and (self.end is None or self.end < self.time):
            raise ValueError("a caption needs end >= time")
        if self.kind != "caption" and (self.end is not None or self.text is not None):
            raise ValueError(f"{self.kind!r} events have only a time (end and text belong to captions)")
        return self


class SpeakersMessage(_Message):
    """Meeting timeline events sent on the audio socket (same body as
    ``POST /v1/sessions/{id}/speaker-events``)."""

    type: Literal["speakers"]
    events: list[SpeakerTimelineEvent] = Field(min_length=1, max_length=1000)


class StopMessage(_Message):
    type: Literal["stop"]


ClientMessage = Annotated[Union[StartMessage, SpeakersMessage, StopMessage], Field(discriminator="type")]
_client_message = TypeAdapter(ClientMessage)


def parse_client_message(text: str) -> StartMessage | SpeakersMessage | StopMessage:
    """Parse a client text frame; raise :class:`InvalidInput` saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"text frame is not valid JSON: {e.msg} at position {e.pos}") from e
    except RecursionError as e:
        raise InvalidInput("text frame is nested too deeply to be a message") from e
    if not isinstance(data, dict) or "type" not in data:
        raise InvalidInput('text frame must be a JSON object with a "type": one of "start", "speakers", "stop"')
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


# --- session commands (to whoever runs the live session; not stored) -------------------


class RetargetCommand(_Message):
    """The session's translation settings changed (already stored): the next segments follow."""

    type: Literal["retarget"] = "retarget"
    targets: list[str]
    translation_engine: str | None = None
    glossary: dict | None = None
    """The session's own glossary (the server's is merged in by the owner)."""


class SpeakerCommand(_Message):
    """A speaker was renamed or merged through the API (already stored and published)."""

    type: Literal["speaker"] = "speaker"
    update: SpeakerUpdateEvent


class TimelineCommand(_Message):
    """Meeting timeline events for the live session (the owner checks them against its audio)."""

    type: Literal["timeline"] = "timeline"
    events: list[SpeakerTimelineEvent]


class StopCommand(_Message):
    """End the session: its tracks stop as if their sources had sent ``stop``."""

    type: Literal["stop"] = "stop"
    reason: str = "ended"


class DeleteCommand(_Message):
    """The session is being deleted: drop its live audio, publish nothing more."""

    type: Literal["delete"] = "delete"


SessionCommand = Annotated[
    Union[RetargetCommand, SpeakerCommand, TimelineCommand, StopCommand, DeleteCommand],
    Field(discriminator="type"),
]
