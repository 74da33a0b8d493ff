"""Stream URLs over REST against the real server: add one, follow its states on the events
socket, read and remove it; bad URLs get 422 with what is allowed, unknown sessions 404."""

from __future__ import annotations

import numpy as np

from tests.conftest import read_events, wer
from tests.sources.servers import Streams


def test_a_url_source_over_rest_and_its_states_on_the_event_stream(server, librivox, tmp_path):
    speech = np.concatenate([np.zeros(8000, np.float32), librivox[2].audio, np.zeros(8000, np.float32)])
    with Streams(speech, tmp_path) as streams, server.client() as c:
        session = server.create_session(title="radio")
        r = c.post(f"/v1/sessions/{session['id']}/sources", json={"url": streams.url("/speech.mp3")})
        assert r.status_code == 201, r.text
        source = r.json()
        assert source["state"] == "connecting" and source["track"] == "" and source["session_id"] == session["id"]
        events, code = read_events(server, session["id"], timeout=60)  # until session.ended
        assert code == 1000
        states = [(e["state"], e["reason"]) for e in events if e["type"] == "source.status"]
        assert states == [("connecting", None), ("live", None), ("ended", "the stream ended")]
        text = " ".join(e["text"] for e in events if e["type"] == "segment" and e["status"] == "final")
        assert wer(librivox[2].text, text) < 0.2
        got = c.get(f"/v1/sessions/{session['id']}/sources/{source['id']}").json()
        assert got["state"] == "ended" and got["reason"] == "the stream ended"
        assert [s["id"] for s in c.get(f"/v1/sessions/{session['id']}/sources").json()] == [source["id"]]
        assert c.delete(f"/v1/sessions/{session['id']}/sources/{source['id']}").status_code == 204
        gone = c.get(f"/v1/sessions/{session['id']}/sources/{source['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


def test_urls_the_server_will_not_read_are_refused_with_what_it_can(server):
    with server.client() as c:
        session = server.create_session()
        for url in ("ftp://example.org/a.mp3", "file:///etc/passwd", "radio.mp3"):
            r = c.post(f"/v1/sessions/{session['id']}/sources", json={"url": url})
            assert r.status_code == 422, r.text
            error = r.json()["error"]
            assert error["code"] == "unsupported_url" and "http://, https://, rtsp://" in error["message"]
        r = c.post("/v1/sessions/nope/sources", json={"url": "http://127.0.0.1:9/a.mp3"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = c.post(f"/v1/sessions/{session['id']}/sources", json={"url": "http://x", "extra": 1})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"
        assert c.post(f"/v1/sessions/{session['id']}/end").status_code == 200
        r = c.post(f"/v1/sessions/{session['id']}/sources", json={"url": "http://127.0.0.1:9/a.mp3"})
        assert r.status_code == 409 and "ended" in r.json()["error"]["message"]
