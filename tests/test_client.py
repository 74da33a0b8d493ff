"""The Python client (livetranslate.client) against the real server: sessions, a file's audio
in, typed events out (resumed after a dropped connection, nothing twice, nothing missed),
exports — sync and async."""

from __future__ import annotations

import asyncio
import threading
import wave

import numpy as np
import pytest

from livetranslate.client import AsyncClient, Client, ClientError
from livetranslate.events import SegmentEvent, SessionEndedEvent, TranslationEvent
from tests.conftest import pcm16, wer


def _wav(tmp_path, audio) -> str:
    path = tmp_path / "speech.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm16(audio))
    return str(path)


def _finals(events) -> list[SegmentEvent]:
    return [e for e in events if isinstance(e, SegmentEvent) and e.status == "final" and e.text]


def test_sync_client_streams_a_file_and_reads_typed_events_and_exports(server, librivox, tmp_path):
    clip = librivox[0]
    with Client(server.base) as lt:
        session = lt.create_session(title="client", targets=["es"])
        lt.stream_file(session["id"], _wav(tmp_path, clip.audio), realtime=False)
        events = list(lt.events(session["id"]))
        srt = lt.transcript(session["id"], "srt")
        spanish = lt.transcript(session["id"], "txt", "es")
        with pytest.raises(ClientError) as e:
            lt.session("nope")
    assert isinstance(events[-1], SessionEndedEvent) and [e.seq for e in events] == list(range(1, len(events) + 1))
    assert any(isinstance(e, TranslationEvent) for e in events)
    assert wer(clip.text, " ".join(e.text for e in _finals(events))) < 0.2
    assert "-->" in srt and spanish.strip()
    assert e.value.status == 404 and e.value.code == "not_found"


def test_captions_arrive_while_the_audio_is_still_being_sent(server, librivox):
    audio = np.concatenate([librivox[1].audio, np.zeros(16000, np.float32), librivox[2].audio])

    async def main():
        async with AsyncClient(server.base) as lt:
            session = await lt.create_session(title="async")
            sending = asyncio.ensure_future(lt.stream_audio(session["id"], audio, realtime=True))
            first_final_while_sending = None
            events = []
            async for event in lt.events(session["id"]):
                events.append(event)
                if first_final_while_sending is None and isinstance(event, SegmentEvent) and event.status == "final":
                    first_final_while_sending = not sending.done()
            await sending
            return events, first_final_while_sending

    events, while_sending = asyncio.run(main())
    assert while_sending is True and isinstance(events[-1], SessionEndedEvent)


class _Proxy:
    """A TCP proxy to the server that a test can cut: every connection through it drops at once."""

    def __init__(self, port: int) -> None:
        self.target, self.port, self._writers = port, 0, set()
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),), daemon=True).start()
        self._ready.wait(5)

    async def _serve(self):
        server = await asyncio.start_server(self._pipe, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _pipe(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, up_writer}

        async def copy(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))

    def cut(self) -> None:
        def close_all():
            for w in list(self._writers):
                w.transport.abort()
            self._writers.clear()
        self._loop.call_soon_threadsafe(close_all)


def test_events_resume_after_the_connection_drops_with_nothing_twice_or_missed(server, librivox, tmp_path):
    proxy = _Proxy(server.port)
    with Client(server.base) as direct, Client(f"http://127.0.0.1:{proxy.port}") as lt:
        session = direct.create_session(title="dropped")
        sender = threading.Thread(target=direct.stream_file, args=(session["id"], _wav(tmp_path, np.concatenate(
            [librivox[3].audio, np.zeros(16000, np.float32), librivox[4].audio]))), kwargs={"realtime": True})
        sender.start()
        events, cut = [], False
        for event in lt.events(session["id"]):
            events.append(event)
            if not cut and isinstance(event, SegmentEvent) and event.status == "final":
                proxy.cut()  # the reader's connection drops mid-session
                cut = True
        sender.join()
        stored = list(direct.events(session["id"]))
    assert cut and [e.seq for e in events] == [e.seq for e in stored]  # the same events, each once
    assert isinstance(events[-1], SessionEndedEvent)
