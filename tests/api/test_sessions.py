"""Sessions over REST; health and metrics."""

from __future__ import annotations

import json
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import pcm16, read_events


def test_create_get_list_delete(server):
    with server.client() as c:
        r = c.post("/v1/sessions", json={"title": "standup", "language": "en", "targets": []})
        assert r.status_code == 201
        s = r.json()
        assert s["status"] == "created" and s["title"] == "standup" and s["language"] == "en" and s["last_seq"] == 0
        assert c.get(f"/v1/sessions/{s['id']}").json() == s
        empty = c.post("/v1/sessions").json()  # no body at all: defaults
        assert empty["language"] == "en" and empty["targets"] == []
        page = c.get("/v1/sessions", params={"limit": 2}).json()
        assert [i["id"] for i in page["items"]] == [empty["id"], s["id"]]  # newest first
        assert page["total"] >= 2 and page["limit"] == 2
        second = c.get("/v1/sessions", params={"limit": 1, "offset": 1}).json()
        assert second["items"][0]["id"] == s["id"]
        assert c.delete(f"/v1/sessions/{s['id']}").status_code == 204
        assert c.get(f"/v1/sessions/{s['id']}").status_code == 404
        assert c.get(f"/v1/sessions/{empty['id']}/audio").status_code == 404


def test_delete_live_session_closes_its_socket(server, librivox):
    s = server.create_session(title="to delete")
    with connect(f"{server.ws}/v1/sessions/{s['id']}/audio") as ws:
        ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        ws.send(pcm16(librivox[4].audio[:16000]))
        with server.client() as c:
            assert c.delete(f"/v1/sessions/{s['id']}").status_code == 204
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=30)
        assert ws.close_code == 1001 and "deleted" in ws.close_reason
    with server.client() as c:
        assert c.get(f"/v1/sessions/{s['id']}").status_code == 404


def test_delete_closes_the_events_sockets_of_the_session(server):
    s = server.create_session(title="watched")
    seen = {}
    reader = threading.Thread(target=lambda: seen.update(r=read_events(server, s["id"], timeout=60)))
    reader.start()
    time.sleep(1.0)  # the reader is subscribed
    with server.client() as c:
        assert c.delete(f"/v1/sessions/{s['id']}").status_code == 204
    reader.join(30)
    events, code = seen["r"]
    assert events == [] and code == 1001


def test_health_and_metrics(server):
    with server.client() as c:
        assert c.get("/health/live").json() == {"status": "ok"}
        ready = c.get("/health/ready").json()
        assert ready["status"] == "ready" and ready["checks"]["model"].startswith("loaded")
        assert ready["checks"]["translation"] == "apertium, whisper"
        metrics = c.get("/metrics").text
    for name in (
        "livetranslate_audio_seconds_received_total",
        "livetranslate_segments_total",
        "livetranslate_final_latency_seconds_bucket",
        "livetranslate_draft_latency_seconds_bucket",
        "livetranslate_active_sessions",
        "livetranslate_websocket_connections",
        "livetranslate_asr_decode_seconds_bucket",
        "livetranslate_audio_decode_seconds_bucket",
    ):
        assert name in metrics, name


def test_openapi_documents_the_rest_api(server):
    with server.client() as c:
        spec = c.get("/openapi.json").json()
        assert c.get("/docs").status_code == 200
    for path in ("/v1/sessions", "/v1/sessions/{session_id}", "/v1/sessions/{session_id}/transcript",
                 "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/languages", "/health/ready"):
        assert path in spec["paths"], path


def test_ready_is_503_with_reasons_when_the_store_is_unreachable(tmp_path):
    from tests.conftest import start_server, stop_server

    srv = start_server(
        tmp_path,
        LIVETRANSLATE_DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/livetranslate.db",
        LIVETRANSLATE_AUTO_MIGRATE="false",
        wait_ready=False,
    )
    try:
        with srv.client() as c:
            assert c.get("/health/live").status_code == 200
            r = c.get("/health/ready")
        assert r.status_code == 503
        body = r.json()
        assert body["status"] == "not_ready" and body["checks"]["store"] == "unreachable"
        assert any("unable to open database file" in reason for reason in body["reasons"]), body
    finally:
        stop_server(srv)
