"""LLM translation through any OpenAI-compatible chat-completions endpoint (Ollama, vLLM,
llama.cpp server, LM Studio, OpenAI).

The prompt carries the previous few segments as context (for pronouns, terms, register) and
the glossary entries found in the text, and asks for the translation only. The reply is
checked before it is used: not empty, not the prompt or the source echoed back, no
commentary ("Here is the translation:"), in the language asked for, with every glossary
entry honoured. A bad reply, a timeout or a 5xx is retried with backoff; then the caller
falls back to the offline engine. After ``trip_after`` translations in a row failed that
way, the endpoint is skipped for ``cooldown`` seconds (a circuit breaker), so a dead server
costs each caption nothing instead of every timeout and retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

import httpx

from livetranslate import executors
from livetranslate.errors import TranslationFailed
from livetranslate.translation.base import TranslationRequest
from livetranslate.translation.langid import detect_language, language_name

log = logging.getLogger(__name__)

_COMMENTARY = re.compile(
    # a preamble ending in a colon ("Here is the translation:", "Sure! In Spanish:"), a label,
    # a refusal, or a trailing note; not an ordinary sentence that starts with "Sure," or "Here is"
    r"^\s*(?:(?:here(?:'s| is| are)|sure|certainly|of course|okay)\b[^:\n]{0,80}:(?:\s|$)"
    r"|(?:translation|translated text|traducci[oó]n|traduction|[üu]bersetzung)\s*:"
    r"|as an ai\b|i (?:cannot|can't|am unable to) (?:translate|help))"
    r"|\((?:note|translation|nota|remarque)\b",
    re.IGNORECASE,
)
_PROMPT_PHRASES = ("translate live meeting captions", "always use these renderings", "context only, do not translate")
_QUOTES = "\"'“”«»„‘’「」"


class LlmTranslator:
    name = "llm"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 8.0,
        retries: int = 2,
        backoff: float = 0.25,
        stream: bool = False,
        temperature: float = 0.0,
        trip_after: int = 2,
        cooldown: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff
        self._stream = stream
        self._temperature = temperature
        self._trip_after = trip_after
        self._cooldown = cooldown
        self._failures = 0
        self._down_until = 0.0
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.AsyncClient(timeout=timeout, headers=headers)

    def supports(self, source: str, target: str) -> bool:
        return source != target and language_name(target) is not None

    def describe(self) -> dict:
        return {"available": True, "offline": False, "base_url": self.base_url, "model": self.model, "pairs": "any"}

    def messages(self, request: TranslationRequest) -> list[dict]:
        src, tgt = language_name(request.source) or request.source, language_name(request.target) or request.target
        rules = [
            f"You translate live meeting captions from {src} to {tgt}.",
            f"Reply with the {tgt} translation of the user's message and nothing else: "
            "no quotes, no notes, no explanations, no original text.",
            "Keep the meaning, tone and numbers; captions are spoken language and may be unfinished sentences.",
        ]
        entries = request.glossary.entries_in(request.text, request.target) if request.glossary else []
        if entries:
            rules.append("Glossary (always use these renderings):")
            rules += [
                f'- "{found}" → "{fixed}"' + (" (a name: never translate)" if kind == "keep" else "")
                for found, fixed, kind in dict.fromkeys(entries)
            ]
        if request.context:
            rules.append("Earlier in this conversation (context only, do not translate):")
            rules += [f"> {line}" for line in request.context]
        return [{"role": "system", "content": "\n".join(rules)}, {"role": "user", "content": request.text}]

    async def translate(self, request: TranslationRequest) -> str:
        wait = self._down_until - time.monotonic()
        if wait > 0:
            raise TranslationFailed(
                f"llm at {self.base_url}: skipped for {wait:.0f} s more after {self._failures} failed translations"
            )
        try:
            text = await self._translate(request)
        except TranslationFailed:
            self._failures += 1
            if self._failures >= self._trip_after:
                self._down_until = time.monotonic() + self._cooldown
            raise
        self._failures = 0
        return text

    async def _translate(self, request: TranslationRequest) -> str:
        messages = await executors.run("translation", self.messages, request)  # glossary matching: off the loop
        problem = "no attempt"
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                reply = await asyncio.wait_for(self._complete(messages), self._timeout)
            except (httpx.HTTPError, asyncio.TimeoutError, ValueError, KeyError, IndexError, TypeError) as e:
                problem = _describe(e, self._timeout)
                log.warning("llm %s: attempt %d failed: %s", self.base_url, attempt + 1, problem)
                if isinstance(e, httpx.HTTPStatusError) and e.response.status_code < 500 and e.response.status_code != 429:
                    break  # a 4xx (bad key, unknown model) does not get better by retrying
                continue
            text = _clean(reply)
            problem = await executors.run("translation", validate, text, request)
            if problem is None:
                return text
            log.warning("llm %s: attempt %d rejected: %s (reply %r)", self.base_url, attempt + 1, problem, reply[:200])
        raise TranslationFailed(f"llm at {self.base_url}: {problem}")

    async def _complete(self, messages: list[dict]) -> str:
        body = {"model": self.model, "messages": messages, "temperature": self._temperature, "stream": self._stream}
        url = f"{self.base_url}/chat/completions"
        if not self._stream:
            response = await self._client.post(url, json=body)
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"] or ""
        parts: list[str] = []
        async with self._client.stream("POST", url, json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                delta = json.loads(data)["choices"][0].get("delta", {})
                parts.append(delta.get("content") or "")
        return "".join(parts)

    async def warm(self, source: str, target: str) -> None:
        return None

    async def aclose(self) -> None:
        await self._client.aclose()


def _clean(reply: str) -> str:
    text = reply.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def validate(text: str, request: TranslationRequest) -> str | None:
    """Why ``text`` is not an acceptable translation of ``request``, or None."""
    if not text:
        return "empty reply"
    source = request.text.strip()
    if "\n" in text and "\n" not in source:
        return "reply has several lines (commentary?)"
    m = _COMMENTARY.search(text)
    if m and not (":" in source and m.group(0).rstrip().endswith(":")):  # a colon the source has too is fine
        return "reply contains commentary, not just the translation"
    if len(text) > 3 * len(source) + 40:
        return "reply is far longer than the source"
    lowered = text.lower()
    if any(line and line.lower() in lowered for line in request.context if len(line) > 20):
        return "reply repeats the context"
    if any(phrase in lowered for phrase in _PROMPT_PHRASES):
        return "reply echoes the prompt"
    if request.glossary:
        for found, fixed, kind in request.glossary.entries_in(source, request.target):
            if fixed.lower() not in lowered:
                return f"glossary {kind} {found!r} → {fixed!r} not honoured"
    words = len(re.findall(r"\w+", text))
    if words >= 4:
        detected = detect_language(text)
        if detected is not None and detected[0] != request.target and detected[1] > 0.6:
            if text.lower() == source.lower():
                return "reply is the source text, untranslated"
            return f"reply is in {detected[0]!r}, not {request.target!r}"
    return None


def _describe(e: BaseException, timeout: float) -> str:
    if isinstance(e, asyncio.TimeoutError | httpx.TimeoutException):
        return f"no reply within {timeout} s"
    if isinstance(e, httpx.HTTPStatusError):
        return f"HTTP {e.response.status_code}: {e.response.text[:200]}"
    if isinstance(e, httpx.HTTPError):
        return f"{type(e).__name__}: {e}"
    return f"malformed reply ({type(e).__name__}: {e})"
