"""The OpenAPI document tells what the running server really does: every operation described,
every error it answers declared with the one error body, and schemathesis, driving the real
server from the document, finds no response that contradicts it and no 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import encode, pcm16, start_server, stop_server, stream

# A bounded run for the suite (~30 s on 2 busy cores); by hand, more: LIVETRANSLATE_ST_EXAMPLES=500
EXAMPLES = int(os.environ.get("LIVETRANSLATE_ST_EXAMPLES", "15"))

# What cannot be checked, and why:
# - positive_data_acceptance (off): the server refuses, with a declared 400/415/422, values no schema
#   can express: languages and pairs that depend on what is installed, audio that does not decode,
#   a caption whose end is before its time, a speaker merged into itself, bilingual without lang.
# - ensure_resource_availability on a session's audio and speakers: a session just created has no
#   recording and no speakers yet, so their 404 is the truth, not a lost resource.
# - The WebSockets (/v1/sessions/{id}/audio and /events) are not in OpenAPI; tests/api/test_streaming.py
#   and the protocol page cover them.
# Speakers and voiceprints are reached through a real recorded session and a real enrolled voice
# (random ids would only ever meet 404).
CONFIG = """
workers = 1
seed = 20261201
request-timeout = 60

[generation]
max-examples = {examples}

[checks.positive_data_acceptance]
enabled = false

[[operations]]
include-path-regex = "^/v1/sessions/[{{]session_id[}}]/(audio|speakers/)"
checks.ensure_resource_availability.enabled = false

[[operations]]
include-path-regex = "^/v1/sessions/[{{]session_id[}}]/(speakers|audio|transcript)"
parameters = {{ session_id = "{session_id}", speaker_id = "S1" }}

[[operations]]
include-path-regex = "^/v1/voiceprints/[{{]voiceprint_id[}}]"
parameters = {{ voiceprint_id = "{voiceprint_id}" }}
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """A server of its own: the fuzzing creates sessions and changes the defaults of new ones."""
    srv = start_server(tmp_path_factory.mktemp("openapi-server"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def recorded(api, librivox) -> dict:
    """A session with a recording and a speaker, and an enrolled voice, for the fuzzer to reach."""
    session = api.create_session(title="Fuzzed", targets=["es"])
    stream(api, session["id"], pcm16(librivox[0].audio), chunk_bytes=32000)
    with api.client() as c:
        assert [s["id"] for s in c.get(f"/v1/sessions/{session['id']}/speakers").json()] == ["S1"]
        wav = encode(np.concatenate([c.audio for c in librivox[1:]]), "wav", rate=16000, channels=1)  # > 4 s of speech
        voice = c.post("/v1/voiceprints", data={"name": "Reader"}, files={"file": ("r.wav", wav)})
        assert voice.status_code == 201, voice.text
    return {"session_id": session["id"], "voiceprint_id": voice.json()["id"]}


@pytest.fixture(scope="module")
def document(api) -> dict:
    return httpx.get(api.base + "/openapi.json").json()


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            yield f"{method.upper()} {path}", op


def test_every_operation_is_summarised_described_and_tagged(document):
    tags = {t["name"] for t in document["tags"]}
    for name, op in _operations(document):
        assert op.get("summary") and op.get("description"), f"{name} is not described"
        assert op.get("tags") and set(op["tags"]) <= tags, f"{name}: tags {op.get('tags')} not among {tags}"


def test_every_error_is_the_error_body(document):
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["ErrorBody"]["properties"]) == {"error"}
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message", "type"}
    for name, op in _operations(document):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and not name.startswith("GET /health"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorBody", f"{name} {status}: {ref}"
                assert "`" in response["description"], f"{name} {status} names no error code"


def test_the_errors_each_route_raises_are_declared(document):
    declared = lambda name: set(dict(_operations(document))[name]["responses"])  # noqa: E731
    assert {"404", "409", "400", "422", "413"} <= declared("PATCH /v1/sessions/{session_id}")
    assert {"400", "413", "415", "422", "503"} <= declared("POST /v1/audio/transcriptions")
    assert {"400", "409", "413", "415", "422"} <= declared("POST /v1/voiceprints")
    assert {"404", "416"} <= declared("GET /v1/sessions/{session_id}/audio")
    assert "503" in declared("GET /health/ready")


def test_languages_and_settings_have_a_schema(document):
    for path in ("/v1/languages", "/v1/settings"):
        ok = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok.get("$ref", "").startswith("#/components/schemas/"), f"{path}: {ok}"


def test_the_protocol_page_is_served_and_linked_from_the_docs(api, document):
    assert "(/docs/protocol)" in document["info"]["description"]
    r = httpx.get(api.base + "/docs/protocol")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<h2>Audio socket: <code>WS /v1/sessions/{id}/audio</code></h2>" in r.text
    assert "<table>" in r.text and "<script" not in r.text


def test_an_api_path_with_another_method_is_405_with_its_methods(api):
    r = httpx.request("TRACE", api.base + "/v1/settings")
    assert r.status_code == 405 and r.headers["allow"] == "GET, PATCH"
    assert r.json()["error"]["code"] == "http_405"
    r = httpx.get(api.base + "/v1/audio/transcriptions")  # not a dashboard file: the API's path
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = httpx.options(api.base + "/v1/voiceprints/verify")  # the literal path's, not /{voiceprint_id}'s
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_schemathesis_finds_no_response_that_contradicts_the_schema(api, recorded, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(examples=EXAMPLES, **recorded))
    st = Path(sys.executable).with_name("st")
    run = subprocess.run(
        # every check is on unless CONFIG turns it off (naming checks here would override CONFIG)
        [str(st), "--config-file", str(config), "--no-color", "run", f"{api.base}/openapi.json"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-12000:]
    assert "Tested: " in out and " passed" in out, out[-3000:]


def test_a_repeated_query_parameter_is_refused_not_the_last_one_taken(api):
    r = httpx.get(api.base + "/v1/sessions?limit=5&offset=0&offset=7")
    assert r.status_code == 422 and r.json()["error"]["message"] == "query.offset: given 2 times; give it once"
    assert httpx.get(api.base + "/v1/sessions?limit=5&offset=7").json()["offset"] == 7
