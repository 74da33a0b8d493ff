"""``/v1/settings``: what this server runs (read-only), and the defaults for new sessions
that people change from the dashboard (stored; new sessions use them at once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from livetranslate import __version__
from livetranslate.api.deps import ServicesDep, admin
from livetranslate.api.openapi import errors_doc
from livetranslate.api.routes.languages import EngineInfo
from livetranslate.errors import Forbidden, Unauthorized, UnsupportedLanguage
from livetranslate.session.defaults import SessionDefaults
from livetranslate.translation import EngineName
from livetranslate.translation.glossary import GlossaryInput
from livetranslate.translation.langid import LanguageCode

router = APIRouter(prefix="/v1/settings", tags=["settings"])


class DefaultsPatch(BaseModel):
    """Fields to change; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    language: LanguageCode | None = None
    targets: list[LanguageCode] | None = Field(None, max_length=20)
    translation_engine: EngineName | None = None
    glossary: GlossaryInput | None = None
    echo_cancellation: bool | None = Field(None, strict=True)  # strict: 0 and "no" are not booleans
    noise_suppression: bool | None = Field(None, strict=True)
    auto_gain: bool | None = Field(None, strict=True)


class ServerInfo(BaseModel):
    """What this server runs: set by its environment, read-only here."""

    version: str
    model: str = Field(description="The model that transcribes English.")
    multilingual_model: str | None = Field(description="The model for every other language (null: none).")
    compute_type: str = Field(examples=["int8"])
    device: str = Field(examples=["cpu"])
    translation_engines: dict[str, EngineInfo] = Field(description="Each installed engine and its pairs.")
    default_engine: str
    speakers: bool = Field(description="Whether speakers are told apart.")
    store: str = Field(description="The database: `sqlite` or `postgresql`.")
    store_audio: bool = Field(description="Whether sessions keep their audio (`GET /v1/sessions/{id}/audio`).")


class SettingsOut(BaseModel):
    defaults: SessionDefaults = Field(description="What new sessions get for what their request leaves out.")
    server: ServerInfo


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


@router.get("", response_model=SettingsOut, response_model_exclude_unset=True,
            summary="What this server runs, and the defaults of new sessions")
async def get_settings(services: ServicesDep) -> dict:
    """``server``: the models, engines and store this server runs (from its environment);
    ``defaults``: what new sessions get for what their request leaves out."""
    return _describe(services)


@router.patch("", response_model=SettingsOut, response_model_exclude_unset=True, dependencies=[Depends(admin)],
              summary="Change the defaults of new sessions",
              responses=errors_doc(UnsupportedLanguage, Unauthorized, Forbidden))
async def update_settings(services: ServicesDep, body: Annotated[DefaultsPatch, Body()]) -> dict:
    """Stored, so they outlive a restart, and used at once by every session created afterwards
    for what its request leaves out. Fields left out stay as they are; `null` restores the
    server's default. Checked as a session is: a language or target it cannot do is refused."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("targets", "glossary", "echo_cancellation", "noise_suppression", "auto_gain"):
        if name in changes and changes[name] is None:
            changes[name] = SessionDefaults.model_fields[name].get_default(call_default_factory=True)
    await services.sessions.update_defaults(changes)
    return _describe(services)
