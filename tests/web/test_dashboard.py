"""The dashboard in a real browser: Debian's Chromium driven by Playwright, with a fake
microphone that plays real speech. Screenshots of each page go to test-artifacts/dashboard/."""

from __future__ import annotations

import signal
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest
import srt

from tests.conftest import ARTIFACTS, pcm16, start_server, stop_server, stream, wer

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ARTIFACTS / "dashboard"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory, librivox) -> tuple[Path, str]:
    """What the fake microphone plays (in a loop): one LibriVox recording, then 2 s of silence."""
    clip = librivox[1]
    path = tmp_path_factory.mktemp("mic") / "speech.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm16(np.concatenate([clip.audio, np.zeros(32000, np.float32)])))
    return path, clip.text


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make test` (it installs the test packages)")
    srv = start_server(tmp_path_factory.mktemp("web-server"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        yield p


def _browser(playwright, wav: Path | None):
    args = list(ARGS)
    if wav is not None:
        args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={wav}"]
    else:  # a fake device, but the permission prompt is dismissed: "denied"
        args += ["--use-fake-device-for-media-stream"]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


class Page:
    """A page that fails the test on any uncaught script error."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def __getattr__(self, name):
        return getattr(self.page, name)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _finals(page) -> list[str]:
    return page.eval_on_selector_all('#captions .caption[data-status="final"] .text', "els => els.map(e => e.textContent)")


def test_live_captions_drafts_translations_projector_and_stop(web, playwright, speech_wav):
    wav, text = speech_wav
    browser = _browser(playwright, wav)
    try:
        page = Page(browser)
        page.goto(web.base + "/")
        page.check('input[name="target"][value="es"]')
        page.click("#start")
        # drafts first (provisional, in italics), then the final replaces them in place
        page.wait_for_selector('#captions .caption[data-status="draft"]', timeout=60_000)
        page.wait_for_selector('#captions .caption[data-status="final"]', timeout=60_000)
        assert page.inner_text("#state") == "Live"
        first = page.query_selector('#captions .caption[data-status="final"]')
        assert wer(text, first.query_selector(".text").inner_text()) <= 0.3
        assert first.query_selector(".who").inner_text().startswith("Speaker 1")
        page.wait_for_function(
            "() => document.querySelector('#captions .caption[data-status=final] .line[data-lang=es]')?.textContent.length > 10",
            timeout=30_000,
        )
        # the projector view of the same session, following it live in large type
        session_id = page.get_attribute("#links a", "href").rsplit("/", 1)[1]
        projector = Page(browser)
        projector.goto(f"{web.base}/#/projector/{session_id}?lang=es")
        projector.wait_for_selector("#projector .caption .line[data-lang=es]", timeout=30_000)
        page.wait_for_timeout(3000)
        page.shot("live")
        projector.shot("projector")
        # a look at the Sessions page does not stop the captions
        shown = len(_finals(page))
        page.click('a[data-nav="sessions"]')
        page.wait_for_selector("#sessions")
        page.wait_for_timeout(3000)
        page.click('a[data-nav="live"]')
        page.wait_for_function("() => document.querySelector('#state')?.textContent === 'Live'")
        assert len(_finals(page)) >= shown and page.is_enabled("#stop") and not page.is_enabled("#start")
        page.click("#stop")
        page.wait_for_function("() => document.querySelector('#state').textContent === 'Session ended'", timeout=60_000)
        shown = _finals(page)
        with httpx.Client(base_url=web.base) as c:
            stored = [s["text"] for s in c.get(f"/v1/sessions/{session_id}/transcript").json()["segments"]]
        assert shown == stored  # every final the server kept is on screen, once
        assert page.errors == [] and projector.errors == []
    finally:
        browser.close()


def test_reconnect_after_a_server_restart_resumes_without_duplicates(tmp_path, playwright, speech_wav):
    """The server goes away mid-session (SIGTERM: the session pauses) and comes back on the
    same port: the page reconnects both sockets, the session goes on, nothing twice."""
    wav, _ = speech_wav
    srv = start_server(tmp_path)
    browser = _browser(playwright, wav)
    try:
        page = Page(browser)
        page.goto(srv.base + "/")
        page.click("#start")
        page.wait_for_selector('#captions .caption[data-status="final"]', timeout=60_000)
        before = len(_finals(page))
        srv.process.send_signal(signal.SIGTERM)
        srv.process.wait(60)
        page.wait_for_function("() => document.querySelector('#state').textContent.includes('reconnecting')", timeout=30_000)
        page.shot("reconnecting")
        srv = start_server(tmp_path, port=srv.port)
        page.wait_for_function("() => document.querySelector('#state').textContent === 'Live'", timeout=60_000)
        page.wait_for_function(f"() => document.querySelectorAll('#captions .caption[data-status=final]').length > {before}",
                               timeout=90_000)
        page.click("#stop")
        page.wait_for_function("() => document.querySelector('#state').textContent === 'Session ended'", timeout=60_000)
        session_id = page.get_attribute("#links a", "href").rsplit("/", 1)[1]
        with httpx.Client(base_url=srv.base) as c:
            stored = c.get(f"/v1/sessions/{session_id}/transcript").json()["segments"]
            events = c.get(f"/v1/sessions/{session_id}").json()
        assert events["status"] == "ended"
        shown_ids = page.eval_on_selector_all("#captions .caption", "els => els.map(e => e.dataset.segment)")
        assert len(shown_ids) == len(set(shown_ids))
        assert _finals(page) == [s["text"] for s in stored]
        assert page.errors == []
    finally:
        browser.close()
        stop_server(srv)


@pytest.fixture(scope="module")
def recorded(web, librivox):
    """A finished session with two recordings, streamed over the API."""
    session = web.create_session(title="Board meeting", targets=["es"])
    audio = np.concatenate([librivox[0].audio, np.zeros(24000, np.float32), librivox[2].audio])
    stream(web, session["id"], pcm16(audio), chunk_bytes=32000)
    return session


def test_sessions_search_rename_play_and_export(web, playwright, recorded, tmp_path):
    browser = _browser(playwright, None)
    try:
        page = Page(browser)
        page.goto(f"{web.base}/#/sessions?q=DASHWOOD")  # transcript text, any case
        page.wait_for_selector("#sessions")
        assert "Board meeting" in page.inner_text("#sessions")
        page.shot("sessions")
        page.fill("#search", "no such words anywhere")
        page.press("#search", "Enter")
        page.wait_for_selector("text=No session mentions")
        page.goto(f"{web.base}/#/sessions/{recorded['id']}")
        page.wait_for_selector("#transcript .caption")
        # rename the speaker: the transcript follows
        page.fill("#speakers input", "Narrator")
        page.click("#speakers button")
        page.wait_for_function("() => document.querySelector('#transcript .who')?.textContent.startsWith('Narrator')")
        # play from a line
        page.click("#transcript .caption:nth-child(2) .who button")
        page.wait_for_function("() => !document.querySelector('#audio').paused && document.querySelector('#audio').currentTime > 0")
        # the Spanish view, and an SRT download that parses
        page.select_option("#lang", "es")
        page.wait_for_selector("#transcript .line[data-lang=original]")
        page.shot("session")
        with page.expect_download() as info:
            page.click("#downloads a:text('SRT')")
        path = tmp_path / "t.srt"
        info.value.save_as(path)
        subs = list(srt.parse(path.read_text()))
        assert len(subs) >= 2 and all(s.content.startswith("Narrator: ") for s in subs)
        assert page.errors == []
    finally:
        browser.close()


def test_error_states_are_said_in_words(web, playwright):
    # the microphone is refused
    browser = _browser(playwright, None)
    try:
        page = Page(browser)
        page.goto(web.base + "/")
        with httpx.Client(base_url=web.base) as c:
            sessions_before = c.get("/v1/sessions").json()["total"]
        page.click("#start")
        page.wait_for_selector("#problem:not([hidden])")
        assert "denied" in page.inner_text("#problem")
        assert page.is_enabled("#start")
        page.shot("microphone-denied")
        with httpx.Client(base_url=web.base) as c:  # no empty session was left behind
            assert c.get("/v1/sessions").json()["total"] == sessions_before
        # a session that does not exist
        page.goto(f"{web.base}/#/sessions/nope")
        page.wait_for_selector("[role=alert]")
        assert "does not exist" in page.inner_text("[role=alert]")
        assert page.errors == []
    finally:
        browser.close()


def test_unreachable_server_is_said_in_words(tmp_path, playwright):
    srv = start_server(tmp_path)
    browser = _browser(playwright, None)
    try:
        page = Page(browser)
        page.goto(srv.base + "/")
        page.wait_for_selector("#start")
        stop_server(srv)
        page.goto(srv.base + "/#/sessions")  # the page is cached in memory; its API calls fail
        page.evaluate("location.hash = '#/sessions?q=x'")
        page.wait_for_selector("[role=alert]", timeout=15_000)
        assert "cannot be reached" in page.inner_text("[role=alert]")
        page.shot("unreachable")
    finally:
        browser.close()
        if srv.process.poll() is None:
            stop_server(srv)


def test_phone_width_and_dark_theme(web, playwright, recorded):
    browser = _browser(playwright, None)
    try:
        page = browser.new_page(viewport={"width": 390, "height": 800}, color_scheme="dark")
        for url, ready in ((f"/#/sessions/{recorded['id']}?lang=es", "#transcript .caption"), ("/#/sessions", "#sessions"),
                           ("/#/settings", "#health table"), ("/#/live", "#start")):
            page.goto(f"{web.base}{url}")
            page.wait_for_selector(ready)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url  # nothing runs off the side
        page.goto(f"{web.base}/#/sessions/{recorded['id']}")
        page.wait_for_selector("#transcript .caption")
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(17, 19, 24)"
        page.screenshot(path=str(SHOTS / "session-phone-dark.png"), full_page=True)
        # keyboard: the nav and the controls are reachable with Tab
        page.goto(web.base + "/")
        page.wait_for_selector("#start")
        seen = set()
        for _ in range(30):
            page.keyboard.press("Tab")
            seen.add(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        assert {"Sessions", "Settings", "source", "language", "start"} <= seen
    finally:
        browser.close()


def test_settings_persist_across_a_restart_and_health_shows(tmp_path, playwright):
    srv = start_server(tmp_path)
    browser = _browser(playwright, None)
    try:
        page = Page(browser)
        page.goto(srv.base + "/#/settings")
        page.wait_for_selector("#health #ready")
        assert page.inner_text("#health #ready") == "Ready"
        page.check('input[name="default-target"][value="fr"]')
        page.fill("#glossary-keep", "Acme")
        page.fill("#glossary-terms", "standup = es: reunión diaria")
        page.click("#save")
        page.wait_for_selector("#saved:text('Saved')")
        # a glossary line a person got wrong is explained, nothing is sent
        page.fill("#glossary-terms", "standup")
        page.click("#save")
        page.wait_for_selector("#saved.error")
        page.shot("settings")
        stop_server(srv)
        srv = start_server(tmp_path, port=srv.port)
        page.reload()  # the page as a person opens it again
        page.wait_for_selector("#defaults")
        assert page.is_checked('input[name="default-target"][value="fr"]')
        assert page.input_value("#glossary-keep") == "Acme"
        assert "reunión diaria" in page.input_value("#glossary-terms")
        # the Live page starts from them
        page.goto(srv.base + "/#/live")
        page.wait_for_selector("#start")
        assert page.is_checked('input[name="target"][value="fr"]')
        assert page.errors == []
    finally:
        browser.close()
        stop_server(srv)


def test_an_unsupported_language_pair_is_said_in_words_and_the_overlay_is_transparent(web, playwright, speech_wav, recorded):
    wav, _ = speech_wav
    browser = _browser(playwright, wav)
    try:
        page = Page(browser)
        page.goto(web.base + "/")
        with httpx.Client(base_url=web.base) as c:
            sessions_before = c.get("/v1/sessions").json()["total"]
        page.select_option("#language", "de")  # German speech: no engine here translates it into Catalan
        page.check('input[name="target"][value="ca"]')
        page.click("#start")
        page.wait_for_selector("#problem:not([hidden])")
        assert "cannot translate German into Catalan" in page.inner_text("#problem") and page.is_enabled("#start")
        page.shot("unsupported-language")
        with httpx.Client(base_url=web.base) as c:
            assert c.get("/v1/sessions").json()["total"] == sessions_before
        # the OBS overlay: captions on a transparent page, no header
        page.goto(f"{web.base}/#/projector/{recorded['id']}?overlay=1")
        page.wait_for_selector("#projector")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
        assert not page.is_visible("#bar")
        assert page.errors == []
    finally:
        browser.close()


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(css: str) -> float:
        r, g, b = (int(x) / 255 for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_readable_in_both_themes(web, playwright, recorded, scheme):
    """Body text, muted text, provisional (draft) captions and links: WCAG AA (4.5:1) or better."""
    browser = _browser(playwright, None)
    try:
        page = browser.new_page(color_scheme=scheme)
        page.goto(f"{web.base}/#/sessions/{recorded['id']}")
        page.wait_for_selector("#transcript .caption")
        colours = page.evaluate("""() => {
            const v = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
            const probe = document.createElement('span'); document.body.append(probe);
            const rgb = (c) => { probe.style.color = c; return getComputedStyle(probe).color; };
            return {bg: rgb(v('--bg')), card: rgb(v('--card')), fg: rgb(v('--fg')), muted: rgb(v('--muted')),
                    draft: rgb(v('--draft')), accent: rgb(v('--accent')), danger: rgb(v('--danger'))};
        }""")
        for fg, bg in (("fg", "bg"), ("muted", "bg"), ("draft", "card"), ("accent", "bg"), ("danger", "bg"), ("fg", "card")):
            assert _contrast(colours[fg], colours[bg]) >= 4.5, (scheme, fg, bg, colours)
    finally:
        browser.close()
