"""A meeting that takes only a person's input (as the real Meet refuses script clicks): the
bot's X11 mode — headed Chromium on its own virtual display, the pointer travelling to each
button, keys typed through XTEST — gets in; script clicks are refused and change nothing."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from tests.bots.conftest import moves, wait_for
from tests.conftest import start_server, stop_server
from tests.fakemeet import Participant, Scenario


@pytest.fixture(scope="module")
def x11_server(tmp_path_factory, meet):
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.fail("xvfb and xdotool are missing: run `make test` (it installs the bot packages)")
    srv = start_server(tmp_path_factory.mktemp("x11-server"), LIVETRANSLATE_MEET_BASE_URL=meet.base,
                       LIVETRANSLATE_BOT_INPUT_MODE="x11")
    yield srv
    stop_server(srv)


def test_script_clicks_are_refused_by_a_meeting_that_wants_a_person(bot_server, meet):
    url = meet.open("hum-anon-lyy", Scenario(mode="open", human_input=True, participants=[Participant(id="a", name="Ana")]))
    bot = httpx.post(f"{bot_server.base}/v1/bots", json={"meeting_url": url}).json()
    wait_for(bot_server, bot["id"], {"joining"}, 30)
    seen = meet.state("hum-anon-lyy")
    end = time.monotonic() + 60
    while not any(r["what"] == "join" for r in seen["refused"]) and time.monotonic() < end:
        time.sleep(0.5)
        seen = meet.state("hum-anon-lyy")
    assert any(r["what"] == "join" and r["trusted"] and r["moves"] < 5 for r in seen["refused"]), seen
    assert not seen["admitted"]
    httpx.post(f"{bot_server.base}/v1/bots/{bot['id']}/leave")
    bot = wait_for(bot_server, bot["id"], {"done", "fatal"}, 60)
    assert bot["status_changes"][-2]["sub_code"] == "bot_received_leave_call", bot["status_changes"]


def test_the_x11_mode_clicks_and_types_as_a_person_and_gets_in(x11_server, meet):
    url = meet.open("hum-anxx-one", Scenario(mode="knock", admit_after_s=1.0, human_input=True,
                                             participants=[Participant(id="a", name="Ana")]))
    bot = httpx.post(f"{x11_server.base}/v1/bots", json={"meeting_url": url, "bot_name": "Scribe"}).json()
    wait_for(x11_server, bot["id"], {"in_call_recording"}, 90)
    seen = meet.state("hum-anxx-one")
    assert seen["bot_name"] == "Scribe" and seen["mic_off"] and seen["camera_off"], seen
    assert {c["what"] for c in seen["clicks"]} >= {"microphone toggle", "camera toggle", "join"}, seen
    assert not seen["refused"], seen["refused"]
    httpx.post(f"{x11_server.base}/v1/bots/{bot['id']}/leave")
    bot = wait_for(x11_server, bot["id"], {"done"}, 30)
    assert moves(bot) == ["joining", "in_waiting_room", "in_call_not_recording", "in_call_recording", "leaving",
                          "call_ended", "done"]
