"""The stand-in Meet's server: meeting pages, their media, and a control API for tests.

A scenario says how the meeting treats the bot and who speaks when:

- ``mode``: ``open`` (in at once), ``knock`` (the waiting room; admitted after
  ``admit_after_s`` or by ``ctl(code, "admit")``), ``deny``, ``never_admit``, ``knock_expires``
  (Meet's own "No one responded" after ``admit_after_s``), ``blocked``, ``not_found``,
  ``sign_in``, ``host_absent`` ("Waiting for the host to join", then in).
- ``participants``: each with a WAV of the whole call from the bot's admission (silence
  where they do not speak), the stretches they speak (the speaking ring's truth), and when
  they join, leave or are renamed.
- ``events``: ``{t, action}`` after admission: ``remove``, ``end``, ``recording_dialog``,
  ``consent_dialog``, ``renegotiate``, ``everyone_leaves``.
- ``glow``: the ring's lag on and off, a flicker rate, the class names (a "variant" renames them).
- ``human_input``: refuse clicks and typing that no person made: an event must be trusted, a
  click must follow a pointer that travelled to it, typed text must come as key presses.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

STATIC = Path(__file__).parent / "static"


class Participant(BaseModel):
    id: str
    name: str
    wav: str | None = None
    """A file path; the page fetches it from /media/{id}.wav."""
    segments: list[tuple[float, float]] = Field(default_factory=list)
    join_at: float = 0.0
    leave_at: float | None = None
    rename: tuple[float, str] | None = None


class Glow(BaseModel):
    on_lag_s: float = 0.3
    off_lag_s: float = 0.8
    flicker: float = 0.0
    """Chance per 100 ms that a ring blinks off while its person speaks."""
    speaking_class: str = "Oaajhc"
    silent_class: str = "gjg47c"


class Scenario(BaseModel):
    mode: str = "open"
    admit_after_s: float | None = None
    participants: list[Participant] = Field(default_factory=list)
    events: list[dict] = Field(default_factory=list)
    glow: Glow = Field(default_factory=Glow)
    channels: int = 3
    human_input: bool = False


class Meeting:
    def __init__(self, code: str, scenario: Scenario) -> None:
        self.code = code
        self.scenario = scenario
        self.lobby: list[str] = []  # names knocking
        self.decision: str | None = None  # admit, deny, expire
        self.bot_name: str | None = None
        self.mic_off = self.camera_off = False
        self.admitted_at: float | None = None
        self.left = False
        self.host_action: str | None = None  # remove, end
        self.clicks: list[dict] = []
        self.refused: list[dict] = []
        self.knocked_at: float | None = None
        self.media_t0: float | None = None
        """Wall-clock time (time.time()) at which the call's audio began playing."""

    def view(self) -> dict:
        return {
            "code": self.code, "mode": self.scenario.mode, "lobby": self.lobby, "decision": self.decision,
            "bot_name": self.bot_name, "mic_off": self.mic_off, "camera_off": self.camera_off,
            "admitted": self.admitted_at is not None, "left": self.left, "host_action": self.host_action,
            "clicks": self.clicks, "refused": self.refused,
        }


def build_app(meetings: dict[str, Meeting]) -> FastAPI:
    app = FastAPI()

    def meeting(code: str) -> Meeting:
        if code not in meetings:
            raise HTTPException(404, f"no meeting {code}")
        return meetings[code]

    @app.get("/_ctl/{code}/state")
    def state(code: str) -> dict:
        return meeting(code).view()

    @app.post("/_ctl/{code}/{action}")
    def control(code: str, action: str) -> dict:
        m = meeting(code)
        if action in ("admit", "deny", "expire"):
            m.decision = action
        elif action in ("remove", "end", "dismiss"):  # dismiss: a person closes the open dialog
            m.host_action = action
        else:
            raise HTTPException(400, f"unknown action {action}")
        return m.view()

    # what the page itself asks the "Meet servers" (the page polls: that is the stand-in, not the bot)
    @app.post("/_api/{code}/knock")
    def knock(code: str, body: dict) -> dict:
        m = meeting(code)
        m.bot_name, m.mic_off, m.camera_off = body.get("name"), bool(body.get("mic_off")), bool(body.get("camera_off"))
        m.lobby.append(m.bot_name or "")
        m.knocked_at = time.monotonic()
        return _page_state(m)

    @app.get("/_api/{code}/poll")
    def poll(code: str) -> dict:
        m = meeting(code)
        state = _page_state(m)
        if m.host_action == "dismiss":  # done once
            m.host_action = None
        return state

    @app.post("/_api/{code}/joined")
    def joined(code: str) -> dict:
        m = meeting(code)
        m.admitted_at = m.admitted_at or time.monotonic()
        return {}

    @app.post("/_api/{code}/media")
    def media_started(code: str, body: dict) -> dict:
        meeting(code).media_t0 = float(body["t0"])
        return {}

    @app.post("/_api/{code}/left")
    def left(code: str) -> dict:
        meeting(code).left = True
        return {}

    @app.post("/_api/{code}/input")
    def record_input(code: str, body: dict) -> dict:
        m = meeting(code)
        (m.clicks if body.get("accepted") else m.refused).append(body)
        return {}

    @app.get("/_api/{code}/scenario")
    def scenario(code: str) -> dict:
        return meeting(code).scenario.model_dump()

    @app.get("/media/{code}/{pid}.wav")
    def media(code: str, pid: str) -> FileResponse:
        for p in meeting(code).scenario.participants:
            if p.id == pid and p.wav:
                return FileResponse(p.wav, media_type="audio/wav")
        raise HTTPException(404)

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        return FileResponse(STATIC / name)

    @app.get("/{code}")
    def page(code: str) -> HTMLResponse:
        m = meetings.get(code)
        mode = m.scenario.mode if m else "not_found"
        return HTMLResponse((STATIC / "meet.html").read_text().replace("{{CODE}}", code).replace("{{MODE}}", mode))

    return app


def _page_state(m: Meeting) -> dict:
    """What the meeting tells the knocking page: wait, in, denied, expired, blocked."""
    s = m.scenario
    waited = time.monotonic() - (m.knocked_at or time.monotonic())
    if s.mode == "blocked":
        return {"state": "blocked"}
    if m.decision == "deny" or (s.mode == "deny" and waited > (s.admit_after_s or 1.0)):
        return {"state": "denied"}
    if m.decision == "expire" or (s.mode == "knock_expires" and waited > (s.admit_after_s or 1.0)):
        return {"state": "expired"}
    if m.decision == "admit" or s.mode == "open" or (
        s.mode in ("knock", "host_absent") and s.admit_after_s is not None and waited > s.admit_after_s
    ):
        return {"state": "in", "host_action": m.host_action}
    return {"state": "waiting", "host_absent": s.mode == "host_absent"}


class FakeMeet:
    def __init__(self) -> None:
        self.meetings: dict[str, Meeting] = {}
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(build_app(self.meetings), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)

    def __enter__(self) -> "FakeMeet":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the stand-in Meet did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def open(self, code: str, scenario: Scenario) -> str:
        self.meetings[code] = Meeting(code, scenario)
        return f"{self.base}/{code}"

    def ctl(self, code: str, action: str) -> dict:
        import httpx

        return httpx.post(f"{self.base}/_ctl/{code}/{action}").json()

    def state(self, code: str) -> dict:
        return self.meetings[code].view()
