"""The Live page with a stream URL as its source, in Chromium: a person picks "A stream URL",
pastes it and presses Start; captions come as the server reads the stream, its state is
shown, and a URL the server cannot read is said without leaving an empty session."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.conftest import wer
from tests.sources.servers import Streams
from tests.web.conftest import Page, browser_with, finals, stored

FINAL = '#captions .caption[data-status="final"]'


@pytest.fixture(scope="module")
def streams(librivox, tmp_path_factory):
    gap = np.zeros(8000, np.float32)
    speech = np.concatenate([gap, librivox[3].audio, gap, librivox[4].audio, gap])
    with Streams(speech, tmp_path_factory.mktemp("streams")) as s:
        s.text = f"{librivox[3].text} {librivox[4].text}"
        yield s


def _state(page, text: str, timeout: int = 60_000) -> None:
    page.wait_for_function(f"() => document.querySelector('#state')?.textContent === {text!r}", timeout=timeout)


def _sessions(web) -> list[dict]:
    with httpx.Client(base_url=web.base) as c:
        return c.get("/v1/sessions").json()["items"]


def test_a_stream_url_is_captioned_live_and_the_run_ends_with_the_stream(web, playwright, streams):
    browser = browser_with(playwright, None)
    try:
        page = Page(browser)
        page.goto(web.base + "/")
        page.wait_for_selector("#start")
        assert page.is_hidden("#stream-url")
        page.select_option("#source", "url")
        page.fill("#stream-url", streams.url("/hls/index.m3u8"))
        page.fill("#title", "Radio news")
        page.check('input[name="target"][value="es"]')
        page.click("#start")
        _state(page, "Live — from the stream")
        page.wait_for_selector(FINAL, timeout=60_000)
        page.wait_for_function(  # and its Spanish beside it
            f"() => [...document.querySelectorAll('{FINAL} .line[data-lang=es]')].some(l => l.textContent.length > 5)",
            timeout=60_000)
        page.shot("live-stream-url")
        assert page.is_disabled("#stream-url") and page.is_disabled("#source")
        _state(page, "Session ended", timeout=90_000)  # the playlist is over: the session ends
        session_id = page.get_attribute("#links a", "href").rsplit("/", 1)[1]
        shown = finals(page)
        assert shown == [s["text"] for s in stored(web, session_id)]
        assert wer(streams.text, " ".join(shown)) < 0.2
        assert page.is_enabled("#start") and not page.errors
    finally:
        browser.close()


def test_a_url_that_cannot_be_read_is_said_and_leaves_no_session(web, playwright, streams):
    browser = browser_with(playwright, None)
    try:
        page = Page(browser)
        page.goto(web.base + "/")
        page.wait_for_selector("#start")
        before = len(_sessions(web))
        page.select_option("#source", "url")
        page.fill("#stream-url", "ftp://example.org/news.mp3")
        page.click("#start")
        page.wait_for_selector("#problem:not([hidden])")
        assert "cannot be read" in page.text_content("#problem") and "https://" in page.text_content("#problem")
        assert len(_sessions(web)) == before and page.is_enabled("#start")

        page.fill("#stream-url", streams.url("/missing.mp3"))  # read by the server, then refused
        page.click("#start")
        _state(page, "The stream failed")
        assert page.text_content("#problem") == "The server answered 404 Not Found."
        page.wait_for_function("() => !document.querySelector('#start').disabled")  # ready to try another URL
        page.shot("live-stream-url-failed")
        assert page.is_disabled("#stop") and len(_sessions(web)) == before  # nothing came of it: no session kept
        page.wait_for_function("() => !document.querySelector('#links a')")  # nor links to it
        assert not page.errors
    finally:
        browser.close()
