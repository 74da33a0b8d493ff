"""Translation: segment text (or speech) into each target language.

Engines behind one contract (:class:`Translator`): ``apertium`` (offline, the default),
``llm`` (any OpenAI-compatible endpoint) and ``whisper`` (speech → English). The router
picks one per pair and falls back; :class:`SessionTranslator` is the per-session stage.
"""

from __future__ import annotations

from livetranslate.translation.apertium import ApertiumTranslator
from livetranslate.translation.base import TranslationRequest, Translator
from livetranslate.translation.glossary import ENGINES, EngineName, Glossary
from livetranslate.translation.llm import LlmTranslator
from livetranslate.translation.router import Outcome, TranslationRouter
from livetranslate.translation.stage import SessionTranslator
from livetranslate.translation.whisper import WhisperTranslator

__all__ = [
    "ENGINES",
    "ApertiumTranslator",
    "EngineName",
    "Glossary",
    "LlmTranslator",
    "Outcome",
    "SessionTranslator",
    "TranslationRequest",
    "TranslationRouter",
    "Translator",
    "WhisperTranslator",
    "build_router",
]


def build_router(settings, engine=None) -> TranslationRouter:
    """The engines the settings enable, as installed on this machine."""
    engines: dict[str, Translator] = {}
    apertium = ApertiumTranslator(settings.apertium_dir, timeout=settings.translation_timeout_s)
    if apertium.available:
        engines["apertium"] = apertium
    if settings.llm_base_url:
        engines["llm"] = LlmTranslator(
            settings.llm_base_url,
            settings.llm_model,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            timeout=settings.translation_timeout_s,
            retries=settings.llm_retries,
            stream=settings.llm_stream,
        )
    if engine is not None and engine.can_translate_speech:
        engines["whisper"] = WhisperTranslator(engine, settings.final_beam_size)
    return TranslationRouter(engines, default=settings.translation_engine, per_pair=settings.translation_pair_engines)
