"""The offline engine: real Apertium pairs, kept running between sentences."""

from __future__ import annotations

import asyncio

import pytest

from livetranslate.errors import TranslationFailed
from livetranslate.translation import ApertiumTranslator, Glossary, TranslationRequest


def translate(engine, text, source="en", target="es", glossary=None):
    return asyncio.run(engine.translate(TranslationRequest(text, source, target, glossary=glossary)))


def test_translate_direct_pairs_both_ways(apertium):
    assert translate(apertium, "We need to review the budget before Friday.") == (
        "Necesitamos revisar el presupuesto antes de que viernes."
    )
    assert translate(apertium, "Necesitamos revisar el presupuesto.", "es", "en") == "We need to revise the estimate."
    assert translate(apertium, "Good morning.", "en", "ca").startswith("Bon dia")


def test_translate_through_spanish_when_no_direct_pair(apertium):
    assert apertium.route("en", "fr") == [("en", "es"), ("es", "fr")]
    assert apertium.route("en", "pt") == [("en", "es"), ("es", "pt")]
    assert apertium.route("fr", "en") == [("fr", "es"), ("es", "en")]
    assert "budget" in translate(apertium, "We need to review the budget.", "en", "fr").lower()
    assert "orçamento" in translate(apertium, "We need to review the budget.", "en", "pt").lower()
    assert translate(apertium, "We need to review the budget.", "en", "it").startswith("Necessitiamo")


def test_special_characters_survive_the_stream_format(apertium):
    out = translate(apertium, "Costs rose 5% [see slide] to $40 <estimate> at 9:30 {draft} a/b.")
    for kept in ("5%", "[", "]", "$40", "<", ">", "9:30", "{", "}", "/"):
        assert kept in out, (kept, out)


def test_many_sentences_one_process_chain(apertium):
    texts = [f"Item number {i} is ready." for i in range(30)]
    outs = [translate(apertium, t) for t in texts]
    assert all("preparado" in o or "listo" in o or "a punto" in o for o in outs), outs[:3]
    assert len({id(c) for c in apertium._chains.values()}) == len(apertium._chains)  # one chain per mode


def test_glossary_terms_and_kept_names(apertium):
    g = Glossary(terms={"standup": {"es": "reunión diaria"}}, keep=["Bill", "Acme Cloud"])
    out = translate(apertium, "Bill said the standup about Acme Cloud starts at nine.", glossary=g)
    assert "reunión diaria" in out and "Bill" in out and "Acme Cloud" in out, out
    assert "zxq" not in out.lower()
    # names only as written: "bill" (an invoice) is still translated
    assert "Bill" not in translate(apertium, "Pay the bill today.", glossary=g)


def test_a_killed_pipeline_restarts(apertium):
    translate(apertium, "Hello.")
    for chain in apertium._chains.values():
        for proc in chain._procs:
            proc.kill()
    assert translate(apertium, "Good morning.").startswith("Buenos días")


def test_unsupported_pair_raises_with_reason(apertium):
    assert not apertium.supports("en", "de")
    with pytest.raises(TranslationFailed, match="no en→de pair"):
        translate(apertium, "Hello.", "en", "de")


def test_idle_chains_are_stopped():
    engine = ApertiumTranslator(idle_s=0.0)
    try:
        translate(engine, "Good morning.", "en", "es")
        [chain] = engine._chains.values()
        procs = list(chain._procs)
        translate(engine, "Buenos días.", "es", "en")
        assert [p.name for p in engine._chains] == ["spa-eng.mode"]
        assert all(p.poll() is not None for p in procs)  # the idle en→es processes are gone
        assert translate(engine, "Good morning.", "en", "es").startswith("Buenos días")  # and come back
    finally:
        asyncio.run(engine.aclose())
