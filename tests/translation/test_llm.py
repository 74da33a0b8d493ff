"""The LLM engine against a local server speaking the OpenAI wire format."""

from __future__ import annotations

import asyncio
import time

import pytest

from livetranslate.errors import TranslationFailed
from livetranslate.translation import (
    ApertiumTranslator,
    Glossary,
    LlmTranslator,
    TranslationRequest,
    TranslationRouter,
)

SENTENCE = "We need to review the budget before Friday."


def run(coro_factory):
    async def main():
        return await coro_factory()

    return asyncio.run(main())


def llm_translate(server, request, **kwargs):
    async def go():
        engine = LlmTranslator(server.base_url, "test-model", backoff=0.01, **kwargs)
        try:
            return await engine.translate(request)
        finally:
            await engine.aclose()

    return run(go)


@pytest.mark.parametrize("stream", [False, True])
def test_translate_json_and_streamed_replies(llm, stream):
    out = llm_translate(llm, TranslationRequest(SENTENCE, "en", "es"), stream=stream)
    assert out == "Necesitamos revisar el presupuesto antes del viernes."
    body = llm.behaviour.requests[-1]
    assert body["stream"] is stream and body["model"] == "test-model" and body["temperature"] == 0.0


def test_prompt_carries_context_and_glossary(llm):
    request = TranslationRequest(
        "Let's move the standup to ten o'clock.",
        "en",
        "es",
        context=("Good morning everyone.", "Alice joined the call."),
        glossary=Glossary(terms={"standup": {"es": "reunión diaria"}, "sprint": {"es": "iteración"}}, keep=["Alice"]),
    )
    assert llm_translate(llm, request) == "Pasemos la reunión diaria a las diez."
    system = llm.behaviour.requests[-1]["messages"][0]["content"]
    assert "from English to Spanish" in system
    assert "> Good morning everyone." in system and "> Alice joined the call." in system
    assert '"standup" → "reunión diaria"' in system
    assert "sprint" not in system and "Alice" not in system.split("Glossary")[1].split("Earlier")[0]
    assert llm.behaviour.requests[-1]["messages"][-1] == {"role": "user", "content": request.text}


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("commentary", "commentary"),
        ("echo", "untranslated"),
        ("wrong_language", "not 'es'"),
        ("prompt_echo", "several lines"),
        ("empty", "empty"),
        ("glossary_ignored", "glossary term"),
    ],
)
def test_bad_replies_are_rejected_after_retries(llm, mode, reason):
    llm.reset(mode)
    request = TranslationRequest(
        "The standup is at nine." if mode == "glossary_ignored" else SENTENCE, "en", "es",
        glossary=Glossary(terms={"standup": {"es": "reunión diaria"}}),
    )
    with pytest.raises(TranslationFailed, match=reason):
        llm_translate(llm, request, retries=2)
    assert len(llm.behaviour.requests) == 3  # first try + 2 retries


def test_a_server_error_is_retried(llm):
    llm.reset("error500_once")
    assert llm_translate(llm, TranslationRequest(SENTENCE, "en", "fr")) == "Nous devons revoir le budget avant vendredi."
    assert len(llm.behaviour.requests) == 2


def test_timeout_then_offline_fallback(llm, apertium):
    llm.reset("slow")

    async def go():
        engine = LlmTranslator(llm.base_url, "m", timeout=0.3, retries=1, backoff=0.01)
        router = TranslationRouter({"llm": engine, "apertium": apertium}, default="llm")
        try:
            return await router.translate(TranslationRequest(SENTENCE, "en", "es"))
        finally:
            await engine.aclose()

    outcome = run(go)
    assert outcome.engine == "apertium" and outcome.text.startswith("Necesitamos revisar el presupuesto")
    assert outcome.failures == [("llm", f"llm at {llm.base_url}: no reply within 0.3 s")]


def test_endpoint_down_is_a_failure_not_a_crash():
    async def go():
        engine = LlmTranslator("http://127.0.0.1:9/v1", "m", timeout=1, retries=1, backoff=0.01)
        try:
            return await engine.translate(TranslationRequest(SENTENCE, "en", "es"))
        finally:
            await engine.aclose()

    with pytest.raises(TranslationFailed, match="ConnectError"):
        run(go)


def test_router_prefers_pair_setting_then_session_then_default(apertium, llm):
    engine = LlmTranslator(llm.base_url, "m")
    router = TranslationRouter({"apertium": apertium, "llm": engine}, default="apertium", per_pair={"en-fr": "llm"})
    assert [e.name for e in router.candidates("en", "fr")] == ["llm", "apertium"]
    assert [e.name for e in router.candidates("en", "es")] == ["apertium", "llm"]
    assert [e.name for e in router.candidates("en", "es", "llm")] == ["llm", "apertium"]
    assert [e.name for e in router.candidates("en", "de")] == ["llm"]  # only the LLM speaks German here
    asyncio.run(engine.aclose())


def test_check_lists_what_is_supported():
    router = TranslationRouter({"apertium": ApertiumTranslator()})
    router.check("en", ["es", "fr"])
    with pytest.raises(Exception, match="target 'en' is the spoken language"):
        router.check("en", ["es", "en"])
    with pytest.raises(Exception, match=r"into \['de'\].*supported from en: \['ca', 'eo', 'es', 'fr', 'gl', 'it', 'pt'\]"):
        router.check("en", ["es", "de"])
    with pytest.raises(Exception, match="engine 'llm' is not available"):
        router.check("en", ["es"], "llm")


def test_a_dead_endpoint_is_skipped_for_a_while():
    async def go():
        engine = LlmTranslator("http://127.0.0.1:9/v1", "m", timeout=1, retries=1, backoff=0.01, trip_after=2,
                               cooldown=60)
        try:
            for _ in range(2):
                with pytest.raises(TranslationFailed, match="ConnectError"):
                    await engine.translate(TranslationRequest(SENTENCE, "en", "es"))
            started = time.perf_counter()
            with pytest.raises(TranslationFailed, match="skipped for 60 s more after 2 failed"):
                await engine.translate(TranslationRequest(SENTENCE, "en", "es"))
            return time.perf_counter() - started
        finally:
            await engine.aclose()

    assert run(go) < 0.05  # no connection attempted


def test_one_success_resets_the_breaker(llm):
    async def go():
        engine = LlmTranslator(llm.base_url, "m", retries=0, trip_after=2, cooldown=60)
        try:
            llm.reset("empty")
            with pytest.raises(TranslationFailed):
                await engine.translate(TranslationRequest(SENTENCE, "en", "es"))
            llm.reset("ok")
            await engine.translate(TranslationRequest(SENTENCE, "en", "es"))
            llm.reset("empty")
            with pytest.raises(TranslationFailed, match="empty reply"):  # counted from zero again
                await engine.translate(TranslationRequest(SENTENCE, "en", "es"))
            llm.reset("ok")
            return await engine.translate(TranslationRequest(SENTENCE, "en", "es"))
        finally:
            await engine.aclose()

    assert run(go).startswith("Necesitamos")


def test_validation_tells_commentary_from_ordinary_sentences():
    from livetranslate.translation.llm import validate

    to_en = TranslationRequest("Claro, te envío el informe esta tarde.", "es", "en")
    assert validate("Sure, I'll send you the report this afternoon.", to_en) is None
    assert validate("Here is the report you asked for this afternoon.", to_en) is None
    glossary = TranslationRequest("Actualiza el glosario antes de la reunión.", "es", "en")
    assert validate("Update the glossary before the meeting.", glossary) is None
    assert validate("Here is the plan: we meet at 10:30 this afternoon.", to_en) is not None  # a preamble
    plan = TranslationRequest("Este es el plan: nos vemos a las 10:30 esta tarde.", "es", "en")
    assert validate("Here is the plan: we meet at 10:30 this afternoon.", plan) is None  # the source's own colon
    assert validate("Sure, the report is due at 10:30 this afternoon.", to_en) is None  # a time, not a preamble
    for bad in (
        "Sure! Here is the translation: I'll send you the report this afternoon.",
        "Translation: I'll send you the report this afternoon.",
        "I'll send you the report this afternoon. (Note: 'informe' can also mean briefing.)",
        "I cannot translate this text.",
    ):
        assert validate(bad, to_en) is not None, bad


def test_with_an_llm_any_known_language_is_a_target_but_not_an_unknown_code(llm, apertium):
    engine = LlmTranslator(llm.base_url, "m")
    router = TranslationRouter({"apertium": apertium, "llm": engine})
    router.check(None, ["de", "ja", "es"])
    router.check("en", ["de"])
    with pytest.raises(Exception, match=r"into \['xx'\]"):
        router.check(None, ["xx"])
    with pytest.raises(Exception, match=r"into \['xx'\]"):
        router.check("en", ["xx"])
    asyncio.run(engine.aclose())
