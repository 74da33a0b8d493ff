"""The Live page in Chromium with a fake microphone, used the way a person does: reloading
mid-run and rejoining, a second tab following, targets and title changed during the run,
Space to start and stop, the caption delay, a translation that no engine can make said in
its column, and the "Translate into" box at phone width."""

from __future__ import annotations

import wave

import httpx
import numpy as np
import pytest

from tests.conftest import conversation, pcm16, stream
from tests.web.conftest import SHOTS, Page, browser_with, finals, stored, wait_paused

FINAL = '#captions .caption[data-status="final"]'


class _Tabs:
    """Tabs of one browser window (they share localStorage), for the Page wrapper."""

    def __init__(self, browser):
        self.context = browser.new_context()

    def new_page(self, viewport):
        page = self.context.new_page()
        page.set_viewport_size(viewport)
        return page


def _session(web, session_id: str) -> dict:
    with httpx.Client(base_url=web.base) as c:
        return c.get(f"/v1/sessions/{session_id}").json()


def _session_id(page) -> str:
    return page.get_attribute("#links a", "href").rsplit("/", 1)[1]


def _more_finals(page, than: int, timeout: int = 90_000) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('{FINAL}').length > {than}", timeout=timeout)


def _state(page, text: str, timeout: int = 60_000) -> None:
    page.wait_for_function(f"() => document.querySelector('#state')?.textContent === {text!r}", timeout=timeout)


def _shown_once_and_stored(page, web, session_id: str) -> None:
    shown_ids = page.eval_on_selector_all("#captions .caption", "els => els.map(e => e.dataset.segment)")
    assert len(shown_ids) == len(set(shown_ids))  # no segment twice
    kept = stored(web, session_id)
    assert finals(page) == [s["text"] for s in kept]  # the screen is the stored transcript


def test_reload_mid_run_offers_rejoin_and_the_same_session_goes_on(web, playwright, speech_wav):
    wav, _ = speech_wav
    browser = browser_with(playwright, wav)
    try:
        tabs = _Tabs(browser)
        page = Page(tabs)
        page.goto(web.base + "/")
        tab = Page(tabs)  # a second tab of the same browser, open before the run starts
        tab.goto(web.base + "/")
        tab.wait_for_selector("#start")
        page.fill("#title", "Weekly sync")
        page.click("#start")
        page.wait_for_selector(FINAL, timeout=60_000)
        session_id = _session_id(page)
        assert _session(web, session_id)["title"] == "Weekly sync"
        # what cannot change during a run is disabled; targets and title stay open
        assert page.is_disabled("#language") and page.is_disabled("#source") and page.is_disabled("#start")
        assert page.is_enabled('input[name="target"][value="es"]') and page.is_enabled("#title")
        page.wait_for_function(r"() => /^delay \d+\.\d s$/.test(document.querySelector('#delay').textContent)")

        # the open tab learns of the run; another browser profile opening the page sees it too
        offer = f'#offers .offer[data-session="{session_id}"]'
        tab.wait_for_selector(offer)
        assert tab.query_selector(f"{offer} .rejoin") is None and tab.is_enabled("#start")
        other = Page(browser)
        other.goto(web.base + "/")
        other.wait_for_selector(offer)
        assert "Weekly sync" in other.inner_text(offer) and other.query_selector(f"{offer} .rejoin") is None
        other.click(f"{offer} .follow")
        other.wait_for_selector(FINAL, timeout=30_000)
        assert other.is_disabled("#start") and other.is_disabled('input[name="target"][value="es"]')
        assert other.inner_text("#stop") == "Stop following"
        other.shot("live-follower")

        # the page is reloaded mid-run: it offers to rejoin the run, which goes on in the same session
        page.reload()
        page.wait_for_selector(f"{offer} .rejoin")
        page.shot("live-rejoin-offer")
        assert page.inner_text("#state") == "Ready"
        page.click(f"{offer} .rejoin")
        _state(page, "Live")
        before = len(stored(web, session_id))
        page.wait_for_selector(FINAL)  # the captions so far, from the events socket
        _more_finals(page, before)  # and new ones, captured after the reload
        assert _session_id(page) == session_id and page.input_value("#title") == "Weekly sync"
        page.shot("live-rejoined")
        page.click("#stop")
        _state(page, "Session ended")
        _shown_once_and_stored(page, web, session_id)
        starts = [s["start"] for s in stored(web, session_id)]
        assert starts == sorted(starts)  # one timeline: the rejoined audio continues it
        _state(other, "Session ended")
        assert finals(other) == finals(page)
        assert page.errors == [] and other.errors == [] and tab.errors == []
    finally:
        browser.close()


def test_space_starts_and_stops_and_targets_and_title_change_during_the_run(web, playwright, speech_wav):
    wav, _ = speech_wav
    browser = browser_with(playwright, wav)
    try:
        page = Page(browser)
        page.goto(web.base + "/")
        page.wait_for_selector("#start")
        assert "Space" in page.get_attribute("#start", "title")
        page.keyboard.press("Space")
        page.wait_for_selector(FINAL, timeout=60_000)
        session_id = _session_id(page)
        first = page.get_attribute(FINAL, "data-segment")
        assert page.query_selector(f'{FINAL} .line[data-lang="es"]') is None

        # a new target: the session translates later segments into it, in a new column
        with page.expect_response(lambda r: r.request.method == "PATCH" and r.url.endswith(f"/v1/sessions/{session_id}")) as patched:
            page.check('input[name="target"][value="es"]')
        assert "es" in patched.value.json()["targets"] and "es" in _session(web, session_id)["targets"]
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{FINAL} .line[data-lang=es]')].some(l => l.dataset.status === 'final' && l.textContent.length > 5)",
            timeout=90_000,
        )
        assert page.query_selector(f'.caption[data-segment="{first}"] .line[data-lang="es"]') is None
        # and a title, given during the run
        page.fill("#title", "Renamed while live")
        with page.expect_response(lambda r: r.request.method == "PATCH" and r.url.endswith(f"/v1/sessions/{session_id}")):
            page.press("#title", "Enter")
        assert _session(web, session_id)["title"] == "Renamed while live"
        page.shot("live-target-added")

        page.click("h1")  # focus leaves the fields: Space is the shortcut again
        page.keyboard.press("Space")
        _state(page, "Session ended")
        assert page.is_enabled("#start") and page.is_enabled("#language")
        translated = [s for s in stored(web, session_id, "es") if s.get("translation")]
        assert translated, "no segment after the change was translated into Spanish"
        _shown_once_and_stored(page, web, session_id)
        assert page.errors == []
    finally:
        browser.close()


def test_a_paused_session_is_resumed_from_its_link(web, playwright, speech_wav, librivox):
    """The Sessions page's Resume sends people to #/live?session=ID."""
    wav, _ = speech_wav
    session = web.create_session(title="Left paused", targets=[])
    stream(web, session["id"], pcm16(librivox[0].audio), chunk_bytes=32000, stop=False)  # the network failed
    wait_paused(web, session["id"])
    before = len(stored(web, session["id"]))
    browser = browser_with(playwright, wav)
    try:
        page = Page(browser)
        page.goto(f"{web.base}/#/live?session={session['id']}")
        page.wait_for_selector("#offers .offer .rejoin")
        assert page.eval_on_selector_all("#offers .offer", "els => els.length") == 1
        assert page.evaluate("document.activeElement.classList.contains('rejoin')")
        page.keyboard.press("Enter")
        _state(page, "Live")
        _more_finals(page, before)
        page.click("#stop")
        _state(page, "Session ended")
        _shown_once_and_stored(page, web, session["id"])
        # a session that does not exist is said in words
        page.goto(f"{web.base}/#/live?session=nope")
        page.wait_for_selector("#problem:not([hidden])")
        assert "does not exist" in page.inner_text("#problem")
        assert page.errors == []
    finally:
        browser.close()


@pytest.fixture(scope="module")
def german_wav(tmp_path_factory, foreign):
    audio, _ = conversation([foreign["de"][1]], gap_s=1.5)  # the sentence Whisper base tells is German
    path = tmp_path_factory.mktemp("mic-de") / "de.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm16(np.concatenate([audio, np.zeros(16000, np.float32)])))
    return path


def test_a_translation_no_engine_can_make_is_said_in_its_column(web, playwright, german_wav):
    """Detected German: nothing here translates German into Spanish; the column says so."""
    with httpx.Client(base_url=web.base) as c:  # synthetic speech: no echo cancellation or noise suppression
        assert c.patch("/v1/settings", json={"echo_cancellation": False, "noise_suppression": False, "auto_gain": False}).status_code == 200
    browser = browser_with(playwright, german_wav)
    try:
        page = Page(browser)
        page.goto(web.base + "/")
        page.select_option("#language", "")  # Detect automatically
        page.check('input[name="target"][value="es"]')
        page.click("#start")
        unavailable = f'{FINAL} .line[data-lang="es"][data-status="unavailable"]'
        page.wait_for_function(f"() => document.querySelectorAll('{unavailable}').length >= 2", timeout=180_000)
        assert "not available for this language" in page.inner_text(unavailable)
        assert page.is_hidden("#toast")  # said in the column, not in a toast
        page.click("#help summary")
        page.shot("live-unavailable")
        page.set_viewport_size({"width": 390, "height": 800})
        page.emulate_media(color_scheme="dark")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.shot("live-unavailable-phone-dark")
        legend = page.inner_text("#help")
        assert "Grey italics" in legend and "told apart by voice" in legend and "may still change" in legend
        page.click("#stop")
        _state(page, "Session ended")
        assert page.errors == []
    finally:
        browser.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_language_of_the_translate_box_shows_at_phone_width(web, playwright, scheme):
    browser = browser_with(playwright, None)
    try:
        page = browser.new_page(viewport={"width": 390, "height": 800}, color_scheme=scheme)
        for url, name in (("/#/live", "target"), ("/#/settings", "default-target")):
            page.goto(web.base + url)
            page.wait_for_selector(f'input[name="{name}"]')
            boxes = page.query_selector_all(f'input[name="{name}"]')
            assert len(boxes) >= 7
            for box in boxes:  # inside the viewport, and whole: no part hidden by a box that clips it
                seen = page.evaluate("""(box) => {
                    const r = box.getBoundingClientRect();
                    window.scrollTo(0, window.scrollY + r.top - 200);
                    const s = box.getBoundingClientRect();
                    const corners = [[s.left + 1, s.top + 1], [s.right - 1, s.top + 1], [s.left + 1, s.bottom - 1], [s.right - 1, s.bottom - 1]];
                    const hit = corners.every(([x, y]) => document.elementFromPoint(x, y) === box);
                    return {left: s.left, right: s.right, width: s.width, hit};
                }""", box)
                assert seen["left"] >= 0 and seen["right"] <= 390 and seen["width"] > 0, (url, seen)
                assert seen["hit"], (url, box.get_attribute("value"))
            page.screenshot(path=str(SHOTS / f"translate-box-{url.strip('/#')}-phone-{scheme}.png"), full_page=True)
    finally:
        browser.close()


def test_the_spoken_language_cannot_be_ticked_as_a_target(web, playwright):
    """The server refuses a target equal to the spoken language (422): the boxes say so first."""
    browser = browser_with(playwright, None)
    try:
        page = Page(browser)
        for url, select, name in (("/#/live", "#language", "target"), ("/#/sessions", "#upload-language", "upload-target"),
                                  ("/#/settings", "#default-language", "default-target")):
            page.goto(web.base + url)
            page.wait_for_selector(f'input[name="{name}"][value="es"]')
            page.select_option(select, "en")
            assert page.is_disabled(f'input[name="{name}"][value="en"]') and page.is_enabled(f'input[name="{name}"][value="es"]')
            page.check(f'input[name="{name}"][value="es"]')
            page.select_option(select, "es")  # now Spanish is spoken: its box is cleared and locked, English opens
            assert page.is_disabled(f'input[name="{name}"][value="es"]') and not page.is_checked(f'input[name="{name}"][value="es"]')
            assert page.is_enabled(f'input[name="{name}"][value="en"]')
            assert "spoken language" in page.get_attribute(f'label:has(input[name="{name}"][value="es"])', "title")
        page.shot("targets-spoken-locked")
        assert page.errors == []
    finally:
        browser.close()
