"""``GET /v1/languages``: what can be spoken and what each engine can translate, from what is
actually installed and configured on this server."""

from __future__ import annotations

from fastapi import APIRouter

from livetranslate.api.deps import ServicesDep
from livetranslate.translation.langid import language_name

router = APIRouter(prefix="/v1", tags=["languages"])


@router.get("/languages")
async def list_languages(services: ServicesDep) -> dict:
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
