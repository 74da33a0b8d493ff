"""Which language a track's next utterance is decoded in.

A live track decodes in the session's language, or detects it utterance by utterance, leaning
on the last final's language when detection is unsure (:class:`TrackLanguage`). A whole file
decodes like OpenAI's and Whisper's own transcription: its language is detected once, from its
first :data:`DETECT_SPEECH_S` of speech, and the rest is decoded in it (:class:`FileLanguage`).
"""

from __future__ import annotations

from dataclasses import replace

from livetranslate.asr.whisper import DecodeOptions

DETECT_SPEECH_S = 8.0
"""Speech a file's language is detected from (the language heard longest over its first utterances)."""


class TrackLanguage:
    """Per utterance: the asked language, or detection leaning on the last final's language."""

    def __init__(self) -> None:
        self.last: str | None = None

    @property
    def settled(self) -> bool:
        """Whether the next utterances may be decoded before the earlier ones are heard."""
        return True

    def options(self, base: DecodeOptions) -> DecodeOptions:
        if base.language is None and self.last is not None:
            return replace(base, prior=self.last)
        return base

    def heard(self, language: str | None, seconds: float) -> None:
        """A final was decoded in ``language`` (its speech lasted ``seconds``)."""
        self.last = language or self.last

    @property
    def decided(self) -> str | None:
        """The language, as far as it is known (None: nothing heard yet)."""
        return self.last


class FileLanguage(TrackLanguage):
    """Detected once: the language heard longest over the first ``DETECT_SPEECH_S`` of speech;
    every utterance after that is decoded in it (English on the fast English model)."""

    def __init__(self) -> None:
        super().__init__()
        self.heard_s: dict[str, float] = {}
        self.chosen: str | None = None

    @property
    def settled(self) -> bool:
        return self.chosen is not None  # until then one utterance at a time, so the choice applies to the rest

    def options(self, base: DecodeOptions) -> DecodeOptions:
        return replace(base, language=self.chosen) if self.chosen is not None else base

    def heard(self, language: str | None, seconds: float) -> None:
        if self.chosen is not None or not language:
            return
        self.heard_s[language] = self.heard_s.get(language, 0.0) + seconds
        if sum(self.heard_s.values()) >= DETECT_SPEECH_S:
            self.chosen = self.decided

    @property
    def decided(self) -> str | None:
        if self.chosen is not None:
            return self.chosen
        return max(self.heard_s, key=self.heard_s.get) if self.heard_s else None
