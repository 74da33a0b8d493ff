"""Defaults for new sessions that people change from the dashboard (``PATCH /v1/settings``):
stored, so they survive a restart, and applied to every session created after the change.
They start from the server's settings (environment); the stored values win."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from livetranslate.translation import EngineName, Glossary
from livetranslate.translation.langid import LanguageCode


class SessionDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: LanguageCode | None = Field("en", description="Spoken language of new sessions; null detects it.")
    targets: list[LanguageCode] = Field(default_factory=list, max_length=20, description="Languages new sessions translate into.")
    translation_engine: EngineName | None = Field(None, description="Engine for new sessions (null: the server's).")
    glossary: Glossary = Field(default_factory=Glossary, description="Added to every new session's glossary.")
    echo_cancellation: bool = Field(True, description="Browser capture: cancel the speakers' echo.")
    noise_suppression: bool = Field(True, description="Browser capture: suppress steady noise.")
    auto_gain: bool = Field(True, description="Browser capture: level the microphone automatically.")

    @classmethod
    def from_settings(cls, s) -> "SessionDefaults":
        return cls(language=s.default_language, translation_engine=s.translation_engine)
