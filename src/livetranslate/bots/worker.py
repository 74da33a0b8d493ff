"""The bot's worker process (``livetranslate bot worker``, started by :mod:`.runner`): one
browser in one meeting. It reads its spec from the first line of stdin, runs the platform's
adapter, and reports every move, person and audio block on stdout (:mod:`.wire`). It owns
no state the server cannot check: the server stores and enforces the lifecycle.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import sys
import threading
from dataclasses import dataclass
from typing import BinaryIO

from livetranslate.bots import wire
from livetranslate.bots.lifecycle import BotState, SubCode

log = logging.getLogger("livetranslate.bot")


class Failure(Exception):
    """A step could not go on: the state the bot ends in, and why."""

    def __init__(self, state: BotState, sub_code: SubCode, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.state, self.sub_code, self.message, self.retry = state, sub_code, message, retry


class Pipe:
    """Frames to stdout from a thread of their own: the event loop (and the browser's
    bindings) never wait on a server that is slow to read, and the order is kept."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="wire", daemon=True)
        self._thread.start()

    def put(self, data: bytes) -> None:
        self._queue.put(data)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                wire.write(self._out, data)
            except (BrokenPipeError, OSError):  # the server is gone: nothing to tell
                return

    def close(self, timeout: float = 10.0) -> None:
        """Everything said so far is written."""
        self._queue.put(None)
        self._thread.join(timeout)


@dataclass
class Reporter:
    """The worker's half of the wire: everything it says goes through here."""

    out: Pipe
    state: BotState = BotState.joining
    screenshots: int = 0

    def status(self, state: BotState, sub_code: SubCode | None = None, message: str | None = None) -> None:
        self.state = state
        self._json({"type": "status", "state": state.value, "sub_code": sub_code.value if sub_code else None,
                    "message": message})

    def participant(self, kind: str, pid: str, name: str | None, time: float, exact: bool = False) -> None:
        """``exact``: the time is when the voice changed on the audio, not when the ring did."""
        self._json({"type": "participant", "kind": kind, "id": pid, "name": name, "time": round(time, 3),
                    "exact": exact})

    def screenshot(self) -> int:
        self.screenshots += 1
        self._json({"type": "screenshot", "n": self.screenshots})
        return self.screenshots

    def resumed(self, time: float) -> None:
        """The audio that follows begins at this moment of the call (after a pause)."""
        self._json({"type": "resumed", "time": round(time, 3)})

    def heartbeat(self) -> None:
        self._json({"type": "heartbeat"})

    def audio(self, pcm: bytes) -> None:
        for i in range(0, len(pcm), wire.MAX_FRAME):
            self.out.put(wire.frame(wire.AUDIO, pcm[i : i + wire.MAX_FRAME]))

    def _json(self, msg: dict) -> None:
        self.out.put(wire.message(msg))


def _commands(loop: asyncio.AbstractEventLoop, command) -> None:
    """The server's word on stdin, handed to the adapter: ``leave``, ``pause``, ``resume``
    (stdin closing is a leave: the server is gone). A daemon thread: a blocked read must not
    keep the process from exiting."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(command, json.loads(line))
    loop.call_soon_threadsafe(command, {"type": "leave"})


async def _beat(reporter: Reporter, every: float) -> None:
    while True:
        reporter.heartbeat()
        await asyncio.sleep(every)


async def run(spec: dict, out: BinaryIO) -> int:
    from livetranslate.bots.gmeet.adapter import MeetAdapter

    pipe = Pipe(out)
    reporter = Reporter(pipe)
    adapters = {"google_meet": MeetAdapter}
    adapter = adapters[spec["platform"]](spec, reporter)
    threading.Thread(target=_commands, args=(asyncio.get_running_loop(), adapter.command), daemon=True).start()
    tasks = [asyncio.create_task(_beat(reporter, spec["heartbeat_s"]))]
    try:
        await adapter.run()
        return 0
    finally:
        for t in tasks:
            t.cancel()
        pipe.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    # the wire gets stdout to itself: what anything else (a library, a child process) prints
    # there goes to stderr, the worker's log, instead of into the frames
    wire_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    spec = json.loads(sys.stdin.readline())
    return asyncio.run(run(spec, wire_out))
