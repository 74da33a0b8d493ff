"""What a bot's worker process and the server say to each other, over its stdout and stdin.

Worker → server (stdout), frames of ``kind (1 byte) | length (4 bytes, big-endian) | payload``:

- ``J``: a JSON message, one of
  ``{"type": "status", "state", "sub_code"?, "message"?}`` (a lifecycle move the server checks),
  ``{"type": "heartbeat"}``,
  ``{"type": "participant", "kind": join|leave|speech_on|speech_off, "id", "name"?, "time"}``
  (``time``: seconds of audio sent so far when the bot saw it),
  ``{"type": "screenshot", "n"}`` (it wrote ``n.png`` in the bot's directory),
  ``{"type": "log", "level", "message"}``.
- ``A``: the call's audio, 16 kHz mono s16le, in the order heard.

Server → worker (stdin): the bot's spec as the first JSON line, then ``{"type": "leave"}``.
Binary frames keep the audio exact and cheap (no base64 on a pipe); the worker's stderr is
its log.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import BinaryIO

JSON, AUDIO = b"J", b"A"
_HEADER = struct.Struct(">cI")
MAX_FRAME = 1 << 20


def frame(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


def message(msg: dict) -> bytes:
    return frame(JSON, json.dumps(msg, separators=(",", ":")).encode())


def write(out: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:  # an unbuffered pipe may take part of it
        n = out.write(view)
        view = view[n if n is not None else len(view):]
    out.flush()


async def read_frame(stream: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """The next frame, or None when the worker closed its stdout. Raises ValueError for a
    frame that is no frame (a worker that printed to stdout)."""
    try:
        kind, size = _HEADER.unpack(await stream.readexactly(_HEADER.size))
    except asyncio.IncompleteReadError:
        return None
    if kind not in (JSON, AUDIO) or size > MAX_FRAME:
        raise ValueError(f"bad frame from the bot worker: kind {kind!r}, {size} bytes")
    try:
        return kind, await stream.readexactly(size)
    except asyncio.IncompleteReadError:
        return None
