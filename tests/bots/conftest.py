"""A stand-in Meet, a server that knows it as Google Meet, and calls with a script: who says
what when (the reference for the transcript and for who is named)."""

from __future__ import annotations

import time
import wave
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import ARTIFACTS, Clip, pcm16, start_server, stop_server
from tests.fakemeet import FakeMeet, Participant

SHOTS = ARTIFACTS / "bots"


@dataclass
class Line:
    who: str
    name: str
    clip: Clip
    start: float
    end: float


@dataclass
class Call:
    participants: list[Participant]
    lines: list[Line]

    @property
    def text(self) -> str:
        return " ".join(line.clip.text for line in self.lines)


def script(tmp: Path, turns: list[tuple], *, lead_s: float = 2.0, gap_s: float = 1.0,
           tail_s: float = 2.0) -> Call:
    """One WAV per participant on the call's timeline: each says its clips in turn (a 4th
    item sets a line's start: lines may overlap), silent otherwise; the stretches they speak
    are their tiles' speaking truth."""
    t, lines = lead_s, []
    for who, name, clip, *start in turns:
        t = start[0] if start else t
        dur = clip.audio.size / 16000
        lines.append(Line(who, name, clip, t, t + dur))
        t += dur + gap_s
    total = int((max(line.end for line in lines) + tail_s) * 16000)
    people: dict[str, Participant] = {}
    for who, name, *_ in turns:
        if who in people:
            continue
        track = np.zeros(total, np.float32)
        mine = [line for line in lines if line.who == who]
        for line in mine:
            a = int(line.start * 16000)
            track[a : a + line.clip.audio.size] += line.clip.audio
        path = tmp / f"{who}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(pcm16(track))
        people[who] = Participant(id=who, name=name, wav=str(path),
                                  segments=[(round(x.start, 3), round(x.end, 3)) for x in mine])
    return Call(list(people.values()), lines)


@pytest.fixture(scope="session")
def meet():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with FakeMeet() as m:
        yield m


@pytest.fixture(scope="session")
def bot_server(tmp_path_factory, meet):
    """One server for the bot tests (they wait for their bots to end: at most 2 run at once)."""
    srv = start_server(tmp_path_factory.mktemp("bot-server"), LIVETRANSLATE_MEET_BASE_URL=meet.base,
                       LIVETRANSLATE_LOG_LEVEL="info", LIVETRANSLATE_MAX_CONCURRENT_BOTS="2")
    yield srv
    stop_server(srv)


def wait_for(bot_server, bot_id: str, states: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bot = httpx.get(f"{bot_server.base}/v1/bots/{bot_id}").json()
        if bot["status"]["code"] in states:
            return bot
        time.sleep(0.2)
    raise AssertionError(f"bot never reached {states}: {bot['status']} {[c['new'] for c in bot['status_changes']]}")


def moves(bot: dict) -> list[str]:
    return [c["new"] for c in bot["status_changes"]]


def attribution(call: Call, segments: list[dict]) -> dict[str, int]:
    """Words named right, wrong, or not at all, against the script (a word spoken while two
    people talk is right with either's name). The session's clock starts when the bot first
    heard the call, the script's when the meeting's audio began: the offset is the one that
    puts the most words inside a line."""
    words = [(w["start"] + w["end"]) / 2 for s in segments for w in s["words"]]
    names = [s["speaker_name"] for s in segments for _ in s["words"]]

    def lines_at(t: float) -> list[Line]:
        return [line for line in call.lines if line.start - 0.3 <= t <= line.end + 0.3]

    offsets = np.arange(-3.0, 3.0, 0.05)
    best = max(offsets, key=lambda o: sum(bool(lines_at(t + o)) for t in words))
    out = {"right": 0, "wrong": 0, "unnamed": 0, "outside": 0}
    for t, name in zip(words, names):
        lines = lines_at(t + best)
        if not lines:
            out["outside"] += 1
        elif name is None:
            out["unnamed"] += 1
        else:
            out["right" if name in {line.name for line in lines} else "wrong"] += 1
    out["offset_ms"] = int(round(best * 1000))
    return out
