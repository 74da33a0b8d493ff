"""One bot's worker process, seen from the server: start it, turn what it says into moves,
participant events and audio on a track of the bot's session, and end it all when it exits.

    runner = BotRunner(row, bots, ...)   # the worker starts at once
    runner.leave()                       # it leaves the meeting, reports call_ended, exits
    await runner.done

The worker (``livetranslate bot worker``, :mod:`.worker`) runs the browser; it never touches
the store or the session: the server checks each move it reports against the lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import sys
from collections import deque

from livetranslate import executors
from livetranslate.bots import wire
from livetranslate.bots.lifecycle import TERMINAL, BotState, SubCode
from sqlalchemy.exc import SQLAlchemyError

from livetranslate.errors import Conflict, LiveTranslateError, NotFound
from livetranslate.events import Participant, SpeakerTimelineEvent
from livetranslate.session import TrackSpec
from livetranslate.session.track import TrackState
from livetranslate.store import bots as store
from livetranslate.store.models import BotRow

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPEECH = {"speech_on": "on", "speech_off": "off"}


class BotRunner:
    def __init__(self, row: BotRow, bots, *, settings, live, speakers, sessions, db, webhooks) -> None:
        self.bot_id = row.id
        self.session_id = row.session_id
        self._row = row
        self._bots = bots
        self._s = settings
        self._live = live
        self._speakers = speakers
        self._sessions = sessions
        self._db = db
        self._webhooks = webhooks
        self._proc: asyncio.subprocess.Process | None = None
        self._track = None  # the feeder's: where the worker's audio goes (None: nowhere, e.g. paused)
        self._stretch: tuple | None = None  # (track, since): the reader's, for the meeting's ring times
        self._pending = None  # a resume's track, until the worker says from when its audio goes on
        self._paused = False
        self._switch = asyncio.Lock()  # opening, pausing and resuming, one at a time
        self._ringing: dict[str, Participant] = {}  # whose speaking ring is on now (paused or not)
        self._stderr: deque[str] = deque(maxlen=20)
        self._killed: str | None = None
        self._leave_wanted = False
        self._closed = False
        self._audio_in: asyncio.Queue = asyncio.Queue()  # audio, and track changes in their place
        self._feeder = asyncio.create_task(self._feed(), name=f"bot-{row.id}-audio")
        self.done = asyncio.create_task(self._run(), name=f"bot-{row.id}")

    def spec(self) -> dict:
        """What the worker needs to know (the first line of its stdin)."""
        r, s = self._row, self._s
        return {
            "bot_id": r.id, "platform": r.platform, "meeting_url": r.meeting_url, "bot_name": r.bot_name,
            "automatic_leave": r.options["automatic_leave"], "browser_path": s.browser_path,
            "directory": str(self._bots.bot_dir(r.id)), "heartbeat_s": min(5.0, s.bot_heartbeat_timeout_s / 3),
            "input_mode": s.bot_input_mode, "retries": s.bot_join_retries,
        }

    def leave(self) -> None:
        """Ask the worker to leave the meeting (it reports call_ended and exits); said as soon
        as the worker is there to hear it."""
        self._leave_wanted = True
        self._send({"type": "leave"})

    async def pause(self) -> None:
        """The worker stops sending audio; what it sent before is fed, then the track goes:
        the session pauses with the finals of what it heard. The bot stays in the call."""
        async with self._switch:
            if self._paused or self._closed:
                return
            self._paused, self._stretch = True, None
            self._send({"type": "pause"})
            pending, self._pending = self._pending, None
            if pending is not None:  # resumed and paused before the worker answered
                with contextlib.suppress(LiveTranslateError):
                    await pending.abort()
            done = asyncio.get_running_loop().create_future()
            self._audio_in.put_nowait(done)
            await asyncio.wait({done, self._feeder}, return_when=asyncio.FIRST_COMPLETED)

    async def resume(self) -> None:
        """A new track on the session (raises when it cannot open), then the worker's audio
        again: it says first from which moment of the call (``resumed``)."""
        async with self._switch:
            if not self._paused or self._closed:
                return
            self._pending = await self._open_track()
            self._paused = False
            self._send({"type": "resume"})

    def kill(self, reason: str) -> None:
        """End the worker and what it started (its browser, its display) now: the reaper, a
        server stopping. No goodbye to the meeting."""
        self._killed = reason
        self._kill_group()

    def _kill_group(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)

    def _send(self, msg: dict) -> None:
        if self._proc is not None and self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.write((json.dumps(msg) + "\n").encode())

    # --- the worker's life

    async def _run(self) -> None:
        feeder = self._feeder
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "livetranslate", "bot", "worker",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                limit=wire.MAX_FRAME + 16, start_new_session=True,  # its own group: killed with its browser
            )
            self._send(self.spec())
            if self._killed is not None:
                self._kill_group()
            elif self._leave_wanted:
                self._send({"type": "leave"})
            errors = asyncio.create_task(self._read_stderr(), name=f"bot-{self.bot_id}-stderr")
            try:
                await self._read_frames()
            except Exception:
                log.exception("bot %s: its worker's reports cannot be read", self.bot_id)
                self._kill_group()
            finally:
                code = await self._proc.wait()
                await errors
            self._audio_in.put_nowait(None)
            await feeder  # what it heard is on the track before the track stops
            await self._ended(code)
        except NotFound:  # the bot (its session) was deleted under it
            self._kill_group()
        except Exception:
            log.exception("bot %s: its runner failed", self.bot_id)
            await self._force(BotState.fatal, SubCode.internal_error, "the server lost its worker")
        finally:
            self._kill_group()
            feeder.cancel()
            await self._close_track()
            await asyncio.to_thread(shutil.rmtree, self._bots.bot_dir(self.bot_id) / "profile", True)

    async def _read_frames(self) -> None:
        """Everything the worker says, as it says it: audio is queued for the track (which may
        make it wait while Whisper catches up) so that moves and heartbeats never wait behind it."""
        while (got := await wire.read_frame(self._proc.stdout)) is not None:
            kind, payload = got
            if kind == wire.AUDIO:
                self._audio_in.put_nowait(payload)
                continue
            try:
                await self._message(json.loads(payload))
            except (LiveTranslateError, SQLAlchemyError, ValueError, KeyError, TypeError) as e:
                log.warning("bot %s: a report was not taken (%s): %s", self.bot_id, e, payload[:300])

    async def _feed(self) -> None:
        """The worker's audio onto the track, and the track changes where they fall in it: a
        pause after what came before it, a resume before what comes after."""
        try:
            while (item := await self._audio_in.get()) is not None:
                if isinstance(item, bytes):
                    await self._feed_audio(item)
                elif isinstance(item, tuple):  # ("resumed", track)
                    self._track = item[1]
                else:  # a pause (a future to resolve once the old track is gone)
                    await self._let_go()
                    item.set_result(None)
        finally:
            while not self._audio_in.empty():  # the worker ended: no pause waits for ever
                if isinstance(item := self._audio_in.get_nowait(), asyncio.Future) and not item.done():
                    item.set_result(None)

    async def _feed_audio(self, pcm: bytes) -> None:
        track = self._track
        if track is None or track.state is not TrackState.live:
            return  # no track (paused, or it could not open): nothing to feed
        try:
            await track.feed(pcm)
        except LiveTranslateError as e:
            log.warning("bot %s: audio not taken: %s", self.bot_id, e.message)

    async def _let_go(self) -> None:
        """Paused: the track's finals are published, and whoever was speaking stops there."""
        track, self._track = self._track, None
        if track is None:
            return
        with contextlib.suppress(LiveTranslateError):
            await track.abort()
        await self._rings("off", track.offset + track.pipeline.audio_seconds)

    async def _read_stderr(self) -> None:
        while line := await self._proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self._stderr.append(text)
            log.info("bot %s: %s", self.bot_id, text)

    async def _message(self, msg: dict) -> None:
        kind = msg.get("type")
        if kind == "heartbeat":
            await self._call(store.beat, bot_id=self.bot_id)
        elif kind == "status":
            await self._status(msg)
        elif kind == "participant":
            await self._participant(msg)
        elif kind == "resumed":  # the audio that follows begins at this moment of the call
            track, self._pending = self._pending, None
            if track is not None:
                self._stretch = (track, float(msg["time"]))
                self._audio_in.put_nowait(("resumed", track))
                await self._rings("on", track.offset)  # whoever speaks on, from the new stretch's start
        elif kind == "screenshot":
            await self._call(store.set_screenshots, bot_id=self.bot_id, n=int(msg["n"]))

    async def _status(self, msg: dict) -> None:
        state = BotState(msg["state"])
        sub_code = SubCode(msg["sub_code"]) if msg.get("sub_code") else None
        try:
            await self._bots.move(self.bot_id, state, sub_code, msg.get("message"), "bot")
        except (Conflict, LiveTranslateError) as e:
            log.warning("bot %s: its move to %s was refused: %s", self.bot_id, state.value, e.message)
            return
        if state is BotState.in_call_recording and self._stretch is None and self._pending is None:
            async with self._switch:  # the first recording: a pause meanwhile waits for the track
                if self._paused or self._track is not None:
                    return
                try:
                    self._track = await self._open_track()
                except LiveTranslateError as e:  # no room for another live session, or it is gone
                    await self._force(BotState.fatal, SubCode.internal_error,
                                      f"its session cannot take audio: {e.message}")
                    self.leave()
                    return
                self._stretch = (self._track, 0.0)  # audio from the worker's first second on

    async def _open_track(self):
        return await self._live.open_track(self.session_id, TrackSpec(format="pcm_s16le", sample_rate=16000),
                                           self._terminated)

    async def _participant(self, msg: dict) -> None:
        pid, name = _clean(msg["id"], 128), _clean(msg.get("name"), 200)
        if not pid or msg["kind"] not in ("join", "leave", "speech_on", "speech_off"):
            raise ValueError(f"not a participant event: {msg}")
        msg = {**msg, "id": pid, "name": name}
        await self._call(store.add_participant_event, bot_id=self.bot_id, kind=msg["kind"], participant_id=pid,
                         name=name, time=float(msg["time"]))
        await self._webhooks.enqueue(self.bot_id, f"participant.{msg['kind']}", {
            "bot_id": self.bot_id, "session_id": self.session_id, "time": float(msg["time"]),
            "participant": {"id": msg["id"], "name": msg.get("name")},
        })
        if msg["kind"] not in _SPEECH:
            return
        person = Participant(id=pid, name=name)
        if msg["kind"] == "speech_on":
            self._ringing[pid] = person
        else:
            self._ringing.pop(pid, None)
        if self._stretch is not None:
            track, since = self._stretch
            at = track.offset + max(0.0, float(msg["time"]) - since)
            await self._timeline([SpeakerTimelineEvent(kind=_SPEECH[msg["kind"]], time=at, participant=person,
                                                       exact=msg.get("exact") is True)])

    async def _rings(self, kind: str, at: float) -> None:
        """Everyone whose ring is on, ``on`` or ``off`` at session time ``at`` (a stretch begins or ends)."""
        await self._timeline([SpeakerTimelineEvent(kind=kind, time=round(at, 3), participant=p)
                              for p in self._ringing.values()])

    async def _timeline(self, events: list[SpeakerTimelineEvent]) -> None:
        if not events:
            return
        try:
            await self._speakers.add_events(self.session_id, events)
        except LiveTranslateError as e:
            log.warning("bot %s: meeting event refused: %s", self.bot_id, e.message)

    async def _terminated(self, reason: str) -> None:
        """The session let go of the bot's track (deleted, taken over, server stopping): leave."""
        self.leave()

    # --- the end

    async def _ended(self, code: int) -> None:
        """The worker exited: its last word stands if it said how it ended, else it crashed."""
        row = await self._call(store.get_bot, bot_id=self.bot_id)  # NotFound: deleted meanwhile
        state = BotState(row.status)
        if self._killed is not None and state not in TERMINAL:
            sub = SubCode.internal_error if self._killed == "the server stopped" else SubCode.heartbeat_timeout
            await self._force(BotState.fatal, sub, self._killed)
        elif state not in TERMINAL and state is not BotState.call_ended:
            tail = " | ".join(list(self._stderr)[-3:])
            await self._force(BotState.fatal, SubCode.browser_crashed, f"its worker exited ({code}): {tail}"[:2000])
        await self._close_track()
        row = await self._call(store.get_bot, bot_id=self.bot_id)
        if row.status == BotState.call_ended.value:
            await self._force(BotState.done, None, None)

    async def _close_track(self) -> None:
        """The bot's audio is over: its finals are stored and its session ends (once)."""
        if self._closed:
            return
        self._closed = True
        track, pending = self._track, self._pending
        self._track = self._pending = None
        if track is not None and pending is not None:
            with contextlib.suppress(LiveTranslateError):
                await pending.abort()
        track = track or pending
        if track is not None:
            with contextlib.suppress(LiveTranslateError):
                await track.stop()
                return
        with contextlib.suppress(LiveTranslateError):
            await self._sessions.end(self.session_id)

    async def _force(self, state: BotState, sub_code: SubCode | None, message: str | None) -> None:
        with contextlib.suppress(LiveTranslateError):  # refused (it ended otherwise), or deleted
            await self._bots.move(self.bot_id, state, sub_code, message, "bot")

    async def _call(self, fn, **kwargs):
        return await executors.run("store", self._db.call, fn, **kwargs)


def _clean(text: str | None, limit: int) -> str | None:
    """A meeting's name or id as one line of text (a tile may hold anything), or None."""
    if text is None:
        return None
    text = _CONTROL.sub(" ", str(text)).strip()[:limit]
    return text or None
