"""The dashboard's Bots page, in Chromium, as a person uses it: paste a meeting link, name the
bot, Send bot; its states appear as they happen with its captions; Leave ends it."""

from __future__ import annotations

import time

import httpx

from tests.bots.conftest import SHOTS, script
from tests.fakemeet import Scenario
from tests.web.conftest import Page, browser_with, finals


def test_a_person_sends_a_bot_follows_it_and_makes_it_leave(bot_server, meet, playwright, librivox, tmp_path):
    call = script(tmp_path, [("ana", "Ana Lima", librivox[0]), ("bob", "Bob Stone", librivox[1])])
    url = meet.open("das-hboa-rdd", Scenario(mode="knock", admit_after_s=2.0, participants=call.participants))
    browser = browser_with(playwright, None)
    try:
        page = Page(browser)
        page.goto(bot_server.base + "/#/bots")
        page.fill("#meeting-url", "https://zoom.us/j/123456")
        page.click("#send-bot")
        page.wait_for_selector("#bot-problem:not([hidden])")
        assert "Zoom meetings are not supported yet" in page.text_content("#bot-problem")
        page.fill("#meeting-url", url)
        page.fill("#bot-name", "Minutes")
        page.click("#send-bot")
        page.wait_for_selector("#bot-timeline li[data-state='in_waiting_room']", timeout=60_000)
        page.shot("bot-waiting", SHOTS)
        page.wait_for_selector("#bot-state[data-state='in_call_recording']", timeout=60_000)
        time.sleep(call.lines[-1].end + 4)
        page.wait_for_function("() => document.querySelectorAll('#captions .caption[data-status=final]').length >= 2",
                               timeout=30_000)
        page.shot("bot-captioning", SHOTS)
        heard = " ".join(finals(page))
        assert "Ana Lima" in page.text_content("#captions") or "Bob Stone" in page.text_content("#captions"), heard
        page.click("#leave-bot")
        page.wait_for_selector("#bot-state[data-state='done']", timeout=30_000)
        assert page.is_hidden("#leave-bot")
        assert "bot received leave call" in page.text_content("#bot-timeline")
        page.wait_for_selector("#bot-shots img", timeout=10_000)
        page.shot("bot-done", SHOTS)
        page.goto(bot_server.base + "/#/bots")
        page.wait_for_selector("#bots tr[data-bot] .bot-state[data-state='done']")
        assert "Minutes" in page.text_content("#bots")
        assert page.errors == []
    finally:
        browser.close()
    bots = httpx.get(f"{bot_server.base}/v1/bots").json()["items"]
    assert any(b["bot_name"] == "Minutes" and b["status"]["code"] == "done" for b in bots)
