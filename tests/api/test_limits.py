"""A key's and a tenant's limits on the server that asks for keys: over one is 429 with
Retry-After and the JSON error (a socket: an error event and close 4429 with the reason), it
passes again once the window moves or a session ends, and what was accepted before is kept.
Each test has a tenant of its own, its limits set with the CLI before the server first reads
them."""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
from websockets.sync.client import connect

from tests.api.conftest import _as, _cli
from tests.conftest import drain, pcm16

START = json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1})


def _tenant(keyed, name: str, *limits: str) -> str:
    """A new tenant with its own limits; its admin key."""
    made = _cli(keyed.data_dir, "keys", "create", "--tenant", name, "--role", "admin")
    assert made.returncode == 0, made.stderr
    if limits:
        set_ = _cli(keyed.data_dir, "tenants", "limits", name, *limits)
        assert set_.returncode == 0, set_.stderr
    key = made.stdout.strip()
    keyed.env["keys"].append(key)  # checked absent from the log
    return key


def _session(keyed, key: str) -> str:
    r = httpx.post(f"{keyed.base}/v1/sessions", json={}, headers=_as(key))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _refused(ws) -> dict:
    error = json.loads(ws.recv(timeout=10))
    drain(ws, timeout=10)
    return error


def test_requests_a_second_per_key_429_with_retry_after_then_pass_again(keyed):
    key = _tenant(keyed, "initech-rate", "--key-requests-per-s", "20")
    answers = []
    with httpx.Client(base_url=keyed.base, headers=_as(key)) as c:
        started = time.monotonic()
        while time.monotonic() - started < 0.8:
            answers.append(c.get("/v1/sessions"))
        limited = [r for r in answers if r.status_code == 429]
        assert 15 <= sum(r.status_code == 200 for r in answers) <= 20 and limited, [r.status_code for r in answers]
        body = limited[0].json()["error"]
        assert body["code"] == "rate_limited" and "20 requests a second" in body["message"], body
        assert limited[0].headers["Retry-After"] == "1" and 0 < body["retry_after"] <= 1.5
        with connect(f"{keyed.ws}/v1/sessions/any/events", additional_headers=_as(key)) as ws:  # sockets count too
            error = _refused(ws)
        assert (error["code"], error["close_code"], ws.close_code) == ("rate_limited", 4429, 4429)
        assert "requests a second" in ws.close_reason
        time.sleep(1.1)
        assert c.get("/v1/sessions").status_code == 200  # the window moved on
    # another tenant was never slowed
    assert httpx.get(f"{keyed.base}/v1/sessions", headers=_as(keyed.env["globex"])).status_code == 200


def test_sessions_live_at_once_per_tenant_4429_until_one_ends(keyed):
    key = _tenant(keyed, "initech-live", "--live-sessions", "1")
    first, second = _session(keyed, key), _session(keyed, key)
    headers = _as(key)
    with connect(f"{keyed.ws}/v1/sessions/{first}/audio", additional_headers=headers) as live:
        live.send(START)
        assert json.loads(live.recv(timeout=30))["type"] == "ready"
        with connect(f"{keyed.ws}/v1/sessions/{second}/audio", additional_headers=headers) as ws:
            ws.send(START)
            error = _refused(ws)
        assert (error["code"], ws.close_code) == ("rate_limited", 4429), error
        assert "limit (1)" in error["message"] and "tenant_live_sessions" in ws.close_reason
        assert error["retry_after"] > 0
        limits = httpx.get(f"{keyed.base}/v1/settings", headers=headers).json()["limits"]
        assert (limits["live_sessions"], limits["live_sessions_now"], limits["key_requests_per_s"]) == (1, 1, 1000)
        # another tenant is not held to this one's limit
        other = _session(keyed, keyed.env["globex"])
        with connect(f"{keyed.ws}/v1/sessions/{other}/audio", additional_headers=_as(keyed.env["globex"])) as ws:
            ws.send(START)
            assert json.loads(ws.recv(timeout=30))["type"] == "ready"
        live.send(json.dumps({"type": "stop"}))
        drain(live)
    with connect(f"{keyed.ws}/v1/sessions/{second}/audio", additional_headers=headers) as ws:
        ws.send(START)
        assert json.loads(ws.recv(timeout=30))["type"] == "ready"  # the first one ended: room again


def test_audio_hours_a_day_close_the_socket_and_keep_what_was_taken(keyed, librivox):
    key = _tenant(keyed, "initech-audio", "--audio-hours-per-day", "0.002")  # 7 s
    sid = _session(keyed, key)
    speech = np.concatenate([librivox[0].audio, np.zeros(8000, np.float32), librivox[1].audio])
    assert len(speech) / 16000 > 9
    data = pcm16(speech)
    with connect(f"{keyed.ws}/v1/sessions/{sid}/audio", additional_headers=_as(key)) as ws:
        ws.send(START)
        for i in range(0, len(data), 3200):
            try:
                ws.send(data[i:i + 3200])
            except Exception:  # closed for the limit while sending
                break
            time.sleep(0.02)
        messages = drain(ws, timeout=60)
    errors = [m for m in messages if m.get("type") == "error"]
    assert errors and errors[-1]["code"] == "rate_limited", messages
    assert ws.close_code == 4429 and "hours of audio a day" in ws.close_reason
    assert 3600 * 24 >= errors[-1]["retry_after"] > 0  # until midnight UTC
    deadline = time.monotonic() + 30
    while (stored := httpx.get(f"{keyed.base}/v1/sessions/{sid}", headers=_as(key)).json())["status"] == "live":
        assert time.monotonic() < deadline, stored
        time.sleep(0.2)
    assert stored["status"] == "paused" and 7 <= stored["audio_seconds"] < 9, stored
    text = httpx.get(f"{keyed.base}/v1/sessions/{sid}/transcript", params={"format": "txt"}, headers=_as(key)).text
    assert len(text.split()) >= 5, "the speech taken before the limit was transcribed: " + text
    limits = httpx.get(f"{keyed.base}/v1/settings", headers=_as(key)).json()["limits"]
    assert (limits["audio_hours_per_day"], limits["audio_seconds_today"]) == (0.002, 7), limits
    # nothing more today: a new socket and a file are refused before any audio
    with connect(f"{keyed.ws}/v1/sessions/{_session(keyed, key)}/audio", additional_headers=_as(key)) as ws:
        ws.send(START)
        assert _refused(ws)["code"] == "rate_limited" and ws.close_code == 4429
    r = httpx.post(f"{keyed.base}/v1/audio/transcriptions", headers=_as(key), data={"model": "whisper-1"},
                   files={"file": ("a.raw", b"\0" * 3200)})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1


def test_bots_and_uploads_per_tenant(keyed):
    key = _tenant(keyed, "initech-bots", "--bots", "0", "--upload-bytes", "2048")
    meeting = "https://meet.google.com/abc-defg-hij"
    r = httpx.post(f"{keyed.base}/v1/bots", json={"meeting_url": meeting}, headers=_as(key))
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited", r.text
    assert "tenant_bots" in r.json()["error"]["message"] and r.headers["Retry-After"]
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    scheduled = httpx.post(f"{keyed.base}/v1/bots", json={"meeting_url": meeting, "join_at": later},
                           headers=_as(key))
    assert scheduled.status_code == 201, scheduled.text  # it waits for room when its time comes
    big = {"file": ("a.wav", b"\0" * 4096)}
    r = httpx.post(f"{keyed.base}/v1/audio/transcriptions", headers=_as(key), data={"model": "whisper-1"}, files=big)
    assert r.status_code == 413 and "limit of 2048 bytes" in r.json()["error"]["message"], r.text
    r = httpx.post(f"{keyed.base}/v1/voiceprints", headers=_as(key), data={"name": "Bob"}, files=big)
    assert r.status_code == 413, r.text


def test_the_cli_refuses_limits_that_make_no_sense(keyed):
    _tenant(keyed, "initech-cli")
    for flag, value in (("--live-sessions", "-1"), ("--upload-bytes", "10")):
        r = _cli(keyed.data_dir, "tenants", "limits", "initech-cli", flag, value)
        assert r.returncode == 2 and flag in r.stderr, (r.stdout, r.stderr)
    shown = _cli(keyed.data_dir, "tenants", "list")
    assert shown.returncode == 0 and "initech-cli" in shown.stdout and "the server's" in shown.stdout
