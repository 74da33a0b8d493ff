"""``GET /v1/languages``: what can be spoken and what each engine can translate, from what is
actually installed and configured on this server."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from livetranslate.api.deps import ServicesDep
from livetranslate.translation.langid import language_name

router = APIRouter(prefix="/v1", tags=["languages"])


class Language(BaseModel):
    code: str = Field(description="ISO 639-1 code, as sessions take it.", examples=["es"])
    name: str = Field(examples=["Spanish"])


class SpeechLanguages(BaseModel):
    model: str = Field(description="The model that transcribes English.", examples=["tiny.en"])
    multilingual_model: str | None = Field(description="The model for every other language (null: none installed).")
    detection: bool = Field(description="Whether `language: null` detects the spoken language.")
    languages: list[Language] = Field(description="Every language a session can be spoken in.")


class Pair(BaseModel):
    source: str = Field(description="Source language; `*` for any.")
    target: str
    via: str | None = Field(description="The pivot language of a pair made of two (`ca → en → es`), else null.")


class EngineInfo(BaseModel):
    available: bool
    offline: bool = Field(description="Whether it runs on this machine (false: a remote endpoint).")
    pairs: list[Pair] | Literal["any"]
    base_url: str | None = Field(None, description="llm only: the OpenAI-compatible endpoint.")
    model: str | None = Field(None, description="llm only: the model it asks.")


class Translation(BaseModel):
    default_engine: str = Field(description="The engine sessions use unless they name one.")
    pair_engines: dict[str, str] = Field(description="Engines chosen per pair (`en-de`), overriding the default.")
    targets: list[str] | str = Field(
        description="Every language some engine translates into (with the llm engine, a sentence: any)."
    )
    engines: dict[str, EngineInfo] = Field(description="Each installed engine and its pairs.")


class Languages(BaseModel):
    asr: SpeechLanguages
    translation: Translation


@router.get("/languages", response_model=Languages, response_model_exclude_unset=True,
            summary="What this server can hear and translate")
async def list_languages(services: ServicesDep) -> dict:
    """From what is installed and configured: the languages a session can be spoken in, and each
    translation engine with its language pairs. A target a session asks for must be one of these."""
    engine, s, translation = services.engine, services.settings, services.translation
    spoken = engine.languages
    return {
        "asr": {
            "model": engine.asr.name,
            "multilingual_model": s.multilingual_model if engine.can_translate_speech else None,
            "detection": engine.can_translate_speech,
            "languages": [{"code": c, "name": language_name(c) or c} for c in spoken],
        },
        "translation": {
            "default_engine": s.translation_engine,
            "pair_engines": s.translation_pair_engines,
            "targets": translation.supported_from(None),
            "engines": {name: e.describe() for name, e in translation.engines.items()},
        },
    }
