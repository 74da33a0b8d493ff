"""Live translation through a real server: events, PATCH of targets, exports per language,
engine fallback, multilingual speech, /v1/languages and bad input."""

from __future__ import annotations

import json

import httpx
import pytest
import srt
from websockets.sync.client import connect

from livetranslate.translation.langid import detect_language
from tests.conftest import conversation, drain, pcm16, start_server, stop_server, stream
from tests.translation.llm_server import LlmServer


@pytest.fixture(scope="module")
def llm_server():
    with LlmServer() as server:
        yield server


@pytest.fixture(scope="module")
def llm_backed(tmp_path_factory, llm_server):
    """A server whose llm engine is the local OpenAI-format stand-in."""
    srv = start_server(tmp_path_factory.mktemp("llm-backed"), LIVETRANSLATE_LLM_BASE_URL=llm_server.base_url)
    yield srv
    stop_server(srv)


def translations(events: list[dict], status: str = "final") -> list[dict]:
    return [e for e in events if e["type"] == "translation" and e["status"] == status]


def test_finals_are_translated_into_every_target(server, synthetic):
    session = server.create_session(targets=["es", "fr"], glossary={"keep": ["Friday"]})
    audio, _ = conversation(synthetic[2:4])
    result = stream(server, session["id"], pcm16(audio))
    finals = result.finals
    assert len(finals) == 2
    seq_of_final = {f["segment_id"]: f["seq"] for f in finals}
    by_segment: dict[str, dict[str, dict]] = {}
    for t in translations(result.events):
        assert t["seq"] > seq_of_final[t["segment_id"]]  # a translation follows its segment
        assert t["engine"] == "apertium" and t["source_language"] == "en" and t["text"]
        by_segment.setdefault(t["segment_id"], {})[t["lang"]] = t
    assert {k: sorted(v) for k, v in by_segment.items()} == {f["segment_id"]: ["es", "fr"] for f in finals}
    deadline = by_segment[finals[0]["segment_id"]]
    assert deadline["es"]["text"].startswith("Pienso que") and "Friday" in deadline["es"]["text"]  # name kept
    assert deadline["fr"]["text"].startswith("Je pense que")  # en → es → fr
    assert "presupuesto" in by_segment[finals[1]["segment_id"]]["es"]["text"]
    # draft translations come before the final one of their segment, never after
    for d in translations(result.events, "draft"):
        assert d["seq"] < by_segment[d["segment_id"]][d["lang"]]["seq"]

    with server.client() as c:
        r = c.get(f"/v1/sessions/{session['id']}/transcript", params={"format": "srt", "lang": "es"})
        assert r.status_code == 200 and r.headers["content-disposition"].endswith('.es.srt"')
        subs = list(srt.parse(r.text))
        assert " ".join(s.content.replace("\n", " ") for s in subs) == " ".join(
            by_segment[f["segment_id"]]["es"]["text"] for f in finals)
        r = c.get(f"/v1/sessions/{session['id']}/transcript", params={"format": "txt", "lang": "fr", "bilingual": True})
        blocks = r.text.strip().split("\n\n")
        assert blocks[0].split("\n") == [finals[0]["text"], by_segment[finals[0]["segment_id"]]["fr"]["text"]]
        body = c.get(f"/v1/sessions/{session['id']}/transcript", params={"lang": "es"}).json()
        assert body["lang"] == "es" and body["segments"][1]["translation_engine"] == "apertium"
        assert body["translation"].startswith(by_segment[finals[0]["segment_id"]]["es"]["text"])


def test_patch_targets_while_live(server, synthetic):
    session = server.create_session()
    sid = session["id"]
    events: list[dict] = []
    with connect(f"{server.ws}/v1/sessions/{sid}/audio", max_size=None) as ws:
        ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
        first, _ = conversation(synthetic[:1])
        ws.send(pcm16(first))
        while not any(e.get("type") == "segment" and e.get("status") == "final" for e in events):
            events.append(json.loads(ws.recv(timeout=30)))
        with server.client() as c:
            r = c.patch(f"/v1/sessions/{sid}", json={"targets": ["de"]})
            assert r.status_code == 422 and "supported from en" in r.json()["error"]["message"]
            r = c.patch(f"/v1/sessions/{sid}", json={"targets": ["es"], "glossary": {"keep": ["Friday"]}})
            assert r.status_code == 200 and r.json()["targets"] == ["es"], r.text
            assert r.json()["glossary"]["keep"] == ["Friday"]
        second, _ = conversation(synthetic[2:3])
        ws.send(pcm16(second))
        ws.send(json.dumps({"type": "stop"}))
        events += drain(ws)
    finals = [e for e in events if e.get("type") == "segment" and e["status"] == "final" and e["text"]]
    done = translations(events)
    assert len(finals) == 2
    assert [t["segment_id"] for t in done] == [finals[1]["segment_id"]] and done[0]["lang"] == "es"
    assert "Friday" in done[0]["text"]
    with server.client() as c:
        r = c.patch(f"/v1/sessions/{sid}", json={"targets": ["fr"]})
        assert r.status_code == 409 and "ended" in r.json()["error"]["message"]
        assert c.patch(f"/v1/sessions/{sid}", json={"title": "Weekly sync"}).json()["title"] == "Weekly sync"


def test_llm_engine_gets_context_and_its_translations_are_stored(llm_backed, llm_server, synthetic):
    llm_server.reset()
    session = llm_backed.create_session(targets=["es"], translation_engine="llm")
    audio, _ = conversation(synthetic[:2])
    result = stream(llm_backed, session["id"], pcm16(audio))
    finals = result.finals
    done = translations(result.events)
    assert [t["engine"] for t in done] == ["llm", "llm"], result.events
    assert not [e for e in result.events if e["type"] == "warning"]
    # drafts went to the offline engine; only finals reached the LLM, the second with the first as context
    assert {t["engine"] for t in translations(result.events, "draft")} <= {"apertium"}
    requests = [r for r in llm_server.behaviour.requests if r["messages"][-1]["content"] in {f["text"] for f in finals}]
    assert len(requests) == 2
    assert f"> {finals[0]['text']}" in requests[1]["messages"][0]["content"]
    with llm_backed.client() as c:
        body = c.get(f"/v1/sessions/{session['id']}/transcript", params={"lang": "es"}).json()
        assert [s["translation"] for s in body["segments"]] == [t["text"] for t in done]
        assert {s["translation_engine"] for s in body["segments"]} == {"llm"}


def test_llm_down_falls_back_to_offline_with_a_warning(tmp_path, synthetic):
    srv = start_server(
        tmp_path, LIVETRANSLATE_LLM_BASE_URL="http://127.0.0.1:9/v1", LIVETRANSLATE_TRANSLATION_TIMEOUT_S="2",
        LIVETRANSLATE_LLM_RETRIES="1",
    )
    try:
        session = srv.create_session(targets=["es"], translation_engine="llm")
        audio, _ = conversation(synthetic[2:3])
        result = stream(srv, session["id"], pcm16(audio))
        assert len(result.finals) == 1
        warnings = [e for e in result.events if e["type"] == "warning"]
        assert len(warnings) == 1 and warnings[0]["code"] == "translation_fallback"
        assert warnings[0]["engine"] == "llm" and "apertium instead" in warnings[0]["message"]
        [done] = translations(result.events)
        assert done["engine"] == "apertium" and done["text"].startswith("Pienso que")
        metrics = httpx.get(srv.base + "/metrics").text
        assert 'livetranslate_translation_failures_total{engine="llm"} 1.0' in metrics
    finally:
        stop_server(srv)


def test_speech_in_other_languages_is_detected_and_translated(server, foreign):
    session = server.create_session(language=None, languages=["es", "de", "en"], targets=["en"])
    assert session["languages"] == ["es", "de", "en"]
    # espeak-ng's German "Guten Morgen zusammen" is detected as Thai by Whisper base: not used
    audio, _ = conversation([foreign["es"][1], foreign["de"][1]])
    result = stream(server, session["id"], pcm16(audio))
    finals = result.finals
    assert [f["language"] for f in finals] == ["es", "de"], [(f["language"], f["text"]) for f in finals]
    assert "viernes" in finals[0]["text"].lower() and "bericht" in finals[1]["text"].lower()
    done = {t["segment_id"]: t for t in translations(result.events)}
    es, de = done[finals[0]["segment_id"]], done[finals[1]["segment_id"]]
    # es → en has an Apertium pair; de → en only Whisper's speech translation
    assert es["engine"] == "apertium" and es["source_language"] == "es" and "friday" in es["text"].lower()
    assert de["engine"] == "whisper" and de["source_language"] == "de"
    assert detect_language(de["text"])[0] == "en", de["text"]  # base on espeak-ng German: English, not faithful


def test_languages_reflect_what_is_installed(server):
    body = httpx.get(server.base + "/v1/languages").json()
    assert body["asr"]["model"] == "tiny.en" and body["asr"]["detection"] is True
    assert {"code": "de", "name": "German"} in body["asr"]["languages"]
    engines = body["translation"]["engines"]
    assert set(engines) == {"apertium", "whisper"}  # no llm endpoint configured
    pairs = {(p["source"], p["target"]): p["via"] for p in engines["apertium"]["pairs"]}
    assert pairs[("en", "es")] is None and pairs[("en", "fr")] == "es" and pairs[("es", "en")] is None
    assert engines["whisper"]["pairs"] == [{"source": "*", "target": "en", "via": None}]
    assert {"es", "fr", "pt", "it", "ca", "gl", "eo", "en"} <= set(body["translation"]["targets"])


def test_translation_bad_input(server):
    with server.client() as c:
        r = c.post("/v1/sessions", json={"targets": ["es", "de"]})
        assert r.status_code == 422 and "['de']" in r.json()["error"]["message"]
        assert "'es'" in r.json()["error"]["message"]  # what is supported is listed
        r = c.post("/v1/sessions", json={"language": "en", "languages": ["en", "es"]})
        assert r.status_code == 400 and "language: null" in r.json()["error"]["message"]
        r = c.post("/v1/sessions", json={"language": None, "languages": ["en", "xx"]})
        assert r.status_code == 422 and "'xx'" in r.json()["error"]["message"]
        r = c.post("/v1/sessions", json={"targets": ["es", "es"]})
        assert r.status_code == 422 and "twice" in r.json()["error"]["message"]
        r = c.post("/v1/sessions", json={"targets": ["es"], "translation_engine": "llm"})
        assert r.status_code == 422 and "'llm' is not available" in r.json()["error"]["message"]
        r = c.post("/v1/sessions", json={"targets": ["es"], "translation_engine": "deepl"})
        assert r.status_code == 422 and "translation_engine" in r.json()["error"]["message"]
        r = c.post("/v1/sessions", json={"targets": ["es"], "glossary": {"terms": {"": {"es": "x"}}}})
        assert r.status_code == 422 and "glossary" in r.json()["error"]["message"]
        sid = c.post("/v1/sessions", json={"targets": ["es"]}).json()["id"]
        r = c.patch(f"/v1/sessions/{sid}", json={"targets": None})
        assert r.status_code == 400 and "[]" in r.json()["error"]["message"]
        r = c.patch(f"/v1/sessions/{sid}", json={"colour": "red"})
        assert r.status_code == 422
        r = c.patch("/v1/sessions/nope", json={"targets": ["es"]})
        assert r.status_code == 404
        r = c.get(f"/v1/sessions/{sid}/transcript", params={"bilingual": True})
        assert r.status_code == 400 and "needs lang" in r.json()["error"]["message"]
        r = c.get(f"/v1/sessions/{sid}/transcript", params={"lang": "it"})
        assert r.status_code == 404 and "no translation into 'it'" in r.json()["error"]["message"]
        assert c.get(f"/v1/sessions/{sid}/transcript", params={"lang": "es"}).status_code == 200  # a target, empty yet


def test_a_segment_no_engine_translates_is_marked_in_the_export_not_passed_off(server, tmp_path):
    """Detected Italian speech with target Galician (Apertium has en→gl, nothing from it): the
    session warns, and the Galician export shows the Italian lines marked [it], the JSON says
    translation null and why."""
    import subprocess

    from livetranslate.audio import decode_file

    path = tmp_path / "it.wav"
    subprocess.run(["espeak-ng", "-v", "it", "-s", "140", "-w", str(path),
                    "Buongiorno a tutti. Oggi parliamo del bilancio del prossimo trimestre."], check=True)
    session = server.create_session(language=None, targets=["gl"])
    result = stream(server, session["id"], pcm16(decode_file(path)))
    assert result.finals and all(f["language"] == "it" for f in result.finals)
    assert any(e["type"] == "warning" and e["code"] == "unsupported_pair" for e in result.events)
    with server.client() as c:
        txt = c.get(f"/v1/sessions/{session['id']}/transcript", params={"format": "txt", "lang": "gl"}).text
        data = c.get(f"/v1/sessions/{session['id']}/transcript", params={"lang": "gl"}).json()
    assert txt.splitlines() and all(line.startswith("[it] ") for line in txt.splitlines())
    assert data["untranslated"] == len(data["segments"]) and data["translation"] == ""
    assert all(s["translation"] is None and "it→gl" in s["translation_error"] for s in data["segments"])


def test_glossaries_over_the_bounds_are_refused_with_422(server):
    huge = {"terms": {f"term{i}": {"es": "x"} for i in range(2001)}}
    with server.client() as c:
        r = c.post("/v1/sessions", json={"targets": ["es"], "glossary": huge})
        assert r.status_code == 422 and "at most 2000" in r.json()["error"]["message"]
        r = c.patch("/v1/settings", json={"glossary": huge})
        assert r.status_code == 422 and "at most 2000" in r.json()["error"]["message"]
        sid = c.post("/v1/sessions", json={"targets": ["es"]}).json()["id"]
        r = c.patch(f"/v1/sessions/{sid}", json={"glossary": {"keep": ["x" * 300]}})
        assert r.status_code == 422 and "longer than 200" in r.json()["error"]["message"]
        assert c.get(f"/v1/sessions/{sid}").json()["glossary"] is None  # nothing changed
