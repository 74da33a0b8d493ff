"""With API keys asked for, a person opens the dashboard, is asked for a key once, works, and
signs out; the browser keeps an HttpOnly sign-in, never the key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import start_server, stop_server
from tests.web.conftest import Page, browser_with


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


def test_a_person_signs_in_with_a_key_works_and_signs_out(keyed_web, playwright):
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
