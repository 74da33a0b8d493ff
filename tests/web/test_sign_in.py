"""With API keys asked for, a person opens the dashboard, is asked for a key once, works, and
signs out; the browser keeps an HttpOnly sign-in, never the key."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import pcm16, start_server, stop_server
from tests.web.conftest import SHOTS, Page, browser_with


@pytest.fixture(scope="module")
def keyed_web(tmp_path_factory):
    data = tmp_path_factory.mktemp("keyed-web")
    env = {**os.environ, "LIVETRANSLATE_DATA_DIR": str(data)}
    made = subprocess.run([sys.executable, "-m", "livetranslate", "keys", "create", "--tenant", "acme", "--role",
                           "member"], env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    srv = start_server(data, LIVETRANSLATE_AUTH="keys")
    srv.env["key"] = made.stdout.strip()
    yield srv
    stop_server(srv)


def _session_with_captions(srv, librivox) -> str:
    """A session with finals in it, streamed with the key."""
    auth = {"Authorization": f"Bearer {srv.env['key']}"}
    sid = httpx.post(f"{srv.base}/v1/sessions", json={"title": "Shared"}, headers=auth).json()["id"]
    with connect(f"{srv.ws}/v1/sessions/{sid}/audio", additional_headers=auth) as ws:
        ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000}))
        pcm = pcm16(librivox[1].audio)
        for i in range(0, len(pcm), 32000):
            ws.send(pcm[i : i + 32000])
        ws.send(json.dumps({"type": "stop"}))
        with contextlib.suppress(ConnectionClosed):
            while True:
                ws.recv(timeout=60)
    return sid


def test_a_person_signs_in_with_a_key_works_and_signs_out(keyed_web, playwright, librivox):
    browser = browser_with(playwright, None)
    try:
        page = Page(browser)
        page.goto(f"{keyed_web.base}/#/sessions")
        page.wait_for_selector("#sign-in", timeout=15000)  # the sessions list was refused: asked for a key
        page.shot("sign-in")
        page.fill("#api-key", "lt_wrong")
        page.click("#sign-in button[type=submit]")
        page.wait_for_selector("#sign-in-error:not([hidden])")
        assert "refused" in page.inner_text("#sign-in-error")
        page.fill("#api-key", keyed_web.env["key"])
        page.click("#sign-in button[type=submit]")
        page.wait_for_selector("h1:has-text('Sessions')", timeout=15000)  # back where the person was going
        assert page.is_visible("#sign-out") and "member · acme" in page.inner_text("#sign-out")
        page.shot("signed-in")
        cookies = page.context.cookies()
        sign_in = next(c for c in cookies if c["name"] == "lt_session")
        assert sign_in["httpOnly"] and sign_in["sameSite"] == "Strict"
        assert keyed_web.env["key"] not in page.evaluate("document.cookie + JSON.stringify(localStorage) + "
                                                         "JSON.stringify(sessionStorage)")
        share = _session_with_captions(keyed_web, librivox)
        page.goto(f"{keyed_web.base}/#/sessions/{share}")
        page.click("#share-link")
        link = page.input_value("#shared-url")
        assert "#/projector/" in link and "token=ltt_" in link
        page.shot("share-link")
        stranger = browser.new_context()  # someone without a key or a sign-in opens the link
        listener = stranger.new_page()
        listener.goto(link)
        listener.wait_for_selector("#projector .caption", timeout=20000)
        assert listener.query_selector("#sign-in") is None
        listener.screenshot(path=str(SHOTS / "shared-projector.png"))
        stranger.close()
        page.goto(f"{keyed_web.base}/#/live")  # a socket-backed page works signed in
        page.wait_for_selector("#start", timeout=15000)
        page.click("#sign-out")
        page.wait_for_selector("#sign-in", timeout=15000)
        assert not page.is_visible("#sign-out")
        page.goto(f"{keyed_web.base}/#/sessions")  # signed out for good, not just on this page
        page.wait_for_selector("#sign-in", timeout=15000)
        assert page.errors == []
    finally:
        browser.close()
