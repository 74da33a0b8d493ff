"""Shared browser harness: Debian's Chromium driven by Playwright, a server per test module,
a fake microphone that plays real speech. Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import json
import time
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import ARTIFACTS, pcm16, start_server, stop_server, stream

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ARTIFACTS / "dashboard"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session", autouse=True)
def _screenshots_folder() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


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


def browser_with(playwright, wav: Path | None):
    args = list(ARGS)
    if wav is not None:
        args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={wav}"]
    else:  # a fake device, but the permission prompt is dismissed: "denied"
        args += ["--use-fake-device-for-media-stream"]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


class Page:
    """A page that fails the test on any uncaught script error, or anything the server's
    Content-Security-Policy blocked."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" and "Content Security Policy" in m.text else None)

    def __getattr__(self, name):
        return getattr(self.page, name)

    def shot(self, name: str, folder: Path = SHOTS) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def stored(web, session_id: str, lang: str | None = None) -> list[dict]:
    """The session's transcript as the server keeps it (translated into lang if given)."""
    with httpx.Client(base_url=web.base) as c:
        return c.get(f"/v1/sessions/{session_id}/transcript", params={"lang": lang} if lang else {}).json()["segments"]


def wait_paused(web, session_id: str, timeout: float = 120) -> None:
    """The server finishes the audio of a dropped socket, then pauses the session: wait for its
    ``session.status`` event (the events socket replays from ``last_seq``, so none is missed)."""
    from websockets.sync.client import connect

    with httpx.Client(base_url=web.base) as c:
        row = c.get(f"/v1/sessions/{session_id}").json()
    if row["status"] == "paused":
        return
    deadline = time.monotonic() + timeout
    with connect(f"{web.ws}/v1/sessions/{session_id}/events?after_seq={row['last_seq']}") as ws:
        while True:
            event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if event.get("type") == "session.status" and event["status"] == "paused":
                return


def finals(page) -> list[str]:
    return page.eval_on_selector_all('#captions .caption[data-status="final"] .text', "els => els.map(e => e.textContent)")


@pytest.fixture(scope="module")
def recorded(web, librivox):
    """A finished session with two recordings, streamed over the API."""
    session = web.create_session(title="Board meeting", targets=["es"])
    audio = np.concatenate([librivox[0].audio, np.zeros(24000, np.float32), librivox[2].audio])
    stream(web, session["id"], pcm16(audio), chunk_bytes=32000)
    return session


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(css: str) -> float:
        r, g, b = (int(x) / 255 for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
