"""The dashboard in a real browser: Debian's Chromium driven by Playwright, with a fake
microphone that plays real speech. Screenshots of each page go to test-artifacts/dashboard/."""

from __future__ import annotations

import signal

import httpx
import pytest
import srt

from tests.conftest import start_server, stop_server, wer
from tests.web.conftest import SHOTS, Page, browser_with, contrast, finals


def test_live_captions_drafts_translations_projector_and_stop(web, playwright, speech_wav):
    wav, text = speech_wav
    browser = browser_with(playwright, wav)
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
        shown = len(finals(page))
        page.click('a[data-nav="sessions"]')
        page.wait_for_selector("#sessions")
        page.wait_for_timeout(3000)
        page.click('a[data-nav="live"]')
        page.wait_for_function("() => document.querySelector('#state')?.textContent === 'Live'")
        assert len(finals(page)) >= shown and page.is_enabled("#stop") and not page.is_enabled("#start")
        page.click("#stop")
        page.wait_for_function("() => document.querySelector('#state').textContent === 'Session ended'", timeout=60_000)
        shown = finals(page)
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
    browser = browser_with(playwright, wav)
    try:
        page = Page(browser)
        page.goto(srv.base + "/")
        page.click("#start")
        page.wait_for_selector('#captions .caption[data-status="final"]', timeout=60_000)
        before = len(finals(page))
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
        assert finals(page) == [s["text"] for s in stored]
        assert page.errors == []
    finally:
        browser.close()
        stop_server(srv)


def test_sessions_search_rename_play_and_export(web, playwright, recorded, tmp_path):
    browser = browser_with(playwright, None)
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
    browser = browser_with(playwright, None)
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
    browser = browser_with(playwright, None)
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
    browser = browser_with(playwright, None)
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
    browser = browser_with(playwright, None)
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
        # your limits, and the change in the audit log (an open server's: no key did it)
        assert "Sessions live at once\t0 (no limit)" in page.inner_text("#limits")
        page.wait_for_selector("#audit-log")
        row = page.inner_text("#audit-log tbody tr:first-child")
        assert "settings.change" in row and "open server" in row and "Acme" in row, row
        page.shot("settings-limits-audit")
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
    browser = browser_with(playwright, wav)
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_readable_in_both_themes(web, playwright, recorded, scheme):
    """Body text, muted text, provisional (draft) captions, links and every speaker's colour (names
    on the caption card): WCAG AA (4.5:1) or better."""
    browser = browser_with(playwright, None)
    try:
        page = browser.new_page(color_scheme=scheme)
        page.goto(f"{web.base}/#/sessions/{recorded['id']}")
        page.wait_for_selector("#transcript .caption")
        colours = page.evaluate("""() => {
            const v = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
            const probe = document.createElement('span'); document.body.append(probe);
            const rgb = (c) => { probe.style.color = c; return getComputedStyle(probe).color; };
            return {bg: rgb(v('--bg')), card: rgb(v('--card')), fg: rgb(v('--fg')), muted: rgb(v('--muted')),
                    draft: rgb(v('--draft')), accent: rgb(v('--accent')), danger: rgb(v('--danger')),
                    speakers: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => rgb(v(`--spk-${n}`)))};
        }""")
        for fg, bg in (("fg", "bg"), ("muted", "bg"), ("draft", "card"), ("accent", "bg"), ("danger", "bg"), ("fg", "card")):
            assert contrast(colours[fg], colours[bg]) >= 4.5, (scheme, fg, bg, colours)
        assert len(set(colours["speakers"])) == 8  # eight distinct colours, all defined
        for n, colour in enumerate(colours["speakers"], 1):
            assert contrast(colour, colours["card"]) >= 4.5, (scheme, f"--spk-{n}", colour, colours["card"])
        # and as drawn: the name on a caption card
        who, card = page.eval_on_selector("#transcript .caption .who", "e => [getComputedStyle(e).color, getComputedStyle(e.closest('.caption')).backgroundColor]")
        assert contrast(who, card) >= 4.5, (scheme, who, card)
    finally:
        browser.close()
