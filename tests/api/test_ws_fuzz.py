"""The two WebSockets fuzzed: seeded random sequences of good, malformed and hostile messages.
Every close other than 1000 is announced by an `error` event with the same `close_code`, no
close is a 1011, and a witness session streaming real speech meanwhile ends with its whole
transcript."""

from __future__ import annotations

import json
import random
import threading
from urllib.parse import quote

from tests.conftest import conversation, exchange, pcm16, stream, wer

START = {"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}
DOCUMENTED = {1000, 1001, 4400, 4404, 4408, 4409, 4413, 4415, 4429}
CASES = 120


def _junk(rng: random.Random) -> str | bytes:
    """One hostile frame."""
    kind = rng.randrange(14)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 4000))
    if kind == 1:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 200)))
    if kind == 2:
        return "[" * rng.choice([10, 5000, 200_000]) + "]" * 3  # deep nesting
    if kind == 3:
        return json.dumps({**START, "sample_rate": rng.choice(["16000", True, -1, 0, 10**12, 1.5, None])})
    if kind == 4:
        return json.dumps({**START, "channels": rng.choice([0, 9, "2", True, None, 2**40])})
    if kind == 5:
        return json.dumps({**START, "format": rng.choice(["", "flac", "mp3", "x" * 1000, None, 7])})
    if kind == 6:
        return json.dumps({**START, "track": rng.choice(["", "a b", "ü", "x" * 65, "t\n1"]), "events": "all"})
    if kind == 7:
        return json.dumps({"type": "speakers", "events": rng.choice([[], [{}], [{"kind": "on"}], "x", None])})
    if kind == 8:
        return json.dumps({"type": rng.choice(["stop", "start", "nope", "", None, 3])})
    if kind == 9:
        return json.dumps(rng.choice([[], 1, "start", None, {"type": {"a": 1}}]))
    if kind == 10:
        return json.dumps({**START, "participant": rng.choice([{}, {"id": ""}, {"id": "a\x00b"}, {"id": "p", "name": "\n"}])})
    if kind == 11:
        return b"\0" * rng.choice([1, 3199, 3200, 1 << 20])
    if kind == 12:
        return json.dumps({**START, "events": rng.choice(["none", "some", 1])})
    return json.dumps(START)


def _checked(case: int, out: list[dict], code: int | None) -> None:
    assert code in DOCUMENTED, (case, code, out[-3:])
    if code != 1000:
        errors = [m for m in out if m.get("type") == "error"]
        assert errors and errors[-1]["close_code"] == code, (case, code, out[-3:])


def test_fuzzed_sockets_close_as_documented_while_a_witness_streams(server, librivox):
    audio, reference = conversation(librivox[:3])
    witness = server.create_session(title="witness")
    result = {}
    t = threading.Thread(target=lambda: result.update(r=stream(server, witness["id"], pcm16(audio), pace=0.02)))
    t.start()
    rng = random.Random(20261202)
    for case in range(CASES):
        sid = server.create_session(title=f"fuzz {case}")["id"]
        if rng.random() < 0.2:  # the events socket: hostile after_seq values
            after = rng.choice(["-1", "abc", "²", "٣", "9" * 30, "1e3", "", " 1", "0x10", "3"])
            out, code, _ = exchange(f"{server.ws}/v1/sessions/{sid}/events?after_seq={quote(after)}", [], idle=3)
            if code is not None:
                _checked(case, out, code)
            else:  # a good after_seq: the socket waits for the session's events
                assert after == "3", (case, after, out)
            continue
        frames = [_junk(rng) for _ in range(rng.randrange(1, 6))]
        if rng.random() < 0.5:
            frames.append(json.dumps({"type": "stop"}))
        out, code, _ = exchange(f"{server.ws}/v1/sessions/{sid}/audio", frames, idle=3)
        if code is not None:  # None: a good start, the live session waits for more audio
            _checked(case, out, code)
    t.join(timeout=300)
    r = result["r"]
    assert r.close_code == 1000 and wer(reference, r.text) < 0.2, (r.close_code, r.text)
