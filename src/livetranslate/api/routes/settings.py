"""``/v1/settings``: what this server runs (read-only), and the defaults for new sessions
that people change from the dashboard (stored; new sessions use them at once)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from livetranslate import __version__
from livetranslate.api.deps import AdminDep, ScopeDep, ServicesDep
from livetranslate.api.openapi import errors_doc
from livetranslate.api.routes.languages import EngineInfo
from livetranslate.errors import Forbidden, Unauthorized, UnsupportedLanguage
from livetranslate.session import Scope
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


class LimitsOut(BaseModel):
    """What the caller's tenant may use (null: no limit but the server's own), and its use now."""

    key_requests_per_s: int | None = Field(description="Requests a second of each key (counted with keys only).")
    requests_per_s: int | None = Field(description="Requests a second of all the tenant's keys together.")
    live_sessions: int | None = Field(description="Sessions live at once.")
    bots: int | None = Field(description="Bots at once.")
    audio_hours_per_day: float | None = Field(description="Hours of audio a UTC day.")
    upload_bytes: int = Field(description="Largest file upload.")
    live_sessions_now: int = Field(description="The tenant's sessions live now.")
    audio_seconds_today: int = Field(description="Audio taken today (UTC), counted when there is a daily limit.")


class SettingsOut(BaseModel):
    defaults: SessionDefaults = Field(description="What new sessions get for what their request leaves out.")
    server: ServerInfo
    limits: LimitsOut


async def _limits(services, tenant: str) -> dict:
    limits = asdict(await services.quotas.of(tenant))
    if services.auth.mode == "none":  # a server asking for no key counts no request
        limits.update(key_requests_per_s=None, requests_per_s=None)
    return {**limits, "live_sessions_now": services.live.live_of(tenant),
            "audio_seconds_today": await services.quotas.audio_used(tenant)}


async def _describe(services, scope: Scope) -> dict:
    s, engine = services.settings, services.engine
    return {
        "defaults": (await services.sessions.defaults(scope)).model_dump(mode="json"),
        "limits": await _limits(services, scope.owner),
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
async def get_settings(services: ServicesDep, scope: ScopeDep) -> dict:
    """``server``: the models, engines and store this server runs (from its environment);
    ``defaults``: what the caller's tenant's new sessions get for what their request leaves out."""
    return await _describe(services, scope)


@router.patch("", response_model=SettingsOut, response_model_exclude_unset=True,
              summary="Change the defaults of new sessions",
              responses=errors_doc(UnsupportedLanguage, Unauthorized, Forbidden))
async def update_settings(services: ServicesDep, who: AdminDep, body: Annotated[DefaultsPatch, Body()]) -> dict:
    """The caller's tenant's (an admin's). Stored, so they outlive a restart, and used at once
    by every session of the tenant created afterwards for what its request leaves out. Fields left out stay as they are; `null` restores the
    server's default. Checked as a session is: a language or target it cannot do is refused."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("targets", "glossary", "echo_cancellation", "noise_suppression", "auto_gain"):
        if name in changes and changes[name] is None:
            changes[name] = SessionDefaults.model_fields[name].get_default(call_default_factory=True)
    scope = Scope(tenant=who.tenant)
    await services.sessions.update_defaults(changes, scope)
    await services.audit.record(who, "settings.change", None, **body.model_dump(mode="json", include=body.model_fields_set))
    return await _describe(services, scope)
