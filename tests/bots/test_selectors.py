"""Every entry of the Google Meet selectors file parses, and the stand-in Meet has the first
entry of each list (so the stand-in and the adapter cannot drift apart unnoticed)."""

from __future__ import annotations

import re

from livetranslate.bots.gmeet import selectors as sel
from tests.fakemeet import Participant, Scenario
from tests.web.conftest import CHROMIUM, ARGS

AUTOPLAY = ["--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection"]


def test_every_selector_parses_in_the_browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    try:
        page = browser.new_page()
        page.set_content("<p>nothing</p>")
        for name, entries in sel.ALL_PLAYWRIGHT.items():
            assert entries, name
            for s in entries:
                page.locator(s).count()  # raises on a selector Playwright cannot parse
        for name, entries in sel.ALL_CSS.items():
            for s in entries:  # plain CSS: what the page script runs itself
                assert page.evaluate("s => { document.querySelector(s); return true; }", s), (name, s)
        for name, texts in sel.ALL_TEXT.items():
            assert texts and all(t.strip() == t and t for t in texts), name
        for pattern in sel.NOT_A_PERSON:
            re.compile(pattern)
    finally:
        browser.close()


def test_the_stand_in_has_the_first_entry_of_each_list(playwright, meet):
    people = [Participant(id="ana", name="Ana Lima", segments=[(0.0, 30.0)])]
    knock = meet.open("sel-ecto-rsa", Scenario(mode="knock", admit_after_s=0.5, participants=people,
                                               events=[{"t": 1.0, "action": "recording_dialog"}]))
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, *AUTOPLAY])
    try:
        page = browser.new_page()
        page.goto(knock)
        for entry in (sel.NAME_INPUT[0], sel.MIC_OFF[0], sel.CAMERA_OFF[0], sel.JOIN_BUTTONS[0]):
            page.wait_for_selector(entry, timeout=10_000)
        page.fill(sel.NAME_INPUT[0], "Bot")
        page.click(sel.JOIN_BUTTONS[0])
        page.wait_for_function("t => document.body.innerText.includes(t)", arg=sel.WAITING_ROOM[0], timeout=10_000)
        assert any(t in page.inner_text("body") for t in sel.WAITING_ROOM[1:3])
        for entry in (sel.LEAVE[0], sel.IN_CALL[0], sel.PEOPLE_BUTTON[0], sel.TILE, sel.SELF_TILE,
                      f"{sel.TILE} {sel.TILE_NAME[0]}", f".{sel.SPEAKING_CLASSES[0]}", sel.DIALOG[0], sel.DIALOG_OK[0]):
            page.wait_for_selector(entry, state="attached", timeout=15_000)
        assert "recorded" in page.inner_text(sel.DIALOG[0])
        assert page.evaluate("document.querySelectorAll('body > audio').length") == 3
        open_page = browser.new_page()
        open_page.goto(meet.open("sel-ecto-rsb", Scenario(mode="open")))
        open_page.wait_for_selector(sel.JOIN_BUTTONS[1], timeout=10_000)  # an open meeting: "Join now"
        gone = browser.new_page()
        gone.goto(f"{meet.base}/not-ther-eee")
        gone.wait_for_function("t => document.body.innerText.includes(t)", arg=sel.NOT_FOUND[0], timeout=10_000)
    finally:
        browser.close()
