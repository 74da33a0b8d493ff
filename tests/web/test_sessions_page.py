"""The Sessions pages in Chromium, used as a person uses them: play from a line (it seeks, the
line and word being heard are lit), follow a live session, Resume/End/Rename/Delete, merge
speakers, upload a recording, downloads named from the title; and the projector view."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.conftest import conversation, encode, pcm16, stream, wer
from tests.web.conftest import SHOTS, Page, browser_with, stored, wait_paused


@pytest.fixture(scope="module")
def browser(playwright):
    b = browser_with(playwright, None)
    yield b
    b.close()


@pytest.fixture()
def page(browser):
    p = Page(browser)
    yield p
    assert p.errors == []
    p.close()


@pytest.fixture(scope="module")
def long_recording(web, librivox):
    """Five recordings one after another: about 30 s, a line starting near 20 s."""
    session = web.create_session(title="Board meeting", targets=["es"])
    audio, text = conversation(librivox)
    stream(web, session["id"], pcm16(audio), chunk_bytes=32000)
    return session, audio.size / 16000


@pytest.fixture(scope="module")
def two_speakers(web, librivox):
    """Ana's track, then Ben's: two speakers, each named by the meeting."""
    session = web.create_session(title="Two people")
    for i, name, stop in ((0, "Ana", False), (2, "Ben", True)):
        start = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "participant": {"id": f"p{i}", "name": name}}
        stream(web, session["id"], pcm16(librivox[i].audio), start=start, chunk_bytes=32000, stop=stop)
    return session


def test_play_from_a_line_seeks_there_and_lights_the_line_and_word(web, page, long_recording):
    session, duration = long_recording
    segments = stored(web, session["id"])
    target = min(segments, key=lambda s: abs(s["start"] - 20))
    assert abs(target["start"] - 20) < 3, [s["start"] for s in segments]
    page.goto(f"{web.base}/#/sessions/{session['id']}")
    page.wait_for_function("() => document.querySelector('#audio')?.readyState >= 1")
    page.click(f"#transcript .caption[data-segment='{target['id']}'] .who button")
    page.wait_for_function("() => !document.querySelector('#audio').paused")
    state = page.evaluate("""() => { const a = document.querySelector('#audio');
        return {t: a.currentTime, ranges: a.seekable.length, end: a.seekable.length ? a.seekable.end(0) : 0, duration: a.duration}; }""")
    assert state["ranges"] == 1 and state["end"] == pytest.approx(duration, abs=0.1), state
    assert state["t"] == pytest.approx(target["start"], abs=0.6), state  # not 0:00
    # the line being heard is lit, and the word inside it
    page.wait_for_selector(f"#transcript .caption[aria-current][data-segment='{target['id']}'] .word[data-now]", timeout=10_000)
    page.shot("session-playing")
    page.evaluate("document.querySelector('#audio').pause()")


def test_session_page_follows_a_live_session_and_ends_with_it(web, page, librivox):
    session = web.create_session(title="Followed live")
    page.goto(f"{web.base}/#/sessions/{session['id']}")
    page.wait_for_selector("text=No speech in this session yet.")
    audio, text = conversation(librivox[:2])
    sender = threading.Thread(target=stream, args=(web, session["id"], pcm16(audio)), kwargs={"chunk_bytes": 8000, "pace": 0.2})
    sender.start()
    try:
        page.wait_for_function("() => document.querySelector('#meta').textContent.endsWith('live')", timeout=30_000)
        page.wait_for_selector("#transcript .caption[data-status=final]", timeout=60_000)
        page.shot("session-following")
    finally:
        sender.join(120)
    page.wait_for_function("() => document.querySelector('#meta')?.textContent.endsWith('ended')", timeout=60_000)
    page.wait_for_selector("#audio")  # the page came back whole: the recording to play
    shown = page.eval_on_selector_all("#transcript .caption .text", "els => els.map(e => e.textContent.trim())")
    assert shown == [s["text"].strip() for s in stored(web, session["id"])]
    assert wer(text, " ".join(shown)) < 0.3


def test_a_paused_session_offers_resume_and_end(web, page, librivox):
    session = web.create_session(title="Left paused")
    stream(web, session["id"], pcm16(librivox[1].audio), chunk_bytes=32000, stop=False)  # the tab went away
    wait_paused(web, session["id"])
    page.goto(f"{web.base}/#/sessions")
    row = f"#sessions tr[data-session='{session['id']}']"
    assert page.inner_text(f"{row} td:nth-child(4)") == "paused"
    assert page.get_attribute(f"{row} [data-action=resume]", "href") == f"#/live?session={session['id']}"
    page.shot("sessions-actions")
    page.click(f"{row} [data-action=end]")
    page.wait_for_function(f"() => document.querySelector(\"{row} td:nth-child(4)\")?.textContent === 'ended'")
    assert page.query_selector(f"{row} [data-action=resume]") is None and page.query_selector(f"{row} [data-action=end]") is None
    with httpx.Client(base_url=web.base) as c:
        assert c.get(f"/v1/sessions/{session['id']}").json()["status"] == "ended"
    assert wer(librivox[1].text, " ".join(s["text"] for s in stored(web, session["id"]))) < 0.3


def test_rename_and_delete_a_session(web, page):
    session = web.create_session(title="Old name")
    page.goto(f"{web.base}/#/sessions/{session['id']}")
    page.wait_for_selector("#title")
    page.click("[data-action=rename]")
    page.fill(".title-form input", "Quarterly review")
    page.press(".title-form input", "Enter")
    page.wait_for_selector("#title:text('Quarterly review')")
    answers = iter([False, True])  # the first time the person thinks again
    page.on("dialog", lambda d: d.accept() if next(answers) else d.dismiss())
    with page.expect_event("dialog"):  # dismissed: nothing is sent
        page.click("[data-action=delete]")
    with httpx.Client(base_url=web.base) as c:
        assert c.get(f"/v1/sessions/{session['id']}").json()["title"] == "Quarterly review"
    page.click("[data-action=delete]")
    page.wait_for_function("() => location.hash === '#/sessions'")
    with httpx.Client(base_url=web.base) as c:
        assert c.get(f"/v1/sessions/{session['id']}").status_code == 404


def test_a_name_another_speaker_has_offers_to_merge(web, page, two_speakers):
    page.goto(f"{web.base}/#/sessions/{two_speakers['id']}")
    page.wait_for_selector("#speakers .speaker-chip")
    with httpx.Client(base_url=web.base) as c:
        speakers = {s["name"]: s["id"] for s in c.get(f"/v1/sessions/{two_speakers['id']}/speakers").json()}
    assert set(speakers) == {"Ana", "Ben"}
    ben = f"#speakers [data-speaker={speakers['Ben']}]"
    page.fill(f"{ben} input", "Ana")
    page.click(f"{ben} button[type=submit]")
    page.wait_for_selector(f"{ben} .clash:not([hidden])")
    assert "already called “Ana”" in page.inner_text(f"{ben} .clash")
    page.shot("speaker-clash")
    page.click(f"{ben} .clash >> text=Keep apart")  # the field gets its name back
    assert page.input_value(f"{ben} input") == "Ben" and page.is_hidden(f"{ben} .clash")
    page.fill(f"{ben} input", "Ana")
    page.click(f"{ben} button[type=submit]")
    page.click(f"{ben} [data-action=merge]")
    page.wait_for_function("() => document.querySelectorAll('#speakers .speaker-chip').length === 1")
    whos = page.eval_on_selector_all("#transcript .who", "els => els.map(e => e.firstChild.textContent)")
    assert whos and set(whos) == {"Ana"}


def test_merge_into_from_the_speaker_menu(web, page, librivox):
    session = web.create_session(title="Menu merge")
    for i, name, stop in ((1, "Cleo", False), (4, "Dan", True)):
        start = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "participant": {"id": f"q{i}", "name": name}}
        stream(web, session["id"], pcm16(librivox[i].audio), start=start, chunk_bytes=32000, stop=stop)
    page.goto(f"{web.base}/#/sessions/{session['id']}")
    page.wait_for_selector("#speakers .speaker-chip select.merge")
    page.on("dialog", lambda d: d.accept())
    chip = page.query_selector("#speakers .speaker-chip")
    gone = chip.get_attribute("data-speaker")
    chip.query_selector("select.merge").select_option(index=1)
    page.wait_for_function("() => document.querySelectorAll('#speakers .speaker-chip').length === 1")
    assert gone not in {s["speaker"] for s in stored(web, session["id"])}


def test_upload_a_recording_shows_progress_and_opens_its_transcript(web, page, librivox, tmp_path):
    audio, text = conversation(librivox[:3])
    path = tmp_path / "Weekly sync.mp3"
    path.write_bytes(encode(audio, "mp3"))
    page.goto(f"{web.base}/#/sessions")
    page.wait_for_selector("#upload-file")
    page.select_option("#upload-language", "en")
    page.check("#upload-targets input[value=es]")
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-start")
    page.wait_for_selector("#upload-progress:not([hidden])")
    page.wait_for_function("() => location.hash.startsWith('#/sessions/')", timeout=120_000)
    page.wait_for_selector("#transcript .caption")
    assert page.inner_text("#title") == "Weekly sync"
    shown = " ".join(page.eval_on_selector_all("#transcript .caption .text", "els => els.map(e => e.textContent)"))
    assert wer(text, shown) < 0.3
    session_id = page.evaluate("location.hash").rsplit("/", 1)[1]
    with httpx.Client(base_url=web.base) as c:
        s = c.get(f"/v1/sessions/{session_id}").json()
    assert s["status"] == "ended" and s["targets"] == ["es"] and s["audio_seconds"] == pytest.approx(audio.size / 16000, abs=0.3)
    page.shot("uploaded")


def test_uploading_a_file_that_is_not_audio_says_so_and_leaves_no_session(web, page, tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_bytes(b"these are my meeting notes, not a recording\n" * 8000)
    with httpx.Client(base_url=web.base) as c:
        before = c.get("/v1/sessions").json()["total"]
    page.goto(f"{web.base}/#/sessions")
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-start")
    page.wait_for_selector("#upload-state.error", timeout=60_000)
    assert "could not be transcribed" in page.inner_text("#upload-state")
    page.shot("upload-not-audio")
    with httpx.Client(base_url=web.base) as c:
        assert c.get("/v1/sessions").json()["total"] == before


def test_downloads_are_named_from_title_and_date(web, page, long_recording):
    session, _ = long_recording
    day = session["created_at"][:10]
    page.goto(f"{web.base}/#/sessions/{session['id']}?lang=es")
    page.wait_for_selector("#transcript .caption")
    names = {}
    for text in ("SRT", "bilingual SRT", "JSON", "Audio (WAV)"):
        with page.expect_download() as info:
            page.click(f"#downloads a:text-is('{text}')")
        names[text] = info.value.suggested_filename
    assert names == {"SRT": f"board-meeting-{day}.es.srt", "bilingual SRT": f"board-meeting-{day}.es.bilingual.srt",
                     "JSON": f"board-meeting-{day}.es.json", "Audio (WAV)": f"board-meeting-{day}.wav"}


def test_projector_is_a_screen_for_the_room(web, page, long_recording):
    session, _ = long_recording
    page.goto(f"{web.base}/#/projector/{session['id']}")
    page.wait_for_selector("#projector .caption")
    assert not page.is_visible("#bar")  # no app chrome
    assert not page.is_visible("#projector .who")  # no speaker names or times by default
    assert page.eval_on_selector_all("#projector .caption", "els => els.length") == 3
    options = page.eval_on_selector_all("#projector-lang option", "els => els.map(e => e.value)")
    assert options == ["", "es"]
    # the bar hides when the pointer rests, and comes back with the keyboard
    page.wait_for_selector("#projector-bar.idle", state="attached", timeout=10_000)
    page.keyboard.press("Tab")
    page.wait_for_selector("#projector-bar:not(.idle)")
    assert page.evaluate("document.getElementById('projector-bar').contains(document.activeElement)")
    page.select_option("#projector-lang", "es")
    page.wait_for_selector("#projector .caption .line[data-lang=es]")
    page.select_option("#projector-lines", "1")
    page.click("#projector-larger")
    page.click("#projector-larger")
    page.check("#projector-speakers")
    page.wait_for_function("() => document.querySelectorAll('#projector .caption').length === 1")
    assert page.is_visible("#projector .who")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#projector')).fontSize)")
    page.shot("projector-room")
    page.reload()  # remembered in this browser
    page.wait_for_selector("#projector .caption")
    assert page.input_value("#projector-lines") == "1" and page.inner_text("#projector-size") == "120 %"
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#projector')).fontSize)") == size
    page.evaluate("localStorage.removeItem('projector')")
    # the link from a session page carries its language
    page.goto(f"{web.base}/#/projector/{session['id']}?lang=es")
    page.wait_for_selector("#projector .caption .line[data-lang=es]")
    assert page.input_value("#projector-lang") == "es"


def test_projector_of_a_session_that_does_not_exist_says_so(web, page):
    page.goto(f"{web.base}/#/projector/nope")
    page.wait_for_selector("[role=alert]")
    assert "does not exist" in page.inner_text("[role=alert]")
    page.shot("projector-missing")


def test_sessions_pages_fit_a_phone_in_the_dark(web, browser, long_recording):
    session, _ = long_recording
    page = browser.new_page(viewport={"width": 390, "height": 800}, color_scheme="dark")
    try:
        for url, ready, name in ((f"/#/sessions/{session['id']}", "#transcript .caption", "session-actions-phone-dark"),
                                 ("/#/sessions", "#upload", "sessions-phone-dark"),
                                 (f"/#/projector/{session['id']}?lang=es", "#projector .caption", "projector-phone-dark")):
            page.goto(f"{web.base}{url}")
            page.wait_for_selector(ready)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    finally:
        page.close()
