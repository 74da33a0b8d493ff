"""The recorded audio over HTTP: a WAV header generated in front of the stored PCM, served
whole, in byte ranges (every form of RFC 9110's ``Range``) and to HEAD, so players can seek."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from tests.conftest import pcm16, stream


@pytest.fixture(scope="module")
def recording(server, librivox):
    """A finished session with audio, and the whole WAV file as GET answers it."""
    session = server.create_session(title="Range test")
    stream(server, session["id"], pcm16(librivox[4].audio), chunk_bytes=32000)
    with server.client() as c:
        whole = c.get(f"/v1/sessions/{session['id']}/audio")
    assert whole.status_code == 200, whole.text
    return session, whole


def test_whole_file_is_a_wav_of_the_recording_and_says_it_takes_ranges(recording, librivox):
    _, whole = recording
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(whole.content)
    with wave.open(io.BytesIO(whole.content)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() == len(librivox[4].audio)
        kept = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(int)
    sent = np.frombuffer(pcm16(librivox[4].audio), np.int16).astype(int)
    assert np.abs(kept - sent).max() <= 1  # the samples sent, rounded once through float


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-43", 0, 43),  # the header alone
        ("bytes=40-1000", 40, 1000),  # across header and data
        ("bytes=10000-", 10000, None),  # open end: to the end of the file
        ("bytes=-100", -100, None),  # suffix: the last 100 bytes
        ("bytes=1000-99999999", 1000, None),  # a last byte past the end is cut to the end
    ],
)
def test_byte_range_answers_206_with_those_bytes(server, recording, header, first, last):
    session, whole = recording
    size = len(whole.content)
    with server.client() as c:
        r = c.get(f"/v1/sessions/{session['id']}/audio", headers={"Range": header})
    start = first % size
    end = size - 1 if last is None else last
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert r.headers["accept-ranges"] == "bytes"
    assert int(r.headers["content-length"]) == end + 1 - start
    assert r.content == whole.content[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=-0"])
def test_unsatisfiable_range_answers_416_with_the_size(server, recording, header):
    session, whole = recording
    with server.client() as c:
        r = c.get(f"/v1/sessions/{session['id']}/audio", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(whole.content)}"
    assert r.json()["error"]["code"] == "range_not_satisfiable"
    assert "outside the recording" in r.json()["error"]["message"]


@pytest.mark.parametrize("header", ["bytes=500-100", "bytes=0-1,5-9", "seconds=1-2", "bytes=x-"])
def test_range_the_server_may_ignore_answers_the_whole_file(server, recording, header):
    session, whole = recording
    with server.client() as c:
        r = c.get(f"/v1/sessions/{session['id']}/audio", headers={"Range": header})
    assert r.status_code == 200 and r.content == whole.content


def test_head_answers_the_same_headers_without_a_body(server, recording):
    session, whole = recording
    with server.client() as c:
        head = c.head(f"/v1/sessions/{session['id']}/audio")
        part = c.head(f"/v1/sessions/{session['id']}/audio", headers={"Range": "bytes=-10"})
        missing = c.head("/v1/sessions/nope/audio")
    assert head.status_code == 200 and head.content == b""
    for name in ("content-length", "accept-ranges", "content-type", "content-disposition"):
        assert head.headers[name] == whole.headers[name], name
    assert part.status_code == 206 and part.content == b""
    assert part.headers["content-range"] == f"bytes {len(whole.content) - 10}-{len(whole.content) - 1}/{len(whole.content)}"
    assert missing.status_code == 404


def test_audio_downloads_under_the_title_and_date(recording):
    session, whole = recording
    day = session["created_at"][:10]
    assert whole.headers["content-disposition"] == f'attachment; filename="range-test-{day}.wav"'
