"""Which engine translates a pair, and what happens when it fails.

Preference, first that can translate the pair: the per-pair setting (``en-de: llm``), the
session's engine, the default engine, then any other engine installed. When the chosen
engine fails (down, slow, a bad reply) the next capable engine translates instead and the
caller gets a warning to publish; the source segment is never held back or lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from livetranslate import metrics
from livetranslate.errors import TranslationFailed, UnsupportedLanguage
from livetranslate.translation.base import TranslationRequest, Translator
from livetranslate.translation.langid import language_name

log = logging.getLogger(__name__)


_UNAVAILABLE = {
    "whisper": "it translates speech into English, not text (use it with `transcribe FILE --to en` or a session), "
    "and needs the multilingual model",
    "llm": "it needs an OpenAI-compatible endpoint: set LIVETRANSLATE_LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1 "
    "for Ollama) and LIVETRANSLATE_LLM_MODEL",
    "apertium": "Apertium is not installed (Debian packages apertium and apertium-eng-spa, ...: scripts/system-deps.sh run)",
}


@dataclass
class Outcome:
    """What translating one segment into one language came to. ``text`` None with no
    ``failures``: no engine translates the pair at all."""

    text: str | None
    engine: str | None
    latency_ms: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(engine, why) for each engine that failed before ``engine`` succeeded (or all failed)."""


class TranslationRouter:
    def __init__(self, engines: dict[str, Translator], *, default: str = "apertium", per_pair: dict[str, str] | None = None):
        self.engines = engines
        self.default = default
        self.per_pair = per_pair or {}

    def candidates(self, source: str, target: str, preferred: str | None = None, *, audio: bool = True) -> list[Translator]:
        order = [self.per_pair.get(f"{source}-{target}"), preferred, self.default, *self.engines]
        out: list[Translator] = []
        for name in dict.fromkeys(n for n in order if n):
            engine = self.engines.get(name)
            if engine is None or not engine.supports(source, target):
                continue
            if name == "whisper" and not audio:
                continue
            out.append(engine)
        return out

    def targets(self) -> set[str] | None:
        """Every language some engine can produce (None: any language, an LLM is configured)."""
        out: set[str] = set()
        for engine in self.engines.values():
            pairs = engine.describe().get("pairs")
            if pairs == "any":
                return None
            out |= {p["target"] for p in pairs}
        return out

    def check(self, language: str | None, targets: list[str], engine: str | None = None, *, speech: bool = True) -> None:
        """Raise UnsupportedLanguage (listing what is supported) unless every target can be
        translated from ``language`` (from some language, when it is detected). A target may
        not be ``language`` itself nor be named twice; with detection a target may be one of
        the spoken languages (segments already in it are not translated). ``speech``
        False: text only (the whisper engine translates speech)."""
        if engine is not None and (engine not in self.engines or (engine == "whisper" and not speech)):
            available = [n for n in self.engines if speech or n != "whisper"]
            raise UnsupportedLanguage(
                f"translation engine {engine!r} is not available: {_UNAVAILABLE.get(engine, 'no such engine')}; "
                f"available: {', '.join(available) or 'none'}"
            )
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise UnsupportedLanguage(f"targets name {', '.join(twice)} twice; list each language once")
        if language is not None and language in targets:
            raise UnsupportedLanguage(
                f"target {language!r} is the spoken language (language {language!r}): its text needs no translation; "
                f"supported targets from {language}: {self.supported_from(language)}"
            )
        bad = []
        for target in targets:
            if language is None:
                reachable = self.targets()
                ok = target in reachable if reachable is not None else language_name(target) is not None
            else:
                ok = bool(self.candidates(language, target, engine))
            if not ok:
                bad.append(target)
        if bad:
            raise UnsupportedLanguage(
                f"no installed engine translates {language or 'speech'} into {bad}; "
                f"supported from {language or 'any language'}: {self.supported_from(language)}"
            )

    def supported_from(self, language: str | None) -> list[str] | str:
        reachable = self.targets()
        if reachable is None:
            return "any language (llm engine)"
        if language is None:
            return sorted(reachable)
        return sorted(t for t in reachable if t != language and self.candidates(language, t))

    async def translate(self, request: TranslationRequest, preferred: str | None = None) -> Outcome:
        outcome = Outcome(None, None)
        for engine in self.candidates(request.source, request.target, preferred, audio=request.audio is not None):
            started = time.perf_counter()
            try:
                text = await engine.translate(request)
            except TranslationFailed as e:
                metrics.TRANSLATION_FAILURES.labels(engine.name).inc()
                outcome.failures.append((engine.name, e.message))
                continue
            elapsed = time.perf_counter() - started
            metrics.TRANSLATION_SECONDS.labels(engine.name).observe(elapsed)
            outcome.text, outcome.engine, outcome.latency_ms = text, engine.name, round(elapsed * 1000, 1)
            return outcome
        return outcome

    async def warm(self, source: str | None, targets: list[str], preferred: str | None = None) -> None:
        """Ready the engines a session will use (failures show up later, on real captions)."""
        if source is None:
            return
        jobs = [e.warm(source, t) for t in targets if t != source for e in self.candidates(source, t, preferred)[:1]]
        await asyncio.gather(*jobs, return_exceptions=True)

    async def aclose(self) -> None:
        for engine in self.engines.values():
            await engine.aclose()
