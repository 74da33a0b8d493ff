"""Language codes in any case (and with spaces around them) are accepted everywhere they come
in, and stored lower case."""

from __future__ import annotations

import httpx
import openai

from tests.conftest import encode


def test_session_codes_in_any_case_are_stored_lower_case(server):
    with httpx.Client(base_url=server.base, timeout=60) as c:
        r = c.post("/v1/sessions", json={"language": " EN ", "targets": ["ES", " Fr"]})
        assert r.status_code == 201, r.text
        session = r.json()
        assert (session["language"], session["targets"]) == ("en", ["es", "fr"])
        r = c.patch(f"/v1/sessions/{session['id']}", json={"targets": ["It", "es "]})
        assert r.status_code == 200, r.text
        stored = c.get(f"/v1/sessions/{session['id']}").json()
        assert (stored["language"], stored["targets"]) == ("en", ["it", "es"])


def test_detection_languages_in_any_case(server):
    with httpx.Client(base_url=server.base, timeout=60) as c:
        r = c.post("/v1/sessions", json={"language": None, "languages": ["ES", "De"], "targets": ["EN"]})
        assert r.status_code == 201, r.text
        assert (r.json()["languages"], r.json()["targets"]) == (["es", "de"], ["en"])


def test_transcript_lang_in_any_case(server):
    session = server.create_session(language="en", targets=["es"])
    with httpx.Client(base_url=server.base, timeout=60) as c:
        upper = c.get(f"/v1/sessions/{session['id']}/transcript", params={"lang": "ES", "format": "srt"})
        lower = c.get(f"/v1/sessions/{session['id']}/transcript", params={"lang": "es", "format": "srt"})
    assert upper.status_code == 200, upper.text
    assert upper.content == lower.content and upper.headers["content-disposition"] == lower.headers["content-disposition"]
    assert ".es.srt" in upper.headers["content-disposition"]


def test_settings_defaults_in_any_case(server):
    with httpx.Client(base_url=server.base, timeout=60) as c:
        before = c.get("/v1/settings").json()["defaults"]
        try:
            r = c.patch("/v1/settings", json={"language": "ES", "targets": [" EN"]})
            assert r.status_code == 200, r.text
            assert (r.json()["defaults"]["language"], r.json()["defaults"]["targets"]) == ("es", ["en"])
            created = c.post("/v1/sessions", json={"title": "from the defaults"}).json()
            assert (created["language"], created["targets"]) == ("es", ["en"])
        finally:
            restored = c.patch("/v1/settings", json={"language": before["language"], "targets": before["targets"]})
            assert restored.status_code == 200, restored.text


def test_openai_language_in_any_case(server, foreign):
    client = openai.OpenAI(base_url=server.base + "/v1", api_key="not-needed", max_retries=0)
    clip = foreign["es"][1]
    result = client.audio.transcriptions.create(
        model="whisper-1", file=("es.wav", encode(clip.audio, "wav")), language="ES", response_format="verbose_json"
    )
    assert result.language == "es" and "viernes" in result.text.lower(), result.text
