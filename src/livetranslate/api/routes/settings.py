"""``/v1/settings``: what this server runs (read-only), and the defaults for new sessions
that people change from the dashboard (stored; new sessions use them at once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from livetranslate import __version__
from livetranslate.api.deps import ServicesDep
from livetranslate.session.defaults import SessionDefaults
from livetranslate.translation import EngineName, Glossary
from livetranslate.translation.langid import LanguageCode

router = APIRouter(prefix="/v1/settings", tags=["settings"])


class DefaultsPatch(BaseModel):
    """Fields to change; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    language: LanguageCode | None = None
    targets: list[LanguageCode] | None = Field(None, max_length=20)
    translation_engine: EngineName | None = None
    glossary: Glossary | None = None
    echo_cancellation: bool | None = None
    noise_suppression: bool | None = None
    auto_gain: bool | None = None


def _describe(services) -> dict:
    s, engine = services.settings, services.engine
    return {
        "defaults": services.sessions.defaults.model_dump(mode="json"),
        "server": {
            "version": __version__,
            "model": engine.asr.name,
            "multilingual_model": s.multilingual_model or None,
            "compute_type": s.compute_type,
            "device": s.device,
            "translation_engines": {name: e.describe() for name, e in services.translation.engines.items()},
            "default_engine": s.translation_engine,
            "speakers": s.speakers,
            "store": s.database_url.split(":", 1)[0],
            "store_audio": s.store_audio,
        },
    }


@router.get("")
async def get_settings(services: ServicesDep) -> dict:
    return _describe(services)


@router.patch("")
async def update_settings(services: ServicesDep, body: Annotated[DefaultsPatch, Body()]) -> dict:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("targets", "glossary", "echo_cancellation", "noise_suppression", "auto_gain"):
        if name in changes and changes[name] is None:
            changes[name] = SessionDefaults.model_fields[name].get_default(call_default_factory=True)
    await services.sessions.update_defaults(changes)
    return _describe(services)
