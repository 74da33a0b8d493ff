"""The session runtime in-process (tests/session/harness.py): tracks, commands through the
bus, and what a session publishes — on the real engine, store and in-memory bus."""

from __future__ import annotations

from livetranslate.session.service import EVERYONE

import asyncio
import threading

import numpy as np
import pytest

from livetranslate.errors import Conflict
from livetranslate.events import RetargetCommand, SegmentEvent, SessionEndedEvent, SessionStatusEvent, TranslationEvent
from livetranslate.session import TrackSpec, TrackState
from tests.conftest import wer
from tests.session.harness import Feed, run_session, settings_for


def _speech(librivox, n: int = 2, gap_s: float = 0.8) -> tuple[np.ndarray, str]:
    gap = np.zeros(int(gap_s * 16000), np.float32)
    parts = [gap]
    for clip in librivox[:n]:
        parts += [clip.audio, gap]
    return np.concatenate(parts), " ".join(c.text for c in librivox[:n])


def _finals(events) -> list[SegmentEvent]:
    return [e for e in events if isinstance(e, SegmentEvent) and e.status == "final" and e.text]


def test_a_track_that_stops_publishes_its_finals_then_ends_the_session(tmp_path, librivox):
    audio, text = _speech(librivox)
    out = asyncio.run(run_session(settings_for(tmp_path), [Feed(audio)]))
    kinds = [type(e) for e in out.events]
    assert kinds[0] is SessionStatusEvent and out.events[0].status == "live"
    assert kinds[-1] is SessionEndedEvent
    assert [e.seq for e in out.events] == list(range(1, len(out.events) + 1))
    assert wer(text, " ".join(e.text for e in _finals(out.events))) < 0.15


def test_a_source_that_goes_away_pauses_the_session_and_keeps_what_it_sent(tmp_path, librivox):
    audio, text = _speech(librivox, 1)
    out = asyncio.run(run_session(settings_for(tmp_path), [Feed(audio, stop=False)]))
    assert isinstance(out.events[-1], SessionStatusEvent) and out.events[-1].status == "paused"
    assert wer(text, " ".join(e.text for e in _finals(out.events))) < 0.15


def test_retarget_through_the_bus_translates_the_next_finals(tmp_path, librivox):
    audio, _ = _speech(librivox, 3)
    out = asyncio.run(run_session(
        settings_for(tmp_path), [Feed(audio, pace=1.0)], [(0.5, RetargetCommand(targets=["es"]))],
    ))
    assert out.replies == [True]  # the live session handled it
    translated = {e.segment_id for e in out.events if isinstance(e, TranslationEvent) and e.status == "final"}
    finals = _finals(out.events)
    assert translated and finals[-1].segment_id in translated


def test_ending_from_rest_stops_the_sources_and_keeps_every_final(tmp_path, librivox):
    audio, _ = _speech(librivox, 3)

    async def end(services, session_id):
        return (await services.sessions.end(session_id)).status.value

    out = asyncio.run(run_session(settings_for(tmp_path), [Feed(audio, pace=1.0)], [(4.0, end)]))
    assert out.replies == ["ended"] and out.closed == ["session ended"]
    assert isinstance(out.events[-1], SessionEndedEvent) and out.events[-1].reason == "ended"
    heard = out.events[-1].audio_seconds
    # stopped mid-way: the end comes 4 s after the feed task starts, whose audio begins once the
    # track is open (0.5-0.7 s later on a busy 2-core machine: 3.3 s heard there, 3.5+ alone)
    assert 2.5 < heard < audio.size / 16000
    assert _finals(out.events) and max(e.end for e in _finals(out.events)) <= heard + 0.01  # with its finals


def test_deleting_a_live_container_session_closes_its_decoder(tmp_path, librivox):
    """Deleting a live webm session used to leave its demuxer thread blocked on the pipe."""
    import av, io  # noqa: E401

    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(librivox[0].audio.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = 16000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for f in resampler.resample(frame):
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))
    data = buf.getvalue()
    half = data[: len(data) // 2]

    async def delete(services, session_id):
        decoding = [t for t in threading.enumerate() if t.name.startswith("decode-")]
        await services.sessions.delete(session_id)
        for t in decoding:  # each demuxer thread ends (it used to wait on its pipe for ever)
            await asyncio.to_thread(t.join, 5)
        return [t.name for t in decoding if t.is_alive()], len(decoding)

    async def main():
        from livetranslate.runtime import running

        async with running(settings_for(tmp_path)) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])
            closed = []

            async def terminate(reason):
                closed.append(reason)

            track = await services.live.open_track(row.id, TrackSpec(format="webm"), terminate)
            for i in range(0, len(half), 4000):
                await track.feed(half[i : i + 4000])
            left = await delete(services, row.id)
            with pytest.raises(Conflict):
                await track.feed(b"more")
            return left, closed, track.state

    (left, decoding), closed, state = asyncio.run(main())
    assert decoding == 1 and left == [] and closed == ["session deleted"] and state is TrackState.cancelled


def test_a_track_takes_no_audio_after_it_stopped(tmp_path, librivox):
    async def main():
        from livetranslate.runtime import running

        async with running(settings_for(tmp_path)) as services:
            row = await services.sessions.create(scope=EVERYONE, title=None, language="en", targets=[])

            async def terminate(reason):
                pass

            track = await services.live.open_track(row.id, TrackSpec(sample_rate=16000), terminate)
            await track.feed(b"\0\0" * 1600)
            ended = await track.stop()
            with pytest.raises(Conflict, match="stopped"):
                await track.feed(b"\0\0" * 1600)
            return ended, track.state

    ended, state = asyncio.run(main())
    assert isinstance(ended, SessionEndedEvent) and state is TrackState.stopped


def test_a_final_whose_decode_fails_is_announced_not_lost_silently(tmp_path, librivox):
    """Fault injection on the real engine: its second final raises. The session says so with an
    ``asr_failed`` warning (segment id and times) and goes on with the next ones."""
    from livetranslate import metrics
    from livetranslate.asr import Priority
    from livetranslate.events import WarningEvent

    audio, _ = _speech(librivox, 3)
    before = metrics.ASR_FAILURES._value.get()

    async def hook(services):
        real, finals = services.engine.transcribe, []

        async def transcribe(audio, options, priority, **kw):
            if priority is Priority.FINAL:
                finals.append(1)
                if len(finals) == 2:
                    raise RuntimeError("decoder crashed")
            return await real(audio, options, priority, **kw)

        services.engine.transcribe = transcribe

    out = asyncio.run(run_session(settings_for(tmp_path), [Feed(audio)], before_start=hook))
    warnings = [e for e in out.events if isinstance(e, WarningEvent)]
    assert [w.code for w in warnings] == ["asr_failed"]
    w = warnings[0]
    assert w.segment_id and 0 < w.start < w.end and "decoder crashed" in w.message
    assert len(_finals(out.events)) == 2 and isinstance(out.events[-1], SessionEndedEvent)
    assert metrics.ASR_FAILURES._value.get() == before + 1
