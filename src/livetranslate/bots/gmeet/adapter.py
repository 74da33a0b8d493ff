"""The Google Meet adapter: one Chromium, one meeting — join, hear, watch, leave.

It opens the meeting with an English locale, types the bot's name, turns the microphone and
camera off, presses the first join button it finds, and watches the page for where it is
(waiting room, admitted, denied, not found, sign-in, blocked, removed, ended). In the call,
``capture.js`` hands every audio channel and every tile change over; the channels are mixed
on the page's clock (:mod:`..mixer`) and sent on with the people's speech on/off, which name
the speakers. Automatic leaving runs here, where the people and the sound are seen.
Every selector and text is in :mod:`.selectors`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

from livetranslate.bots.edges import Edges
from livetranslate.bots.gmeet import selectors as sel
from livetranslate.bots.browser import Browser
from livetranslate.bots.lifecycle import BotState, SubCode
from livetranslate.bots.mixer import Mixer
from livetranslate.bots.options import AutomaticLeave
from livetranslate.bots.worker import Failure, Reporter

log = logging.getLogger("livetranslate.bot")

S, C = BotState, SubCode
_POLL_S = 0.5
_NAME_TIMEOUT_S = 60.0
_JOIN_BUTTON_TIMEOUT_S = 30.0
_NO_AUDIO_S = 30.0
_JOIN_EFFECT_S = 15.0  # a join click that leads nowhere (no waiting room, no call) failed
_HELP_TIMEOUT_S = 120.0
_CONFIG = {"tile": sel.TILE, "tileName": sel.TILE_NAME, "speaking": sel.SPEAKING_CLASSES, "notAPerson": sel.NOT_A_PERSON}
INIT_SCRIPT = f"window.__ltConfig = {json.dumps(_CONFIG)};\n" + (files("livetranslate.bots.gmeet") / "capture.js").read_text()


class MeetAdapter:
    def __init__(self, spec: dict, reporter: Reporter) -> None:
        self.spec = spec
        self.r = reporter
        self.leave_asked = asyncio.Event()
        self.paused = False  # a user paused the captions: what the call says is not sent
        self.opts = AutomaticLeave.model_validate(spec["automatic_leave"])
        self.dir = Path(spec["directory"])
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mixer = Mixer()
        self.edges = Edges()
        self.people: dict[str, str | None] = {}  # in the call now, not the bot: id → name
        self.tracks = 0
        self.heard_at = time.monotonic()  # speech, by a tile's ring or by sound
        self.others_at: float | None = None  # since when no one else was there (None: someone is)
        self.someone_came = False
        self.page = None

    def command(self, msg: dict) -> None:
        """The server's word: leave, pause (stop sending the call's audio), resume."""
        kind = msg.get("type")
        if kind == "leave":
            self.leave_asked.set()
        elif kind == "pause":  # the server moved the bot: its state is mirrored, not reported
            self.paused = True
            if self.r.state is S.in_call_recording:
                self.r.state = S.paused
        elif kind == "resume" and self.paused:
            self.paused = False
            if self.r.state is S.paused:
                self.r.state = S.in_call_recording
            self.r.resumed(self.mixer.seconds())

    # --- the whole visit, with retries of passing failures

    async def run(self) -> None:
        from playwright.async_api import Error as PlaywrightError

        retries = int(self.spec.get("retries", 2))
        for attempt in range(retries + 1):
            try:
                bindings = {"__ltAudio": self._on_audio, "__ltEvent": self._on_event}
                async with Browser(self.spec, INIT_SCRIPT, bindings) as browser:
                    self.page, self.input = browser.page, browser.input
                    try:
                        await self._visit()
                    except Failure:
                        await self._shot()  # what the page showed when it failed
                        raise
                return
            except Exception as e:
                f = e if isinstance(e, Failure) else Failure(
                    S.fatal, C.browser_crashed if isinstance(e, PlaywrightError) else C.internal_error,
                    f"{'the browser' if isinstance(e, PlaywrightError) else 'the bot'} failed: {_first_line(e)}",
                    retry=isinstance(e, PlaywrightError))
                self.page = None
                # only a bot still joining tries again: one that was in the call has ended its visit
                if f.retry and attempt < retries and self.r.state is S.joining and not self.leave_asked.is_set():
                    wait = 2.0 * 2**attempt
                    self.r.status(S.joining, f.sub_code, f"{f.message}; retry {attempt + 1} of {retries} in {wait:g} s")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.leave_asked.wait(), wait)
                    if not self.leave_asked.is_set():
                        continue
                    f = Failure(S.call_ended, C.bot_received_leave_call, "asked to leave while joining")
                self.r.status(f.state, f.sub_code, f.message)
                return

    async def _visit(self) -> None:
        await self._open()
        await self._prejoin()
        if self.leave_asked.is_set():  # asked before it knocked: it never asks to join
            raise Failure(S.call_ended, C.bot_received_leave_call, "asked to leave before it joined")
        if await self._wait_to_be_let_in():
            await self._in_call()

    # --- joining

    async def _open(self) -> None:
        url = self.spec["meeting_url"] + ("&" if "?" in self.spec["meeting_url"] else "?") + "hl=en"
        try:
            await self.page.goto(url, wait_until="domcontentloaded", timeout=30_000)
        except Exception as e:  # DNS, refused, timeout: the meeting's site is not there
            raise Failure(S.fatal, C.meeting_unreachable, f"could not open {url}: {_first_line(e)}", retry=True) from e

    async def _prejoin(self) -> None:
        deadline = time.monotonic() + _NAME_TIMEOUT_S
        while True:
            await self._fail_on_exit_texts(await self._text())
            if await self.page.locator(", ".join(sel.SIGN_IN_PAGE)).count():
                raise Failure(S.fatal, C.meeting_requires_sign_in, "the meeting takes signed-in users only")
            name = await self._first_visible(sel.NAME_INPUT)
            if name is not None:
                break
            if await self._first_visible(sel.JOIN_BUTTONS) is not None:  # a signed-in profile: no name to type
                name = None
                break
            if time.monotonic() > deadline:
                raise await self._missing("name field")
            await asyncio.sleep(_POLL_S)
        if self.leave_asked.is_set():
            return
        if name is not None:
            await self.input.type_into(name, self.spec["bot_name"])
        for toggle in (sel.MIC_OFF, sel.CAMERA_OFF):
            if (button := await self._first_visible(toggle)) is not None:
                await self.input.click(button)
        button = await self._wait_visible(sel.JOIN_BUTTONS, _JOIN_BUTTON_TIMEOUT_S)
        if button is None:
            raise await self._missing("join button")
        name = await self._first_visible(sel.NAME_INPUT)
        if name is not None and await name.input_value() != self.spec["bot_name"]:  # the page drew itself again
            await self.input.type_into(name, self.spec["bot_name"])
        await self.input.click(button)
        if (again := await self._first_visible(sel.CONTINUE_WITHOUT_MEDIA)) is not None:
            await self.input.click(again)
            if (button := await self._wait_visible(sel.JOIN_BUTTONS, _JOIN_BUTTON_TIMEOUT_S)) is not None:
                await self.input.click(button)

    async def _wait_to_be_let_in(self) -> bool:
        """Until the call lets it in (True), or the bot's wait ends another way (False)."""
        knocked_at, clicked_at = None, time.monotonic()
        while True:
            text = await self._text()
            await self._fail_on_exit_texts(text)
            if _has(text, sel.DENIED):
                return self._ended(C.bot_kicked_from_waiting_room, "someone in the call denied the request to join")
            if _has(text, sel.KNOCK_TIMED_OUT):
                return self._ended(C.timeout_exceeded_waiting_room, "no one answered the request to join (Meet's own limit)")
            if self.leave_asked.is_set():
                if await self._in_the_call():
                    await self._leave()
                return self._ended(C.bot_received_leave_call, "asked to leave while waiting")
            if await self._in_the_call():
                self.r.status(S.in_call_not_recording, message="in the call")
                await self._shot()
                return True
            if knocked_at is None and _has(text, sel.WAITING_ROOM):
                knocked_at = time.monotonic()
                self.r.status(S.in_waiting_room, message="asked to join; waiting to be let in")
            if await self._needs_help(text):
                continue
            if knocked_at is None and time.monotonic() - clicked_at > _JOIN_EFFECT_S:
                raise Failure(S.fatal, C.ui_element_not_found, "the join button did nothing: the meeting may "
                              "refuse clicks a script makes (input_mode x11 clicks as a person)", retry=True)
            waited = time.monotonic() - (knocked_at or time.monotonic())
            if waited > self.opts.waiting_room_timeout:
                return self._ended(C.timeout_exceeded_waiting_room, f"not let in within {self.opts.waiting_room_timeout:g} s")
            await asyncio.sleep(_POLL_S)

    async def _in_the_call(self) -> bool:
        """The call's toolbar or its Leave button is on the page (shown or hidden: it hides
        itself when the pointer rests)."""
        return await self.page.locator(", ".join(sel.IN_CALL)).count() > 0

    async def _needs_help(self, text: str) -> bool:
        """A consent dialog or a CAPTCHA: wait (bounded) for a person; True once it is gone."""
        captcha = await self.page.locator(", ".join(sel.CAPTCHA)).count() > 0
        consent = _has(await self._dialog_text(), sel.CONSENT)
        if not captcha and not consent:
            return False
        before = self.r.state
        code = C.captcha_required if captcha else C.consent_required
        self.r.status(S.needs_help, code, "a CAPTCHA needs a person" if captcha else
                      "the meeting asks for a consent only a person may give")
        await self._shot()
        deadline = time.monotonic() + _HELP_TIMEOUT_S
        while time.monotonic() < deadline and not self.leave_asked.is_set():
            await asyncio.sleep(_POLL_S)
            still = (await self.page.locator(", ".join(sel.CAPTCHA)).count() > 0 if captcha
                     else _has(await self._dialog_text(), sel.CONSENT))
            if not still:
                back = before if before is not S.needs_help else S.joining
                if back is S.in_call_recording and self.paused:  # paused meanwhile: it stays paused
                    back = S.paused
                self.r.status(back, message="a person handled it")
                return True
        if self.leave_asked.is_set():
            raise Failure(S.call_ended, C.bot_received_leave_call, "asked to leave while it needed help")
        raise Failure(S.call_ended, C.timeout_exceeded_needs_help, f"no one helped within {_HELP_TIMEOUT_S:g} s")

    # --- in the call

    async def _in_call(self) -> None:
        started = time.monotonic()
        recording_since = None
        if not self.people:
            self.others_at = started
        while True:
            self._flush()
            if not await self._in_the_call():  # the exit texts count only once the call's toolbar is gone
                text = await self._text()      # (a chat line saying "meeting ended" is no end)
                if _has(text, sel.ENDED_BY_HOST):
                    return self._ended(C.call_ended_by_host, "the host ended the meeting")
                return self._ended(C.bot_kicked_from_call, "removed from the meeting" if _has(text, sel.REMOVED)
                                   else "out of the meeting: " + " ".join(text.split())[:200])
            await self._dialogs()
            if recording_since is None and self.mixer.started:
                recording_since = time.monotonic()
                self.r.status(S.in_call_recording, message=f"hearing {self.tracks} audio channel(s)")
                await self._shot()
            if recording_since is None and time.monotonic() - started > _NO_AUDIO_S:
                raise Failure(S.fatal, C.no_audio, f"no audio from the call in {_NO_AUDIO_S:g} s")
            if self.leave_asked.is_set():
                await self._leave()
                return self._ended(C.bot_received_leave_call, "asked to leave")
            if (why := self._time_to_go(started, recording_since)) is not None:
                self.r.status(S.leaving, message=why[1])
                await self._leave()
                return self._ended(*why)
            await asyncio.sleep(_POLL_S)

    def _time_to_go(self, started: float, recording_since: float | None) -> tuple[SubCode, str] | None:
        now, o = time.monotonic(), self.opts
        if now - started > o.max_duration:
            return C.timeout_exceeded_max_duration, f"in the call for {o.max_duration:g} s, its maximum"
        alone = self.others_at is not None and now - self.others_at
        if alone and not self.someone_came and alone > o.noone_joined_timeout:
            return C.timeout_exceeded_noone_joined, f"no one joined in {o.noone_joined_timeout:g} s"
        if alone and self.someone_came and alone > o.everyone_left_timeout:
            return C.timeout_exceeded_everyone_left, f"everyone else left {o.everyone_left_timeout:g} s ago"
        if recording_since is not None and now - recording_since > o.silence_activate_after:
            if now - self.heard_at > o.silence_timeout:
                return C.timeout_exceeded_silence, f"no one spoke for {o.silence_timeout:g} s"
        return None

    async def _dialogs(self) -> None:
        text = await self._dialog_text()
        if not text:
            return
        if _has(text, sel.CONSENT):
            await self._needs_help(text)
        elif _has(text, sel.RECORDING_NOTICE) and (ok := await self._first_visible(sel.DIALOG_OK)) is not None:
            await self.input.click(ok)

    async def _leave(self) -> None:
        """Press Leave (the pointer moves first: the toolbar hides while it rests). If the
        button cannot be pressed, closing the browser leaves the call all the same."""
        for _ in range(2):
            try:
                await self.input.wake()
                button = await self._wait_visible(sel.LEAVE, 3.0)
                if button is not None:
                    await self.input.click(button)
                    if (confirm := await self._wait_visible(sel.LEAVE_CONFIRM, 1.0)) is not None:
                        await self.input.click(confirm)
                    break
            except Exception as e:  # the toolbar hid again between finding and pressing
                log.warning("Leave not pressed: %s", _first_line(e))
        self._flush(everything=True)

    # --- what the page script hands over

    def _on_audio(self, channel: int, frame: int, data: str) -> None:
        pcm = np.frombuffer(base64.b64decode(data), "<i2")
        if np.abs(pcm).max(initial=0) > 160:  # -46 dBFS: someone is making sound
            self.heard_at = time.monotonic()
        self.mixer.add(int(channel), int(frame), pcm)
        self.edges.add(channel, int(frame), pcm)
        self._flush()

    def _on_event(self, event: dict) -> None:
        kind, frame = event.get("type"), event.get("frame")
        if frame is not None:
            self.mixer.clock(int(frame))
        if kind == "track":
            self.tracks += 1
            if frame is not None:
                self.mixer.expect(int(event["channel"]), int(frame))
        elif kind == "error":
            log.warning("page: %s", event.get("message"))
        elif kind in ("join", "leave", "rename", "speech_on", "speech_off") and not event.get("self"):
            exact = False
            if kind in ("speech_on", "speech_off") and frame is not None:  # the ring lags the voice
                frame, exact = self.edges.refine(kind[7:], int(frame), event.get("id"))
            self._person(kind, event, self.mixer.seconds(frame), exact)

    def _person(self, kind: str, event: dict, at: float, exact: bool) -> None:
        pid, name = event["id"], event.get("name")
        if kind == "join" and not self.opts.is_bot(name):
            self.people[pid] = name
        elif kind == "leave":
            self.people.pop(pid, None)
        elif kind == "rename" and pid in self.people:
            self.people[pid] = name
        if self.people:
            self.someone_came, self.others_at = True, None
        elif self.others_at is None:
            self.others_at = time.monotonic()
        if kind == "speech_on":
            self.heard_at = time.monotonic()
        self._flush()  # the audio up to this moment goes first
        self.r.participant("join" if kind == "rename" else kind, pid, name, at, exact)

    def _flush(self, everything: bool = False) -> None:
        if self.r.state not in (S.in_call_recording, S.paused) and not everything:
            return  # kept until the server hears that the bot is recording
        pcm = self.mixer.drain() if everything else self.mixer.take()
        if pcm and not self.paused:
            self.r.audio(pcm)

    # --- the page

    async def _text(self) -> str:
        try:
            return await self.page.evaluate("document.body ? document.body.innerText : ''")
        except Exception as e:
            raise Failure(S.fatal, C.browser_crashed, f"the page is gone: {_first_line(e)}", retry=True) from e

    async def _dialog_text(self) -> str:
        dialogs = self.page.locator(", ".join(sel.DIALOG))
        return " ".join(await dialogs.all_inner_texts()) if await dialogs.count() else ""

    async def _fail_on_exit_texts(self, text: str) -> None:
        if _has(text, sel.NOT_FOUND):
            raise Failure(S.fatal, C.meeting_not_found, "Meet says there is no such meeting")
        if _has(text, sel.SIGN_IN):
            raise Failure(S.fatal, C.meeting_requires_sign_in, "the meeting takes signed-in users only")
        if _has(text, sel.BLOCKED):
            raise Failure(S.fatal, C.blocked_by_platform, "Meet refused the bot: " + _which(text, sel.BLOCKED), retry=True)

    async def _first_visible(self, selectors: list[str]):
        for s in selectors:
            loc = self.page.locator(s).first
            try:
                if await loc.is_visible():
                    return loc
            except Exception:  # a selector this page cannot run, a detached node
                continue
        return None

    async def _wait_visible(self, selectors: list[str], timeout: float):
        deadline = time.monotonic() + timeout
        while (found := await self._first_visible(selectors)) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        return found

    async def _missing(self, step: str) -> Failure:
        """ui_element_not_found, with what the page showed: its buttons, URL and language."""
        n = await self._shot()
        labels = await self.page.evaluate(
            "[...document.querySelectorAll('button, [role=button]')].map(b => (b.getAttribute('aria-label') || "
            "b.innerText || '').trim()).filter(Boolean).slice(0, 30)"
        )
        lang = await self.page.evaluate("document.documentElement.lang || ''")
        return Failure(S.fatal, C.ui_element_not_found, f"{step} not found at {self.page.url} (lang {lang!r}); "
                       f"buttons: {json.dumps(labels)}; screenshot {n}", retry=True)

    async def _shot(self) -> int | None:
        if self.page is None:
            return None
        try:
            n = self.r.screenshots + 1
            await self.page.screenshot(path=str(self.dir / f"{n}.png"), timeout=5_000)
            return self.r.screenshot()
        except Exception as e:
            log.warning("no screenshot: %s", _first_line(e))
            return None

    def _ended(self, sub_code: SubCode, message: str) -> bool:
        self._flush(everything=True)
        self.r.status(S.call_ended, sub_code, message)
        return False


def _has(text: str, needles: list[str]) -> bool:
    low = text.lower()
    return any(n.lower() in low for n in needles)


def _which(text: str, needles: list[str]) -> str:
    return next((n for n in needles if n.lower() in text.lower()), "")


def _first_line(e: Exception) -> str:
    return re.split(r"\n", str(e), maxsplit=1)[0][:300]
