"""Stream URLs read into a live session, against servers on 127.0.0.1 (tests/sources/servers.py):
an HTTP MP3 file, an HLS playlist, an endless MP3 stream that is cut and restored, a 404, a
page that is not audio and a stream that stalls. In-process runtime, real engine and store."""

from __future__ import annotations

from livetranslate.session.service import EVERYONE

import asyncio

import numpy as np
import pytest

from livetranslate.errors import Conflict, UnsupportedUrl
from livetranslate.events import SegmentEvent, SessionStatusEvent, SourceStatusEvent
from livetranslate.runtime import running
from livetranslate.sources.url import check_url
from tests.conftest import wer
from tests.session.harness import settings_for
from tests.sources.servers import Streams


@pytest.fixture(scope="module")
def speech(librivox):
    gap = np.zeros(8000, np.float32)
    return np.concatenate([gap, librivox[0].audio, gap, librivox[1].audio, gap]), f"{librivox[0].text} {librivox[1].text}"


@pytest.fixture()
def streams(speech, tmp_path):
    with Streams(speech[0], tmp_path) as s:
        yield s


async def _follow(services, session_id, until, timeout=60.0):
    """Events of the session until ``until(event)`` is true (or the timeout)."""
    out = []
    async with services.bus.subscribe(session_id, 0) as sub:
        async def read():
            async for e in sub:
                out.append(e)
                if until(e):
                    return
        await asyncio.wait_for(read(), timeout)
    return out


def _states(events):
    return [(e.state, e.reason) for e in events if isinstance(e, SourceStatusEvent)]


def _text(events):
    return " ".join(e.text for e in events if isinstance(e, SegmentEvent) and e.status == "final" and e.text)


def _source_over(e):
    return isinstance(e, SourceStatusEvent) and e.state in ("ended", "failed")


@pytest.mark.parametrize("path", ["/speech.mp3", "/hls/index.m3u8"])
def test_a_file_or_hls_url_is_transcribed_at_real_time_pace_and_ends_the_session(tmp_path, streams, speech, path):
    async def main():
        async with running(settings_for(tmp_path)) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])
            loop = asyncio.get_running_loop()
            started = loop.time()
            await services.sources.add(row.id, streams.url(path))
            events = await _follow(services, row.id, lambda e: e.type == "session.ended")
            return events, loop.time() - started, (await services.sources.list(row.id))[0]

    events, took, source = asyncio.run(main())
    assert _states(events) == [("connecting", None), ("live", None), ("ended", "the stream ended")]
    assert wer(speech[1], _text(events)) < 0.15
    assert took >= streams.seconds * 0.9  # paced as a live source, not read at once
    assert source.state == "ended"


def test_a_live_stream_that_drops_is_reconnected_and_the_session_resumes_on_its_timeline(tmp_path, streams):
    settings = settings_for(tmp_path, source_retry_s=0.3, source_retry_max_s=1.0, source_retries=20)

    async def main():
        async with running(settings) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])
            source = await services.sources.add(row.id, streams.url("/live.mp3"))
            await _follow(services, row.id, lambda e: isinstance(e, SegmentEvent) and e.status == "final" and e.text)
            streams.cut()
            await _follow(services, row.id, lambda e: isinstance(e, SessionStatusEvent) and e.status == "paused")
            await asyncio.sleep(1.5)  # down a while: reconnects are refused (503)
            streams.restore()
            seen = await _follow(services, row.id, lambda e: isinstance(e, SessionStatusEvent) and e.status == "live"
                                 and e.seq > 3)
            resumed_at = [e for e in seen if isinstance(e, SessionStatusEvent)][-1].audio_seconds
            await _follow(services, row.id, lambda e: isinstance(e, SegmentEvent) and e.status == "final"
                          and e.text and e.start >= resumed_at)  # speech heard after the reconnect
            await services.sources.remove(row.id, source.id)  # returns once its track has let go
            last = (await services.sessions.get(row.id)).last_seq
            events = await _follow(services, row.id, lambda e: e.seq >= last)
            return seen, events, await services.sessions.get(row.id), streams.connections

    seen, events, session, connections = asyncio.run(main())
    states = [s for s, _ in _states(events)]
    assert states[:2] == ["connecting", "live"] and "reconnecting" in states and states[-1] == "ended"
    assert states.count("live") >= 2 and _states(events)[-1] == ("ended", "removed")
    statuses = [(e.status, e.audio_seconds) for e in events if isinstance(e, SessionStatusEvent)]
    (_, paused_at), resumed = statuses[1], [t for s, t in statuses[2:] if s == "live"][0]
    assert statuses[0][0] == "live" and statuses[1][0] == "paused" and resumed == pytest.approx(paused_at, abs=0.01)
    finals = [e for e in events if isinstance(e, SegmentEvent) and e.status == "final" and e.text]
    assert any(e.start >= paused_at for e in finals)  # speech after the reconnect, on the same timeline
    assert session.status.value == "paused" and connections >= 3  # removed: the session waits for more audio


@pytest.mark.parametrize("path,reason", [
    ("/missing", "the server answered 404 Not Found"),
    ("/page.html", "the URL is not audio or video that can be decoded"),
])
def test_a_url_that_is_no_stream_fails_at_once_with_the_reason(tmp_path, streams, path, reason):
    async def main():
        async with running(settings_for(tmp_path)) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])
            await services.sources.add(row.id, streams.url(path))
            events = await _follow(services, row.id, _source_over)
            return events, await services.sessions.get(row.id)

    events, session = asyncio.run(main())
    assert _states(events) == [("connecting", None), ("failed", reason)]
    assert streams.connections == 1 and session.status.value == "created"  # never retried, never live


def test_a_stream_that_stalls_is_retried_then_given_up(tmp_path, streams):
    settings = settings_for(tmp_path, source_open_timeout_s=1.0, source_read_timeout_s=1.0, source_retries=2,
                            source_retry_s=0.2)

    async def main():
        async with running(settings) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])
            await services.sources.add(row.id, streams.url("/stall.mp3"))
            return await _follow(services, row.id, _source_over)

    states = _states(asyncio.run(main()))
    assert [s for s, _ in states if s != "live"] == ["connecting", "reconnecting", "reconnecting", "failed"]
    assert "stalled" in states[-1][1] and "after 2 retries" in states[-1][1]


def test_only_network_schemes_are_read_and_a_fed_track_is_not_taken_twice(tmp_path, streams):
    for url, said in [("ftp://example.org/a.mp3", "http://, https://"), ("/etc/passwd", "without a scheme"),
                      ("file:///etc/passwd", "LIVETRANSLATE_ALLOW_FILE_URLS"), ("http://", "names no host")]:
        with pytest.raises(UnsupportedUrl, match=said):
            check_url(url)
    assert check_url("file:///tmp/a.mp3", allow_files=True)

    async def main():
        async with running(settings_for(tmp_path)) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])
            await services.sources.add(row.id, streams.url("/live.mp3"))
            with pytest.raises(Conflict, match="already feeds track"):
                await services.sources.add(row.id, streams.url("/speech.mp3"))
            other = await services.sources.add(row.id, streams.url("/speech.mp3"), track="second")
            return other.track

    assert asyncio.run(main()) == "second"


def test_two_sources_added_at_once_for_one_track_the_second_is_refused(tmp_path, streams):
    async def main():
        async with running(settings_for(tmp_path)) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])
            results = await asyncio.gather(*(services.sources.add(row.id, streams.url("/live.mp3")) for _ in range(2)),
                                           return_exceptions=True)
            kept = await services.sources.list(row.id)
            return results, kept

    results, kept = asyncio.run(main())
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "SourceRow"] and len(kept) == 1
