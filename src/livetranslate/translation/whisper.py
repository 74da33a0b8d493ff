"""Whisper's own translation: speech in any of its languages → English text, decoded from the
segment's audio by the multilingual model (``task="translate"``) on the shared ASR engine.

A speech model cannot be handed a glossary: pairs that need one belong to ``apertium`` or
``llm`` (per-pair engine settings)."""

from __future__ import annotations

from livetranslate.asr import AsrEngine, DecodeOptions, Priority
from livetranslate.errors import TranslationFailed
from livetranslate.translation.base import TranslationRequest


class WhisperTranslator:
    name = "whisper"

    def __init__(self, engine: AsrEngine, beam_size: int = 1) -> None:
        self._engine = engine
        self._beam_size = beam_size

    def supports(self, source: str, target: str) -> bool:
        return (
            target == "en" and source != "en" and self._engine.can_translate_speech and source in self._engine.languages
        )

    def describe(self) -> dict:
        return {
            "available": self._engine.can_translate_speech,
            "offline": True,
            "pairs": [{"source": "*", "target": "en", "via": None}] if self._engine.can_translate_speech else [],
        }

    async def translate(self, request: TranslationRequest) -> str:
        if request.audio is None:
            raise TranslationFailed("the whisper engine translates speech: this segment has no audio")
        options = DecodeOptions(
            language=request.source, task="translate", beam_size=self._beam_size, word_timestamps=False
        )
        result = await self._engine.transcribe(request.audio, options, Priority.DRAFT)
        if result is None or result.rejected or not result.text:
            raise TranslationFailed(f"whisper produced no translation ({result.rejected if result else 'skipped'})")
        return result.text

    async def warm(self, source: str, target: str) -> None:
        return None

    async def aclose(self) -> None:
        return None
