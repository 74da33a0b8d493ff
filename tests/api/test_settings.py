"""Defaults for new sessions, changed over REST: checked, applied at once, kept across a restart."""

from __future__ import annotations

from tests.conftest import start_server, stop_server


def test_defaults_apply_to_new_sessions_and_survive_a_restart(tmp_path):
    srv = start_server(tmp_path)
    try:
        with srv.client() as c:
            got = c.get("/v1/settings").json()
            assert got["defaults"]["language"] == "en" and got["defaults"]["targets"] == []
            assert got["server"]["model"] == "tiny.en" and "apertium" in got["server"]["translation_engines"]
            r = c.patch("/v1/settings", json={"targets": ["es", "fr"], "glossary": {"keep": ["Acme"]}, "noise_suppression": False})
            assert r.status_code == 200, r.text
            session = c.post("/v1/sessions", json={"title": "uses the defaults"}).json()
            assert session["targets"] == ["es", "fr"] and session["glossary"] == {"terms": {}, "keep": ["Acme"]}
            explicit = c.post("/v1/sessions", json={"targets": []}).json()
            assert explicit["targets"] == []  # what a request says wins
            # bad input: refused with reasons, nothing changed
            r = c.patch("/v1/settings", json={"targets": ["xx"]})
            assert r.status_code == 422 and "xx" in r.json()["error"]["message"]
            r = c.patch("/v1/settings", json={"language": "klingon"})
            assert r.status_code == 422
            r = c.patch("/v1/settings", json={"colour": "blue"})
            assert r.status_code == 422 and "colour" in r.json()["error"]["message"]
            assert c.get("/v1/settings").json()["defaults"]["targets"] == ["es", "fr"]
        stop_server(srv)
        srv = start_server(tmp_path)
        with srv.client() as c:
            defaults = c.get("/v1/settings").json()["defaults"]
            assert defaults["targets"] == ["es", "fr"] and defaults["noise_suppression"] is False
            assert c.post("/v1/sessions", json={}).json()["targets"] == ["es", "fr"]
            # null puts a list back to empty
            assert c.patch("/v1/settings", json={"targets": None}).json()["defaults"]["targets"] == []
            # a session's glossary and the default one, together, are bounded as one glossary is
            assert c.patch("/v1/settings", json={"glossary": {"keep": [f"Name{i}" for i in range(1500)]}}).status_code == 200
            r = c.post("/v1/sessions", json={"glossary": {"keep": [f"Other{i}" for i in range(600)]}})
            assert r.status_code == 422 and "with the default glossary added" in r.json()["error"]["message"]
    finally:
        stop_server(srv)
