"""The one contract every translation engine fulfils."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from livetranslate.translation.glossary import Glossary


@dataclass(frozen=True)
class TranslationRequest:
    text: str
    source: str
    target: str
    context: tuple[str, ...] = ()
    """The previous few segments of the same session (source language), oldest first."""
    glossary: Glossary | None = None
    audio: np.ndarray | None = field(default=None, compare=False)
    """The segment's 16 kHz audio: the ``whisper`` engine translates speech, not text."""


class Translator(Protocol):
    name: str

    def supports(self, source: str, target: str) -> bool:
        """Whether this engine, as installed and configured, translates ``source`` → ``target``."""

    def describe(self) -> dict:
        """What it can translate, for ``GET /v1/languages``."""

    async def translate(self, request: TranslationRequest) -> str:
        """The translation; raises :class:`~livetranslate.errors.TranslationFailed`."""

    async def warm(self, source: str, target: str) -> None:
        """Get ready to translate the pair (start processes, load models); may do nothing."""

    async def aclose(self) -> None: ...
