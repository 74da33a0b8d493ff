"""A Python client for a LiveTranslate server: sessions, audio in, typed events out, exports.

    from livetranslate.client import Client

    with Client("http://127.0.0.1:8000") as lt:
        session = lt.create_session(title="Standup", targets=["es"])
        lt.add_source(session["id"], "https://example.org/live/radio.m3u8")   # or lt.stream_file(...)
        for event in lt.events(session["id"]):                               # until session.ended
            if event.type == "segment" and event.status == "final":
                print(event.start, event.text)

:class:`AsyncClient` is the same with ``await`` / ``async for``. :meth:`AsyncClient.events`
resumes by itself after a dropped connection (from the last ``seq`` it gave: nothing twice,
nothing missed). :meth:`AsyncClient.stream_file` sends a file's audio at real-time pace (or
as fast as the server takes it) while it reads whatever the audio socket sends back, so a
sender never stalls the socket.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np

from livetranslate.events import SessionEndedEvent, SessionEventT, parse_session_event

_RETRY_S = (0.2, 0.5, 1.0, 2.0, 4.0)  # then every 4 s ...
_RESUME_FOR_S = 120.0  # ... for this long without an event (a server restarting loads its models)


class ClientError(Exception):
    """The server refused a request (``status``, ``code`` and its message) or cannot be reached."""

    def __init__(self, message: str, status: int = 0, code: str = "unreachable") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class AsyncClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # --- REST

    async def _call(self, method: str, path: str, **kw) -> httpx.Response:
        try:
            r = await self._http.request(method, path, **kw)
        except httpx.TransportError as e:
            raise ClientError(f"no LiveTranslate server at {self.base_url} ({e}); start one with `livetranslate serve`") from e
        if r.status_code >= 400:
            try:
                error = r.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"message": r.text or r.reason_phrase, "code": f"http_{r.status_code}"}
            raise ClientError(error["message"], r.status_code, error.get("code", ""))
        return r

    async def create_session(self, **body) -> dict:
        """``title``, ``language`` (None: detect), ``targets``, ``translation_engine``, ``glossary``."""
        return (await self._call("POST", "/v1/sessions", json=body)).json()

    async def session(self, session_id: str) -> dict:
        return (await self._call("GET", f"/v1/sessions/{session_id}")).json()

    async def end(self, session_id: str) -> dict:
        return (await self._call("POST", f"/v1/sessions/{session_id}/end")).json()

    async def add_source(self, session_id: str, url: str, **body) -> dict:
        """Have the server read a stream URL into the session (``track``, ``participant`` optional)."""
        return (await self._call("POST", f"/v1/sessions/{session_id}/sources", json={"url": url, **body})).json()

    async def transcript(self, session_id: str, format: str = "srt", lang: str | None = None) -> str:
        params = {"format": format} | ({"lang": lang} if lang else {})
        return (await self._call("GET", f"/v1/sessions/{session_id}/transcript", params=params)).text

    async def create_bot(self, meeting_url: str, **body) -> dict:
        """Send a bot into a meeting (``bot_name``, ``language``, ``targets``, ``automatic_leave``, ...)."""
        return (await self._call("POST", "/v1/bots", json={"meeting_url": meeting_url, **body})).json()

    async def bot(self, bot_id: str) -> dict:
        return (await self._call("GET", f"/v1/bots/{bot_id}")).json()

    async def bots(self, *, status: str | None = None, limit: int = 20, offset: int = 0) -> dict:
        params = {"limit": limit, "offset": offset} | ({"status": status} if status else {})
        return (await self._call("GET", "/v1/bots", params=params)).json()

    async def leave_bot(self, bot_id: str) -> dict:
        return (await self._call("POST", f"/v1/bots/{bot_id}/leave")).json()

    async def pause_bot(self, bot_id: str) -> dict:
        """The bot stays in the call; its captions stop until :meth:`resume_bot`."""
        return (await self._call("POST", f"/v1/bots/{bot_id}/pause")).json()

    async def resume_bot(self, bot_id: str) -> dict:
        return (await self._call("POST", f"/v1/bots/{bot_id}/resume")).json()

    # --- WebSockets

    def _ws(self, path: str) -> str:
        return "ws" + self.base_url.removeprefix("http") + path

    async def events(self, session_id: str, after_seq: int = 0) -> AsyncIterator[SessionEventT]:
        """The session's events after ``after_seq``, typed, until ``session.ended``; a dropped
        connection is reopened from the last seq given (after a few failures in a row it gives up)."""
        import websockets

        loop = asyncio.get_running_loop()
        last, failures, since = after_seq, 0, loop.time()
        while True:
            why: object = None
            try:
                async with websockets.connect(self._ws(f"/v1/sessions/{session_id}/events?after_seq={last}"),
                                              max_size=None) as ws:
                    async for message in ws:
                        data = json.loads(message)
                        if data.get("type") == "error":
                            continue  # the close that follows says what to do
                        event = parse_session_event(data)
                        if event.seq <= last:
                            continue
                        last, failures, since = event.seq, 0, loop.time()
                        yield event
                        if isinstance(event, SessionEndedEvent):
                            return
                    _refused(ws.close_code, ws.close_reason, gone_too=True)
                    why = f"closed with {ws.close_code} {ws.close_reason}".strip()  # lagging, or the server went
            except (OSError, websockets.ConnectionClosedError, websockets.InvalidHandshake) as e:
                why = e
            failures += 1
            if loop.time() - since > _RESUME_FOR_S:
                raise ClientError(f"the events of session {session_id} cannot be read: {why}")
            await asyncio.sleep(_RETRY_S[min(failures, len(_RETRY_S)) - 1])

    async def stream_file(self, session_id: str, path: str | Path, *, realtime: bool = True,
                          chunk_s: float = 0.1) -> None:
        """Send a file's audio (any format PyAV decodes) into the session over its audio socket,
        then ``stop``: returns once the server has closed it (its finals are stored)."""
        from livetranslate.audio import decode_file

        audio = await asyncio.to_thread(decode_file, Path(path))
        await self.stream_audio(session_id, audio, realtime=realtime, chunk_s=chunk_s)

    async def stream_audio(self, session_id: str, audio: np.ndarray, *, realtime: bool = True,
                           chunk_s: float = 0.1) -> None:
        """Like :meth:`stream_file`, for 16 kHz mono float32 samples."""
        import websockets

        from livetranslate.audio import to_pcm16

        pcm, step = to_pcm16(audio), int(16000 * chunk_s) * 2
        async with websockets.connect(self._ws(f"/v1/sessions/{session_id}/audio"), max_size=None) as ws:
            await ws.send(json.dumps({"type": "start", "format": "pcm_s16le", "sample_rate": 16000, "channels": 1}))
            ready = json.loads(await ws.recv())
            if ready.get("type") != "ready":
                raise ClientError(ready.get("message", str(ready)), 0, ready.get("code", "refused"))
            reader = asyncio.ensure_future(_drain(ws))  # what the socket sends back is read, never left to pile up
            try:
                loop = asyncio.get_running_loop()
                started = loop.time()
                for i in range(0, len(pcm), step):
                    await ws.send(pcm[i : i + step])
                    if realtime:
                        ahead = (i + step) / 32000 - (loop.time() - started)
                        if ahead > 0:
                            await asyncio.sleep(ahead)
                await ws.send(json.dumps({"type": "stop"}))
                await reader
            finally:
                reader.cancel()
            if ws.close_code not in (1000, 1001):  # refused, or the server failed: what was sent is kept
                raise ClientError(ws.close_reason or f"the audio socket closed with {ws.close_code}",
                                  ws.close_code or 0, "closed")


async def _drain(ws) -> None:
    import websockets

    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass


def _refused(code: int | None, reason: str, *, gone_too: bool = False) -> None:
    """A close that trying again will not mend: not found, refused input (4xxx but lagging),
    or (``gone_too``, for readers) the session deleted (1001 saying so; a server that stops
    closes with 1001 too, and is waited for)."""
    deleted = gone_too and code == 1001 and "deleted" in (reason or "")
    if code is not None and (4400 <= code < 4500 and code != 4408 or deleted):
        raise ClientError(reason or f"closed with {code}", code, "closed")


class Client:
    """:class:`AsyncClient` for code without an event loop: each call runs on a loop of its own
    (in a thread), and :meth:`events` is a plain iterator."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, timeout: float = 30.0) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="livetranslate-client", daemon=True)
        self._thread.start()
        self._async = self._run(_make(base_url, timeout))

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        self._run(self._async.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def create_session(self, **body) -> dict:
        return self._run(self._async.create_session(**body))

    def session(self, session_id: str) -> dict:
        return self._run(self._async.session(session_id))

    def end(self, session_id: str) -> dict:
        return self._run(self._async.end(session_id))

    def add_source(self, session_id: str, url: str, **body) -> dict:
        return self._run(self._async.add_source(session_id, url, **body))

    def transcript(self, session_id: str, format: str = "srt", lang: str | None = None) -> str:
        return self._run(self._async.transcript(session_id, format, lang))

    def create_bot(self, meeting_url: str, **body) -> dict:
        return self._run(self._async.create_bot(meeting_url, **body))

    def bot(self, bot_id: str) -> dict:
        return self._run(self._async.bot(bot_id))

    def bots(self, **params) -> dict:
        return self._run(self._async.bots(**params))

    def leave_bot(self, bot_id: str) -> dict:
        return self._run(self._async.leave_bot(bot_id))

    def pause_bot(self, bot_id: str) -> dict:
        return self._run(self._async.pause_bot(bot_id))

    def resume_bot(self, bot_id: str) -> dict:
        return self._run(self._async.resume_bot(bot_id))

    def stream_file(self, session_id: str, path: str | Path, *, realtime: bool = True, chunk_s: float = 0.1) -> None:
        self._run(self._async.stream_file(session_id, path, realtime=realtime, chunk_s=chunk_s))

    def stream_audio(self, session_id: str, audio: np.ndarray, *, realtime: bool = True, chunk_s: float = 0.1) -> None:
        self._run(self._async.stream_audio(session_id, audio, realtime=realtime, chunk_s=chunk_s))

    def events(self, session_id: str, after_seq: int = 0) -> Iterator[SessionEventT]:
        events = self._async.events(session_id, after_seq)
        try:
            while True:
                future = asyncio.run_coroutine_threadsafe(anext(events), self._loop)
                try:
                    yield future.result()
                except StopAsyncIteration:
                    return
                except BaseException:  # Ctrl-C while waiting: the read in progress is called off first
                    future.cancel()
                    concurrent.futures.wait([future], timeout=5)
                    raise
        finally:
            self._run(events.aclose())


async def _make(base_url: str, timeout: float) -> AsyncClient:
    return AsyncClient(base_url, timeout=timeout)
