"""Prometheus metrics, defined once (served at ``/metrics``)."""

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

AUDIO_SECONDS = Counter("livetranslate_audio_seconds_received", "Seconds of audio received (after decoding).")
SEGMENTS = Counter("livetranslate_segments", "Segment events published.", ["status"])
HALLUCINATIONS = Counter("livetranslate_rejected_segments", "Decodes dropped by the hallucination guard.", ["reason"])
FINAL_LATENCY = Histogram(
    "livetranslate_final_latency_seconds",
    "From the arrival of the end of an utterance's speech to its final being published.",
    buckets=_LATENCY_BUCKETS,
)
DRAFT_LATENCY = Histogram(
    "livetranslate_draft_latency_seconds",
    "From the arrival of the newest audio in a draft to the draft being published.",
    buckets=_LATENCY_BUCKETS,
)
ASR_DECODE_SECONDS = Histogram(
    "livetranslate_asr_decode_seconds", "Time spent in one Whisper decode.", ["kind"], buckets=_LATENCY_BUCKETS
)
AUDIO_DECODE_SECONDS = Histogram(
    "livetranslate_audio_decode_seconds",
    "Time to decode, resample and VAD one received audio frame.",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
)
ASR_WAIT_SECONDS = Histogram(
    "livetranslate_asr_wait_seconds", "Time a decode waited for a worker.", ["kind"], buckets=_LATENCY_BUCKETS
)
VOICE_WAIT_SECONDS = Histogram(
    "livetranslate_voice_wait_seconds",
    "Time a final waited for its voice windows after Whisper had decoded it.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
)
ASR_BATCH = Histogram(
    "livetranslate_asr_batch_size", "Utterances decoded together in one batch.", buckets=(1, 2, 3, 4, 6, 8, 12, 16)
)
ASR_SKIPPED = Counter(
    "livetranslate_asr_skipped", "Decodes skipped because they could not start in time (stale drafts).", ["kind"]
)
ASR_QUEUE = Gauge("livetranslate_asr_queue_depth", "Decodes waiting for a worker.")
ASR_FAILURES = Counter("livetranslate_asr_failures", "Finals whose decode raised (a warning event says which).")
ACTIVE_SESSIONS = Gauge("livetranslate_active_sessions", "Sessions with live audio.")
CONNECTIONS = Gauge("livetranslate_websocket_connections", "Open WebSocket connections.", ["kind"])
ERRORS = Counter("livetranslate_client_errors", "Bad input rejected, by error code.", ["code"])
TRANSLATIONS = Counter("livetranslate_translations", "Translation events published.", ["engine", "status"])
TRANSLATION_SECONDS = Histogram(
    "livetranslate_translation_seconds",
    "Time one engine took to translate one segment into one language.",
    ["engine"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)
TRANSLATION_FAILURES = Counter(
    "livetranslate_translation_failures", "Translations an engine failed (then fell back or were skipped).", ["engine"]
)
SPEAKER_SECONDS = Histogram(
    "livetranslate_speaker_attribution_seconds",
    "Time the speakers stage took for one final (clustering and matching; the voice windows are embedded "
    "while Whisper decodes).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
)
BOTS = Gauge("livetranslate_bots", "Meeting bots with a running worker.")
BOT_MOVES = Counter("livetranslate_bot_moves", "Bot lifecycle moves, by the state reached.", ["state"])
WEBHOOKS = Counter("livetranslate_webhook_attempts", "Webhook delivery attempts, by outcome.", ["outcome"])
