"""How files leave the server: names from the session's title and date (``Content-Disposition``,
RFC 6266, ``filename*`` for names beyond ASCII), and the recorded audio as WAV with byte
ranges (RFC 9110 ``Range``), so that a browser's ``<audio>`` can seek."""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from fastapi import Response
from fastapi.responses import JSONResponse, StreamingResponse

from livetranslate.errors import error_body
from livetranslate.store import SessionRow
from livetranslate.store.models import as_utc

__all__ = ["content_disposition", "download_name", "wav_response"]

_WAV_HEADER_BYTES = 44
_CHUNK = 1 << 16
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def download_name(row: SessionRow, suffix: str) -> str:
    """``board-meeting-2026-12-01`` + suffix (``.es.srt``); untitled: ``session-<id>-<date>``."""
    stem = re.sub(r"[^\w]+", "-", (row.title or "").lower()).strip("-_")[:80] or f"session-{row.id[:8]}"
    return f"{stem}-{as_utc(row.created_at):%Y-%m-%d}{suffix}"


def content_disposition(name: str, *, inline: bool = False) -> str:
    """An ASCII ``filename`` for old clients, and ``filename*`` with the real name when it is not ASCII."""
    kind = "inline" if inline else "attachment"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'["\\]', "", ascii_name) or "download"
    if ascii_name == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class _Unsatisfiable(Exception):
    pass


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The range a ``Range`` header asks for, as (first, last) byte, inclusive. None: the whole
    file (no header, another unit, several ranges or bad syntax, which RFC 9110 lets a server
    ignore). Raises _Unsatisfiable for a range that starts past the end or asks for 0 bytes."""
    m = _RANGE.fullmatch((header or "").strip())
    if m is None or m.groups() == ("", ""):
        return None
    first, last = m.groups()
    if first == "":  # bytes=-n: the last n bytes
        if int(last) == 0 or size == 0:
            raise _Unsatisfiable
        return max(0, size - int(last)), size - 1
    if last and int(last) < int(first):
        return None
    if int(first) >= size:
        raise _Unsatisfiable
    return int(first), min(int(last), size - 1) if last else size - 1


def _wav_header(data_bytes: int, rate: int = 16000) -> bytes:
    """RIFF header for 16-bit mono PCM (the format session audio is kept in)."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16, b"data", data_bytes,
    )


def _wav_bytes(path: Path, data_bytes: int, first: int, last: int) -> Iterator[bytes]:
    """Bytes first..last of the WAV file: the generated header, then the stored PCM."""
    if first < _WAV_HEADER_BYTES:
        yield _wav_header(data_bytes)[first : last + 1]
    offset = max(first - _WAV_HEADER_BYTES, 0)
    left = last + 1 - _WAV_HEADER_BYTES - offset
    with path.open("rb") as f:
        f.seek(offset)
        while left > 0:
            chunk = f.read(min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


def wav_response(path: Path, range_header: str | None, *, head: bool, disposition: str) -> Response:
    """Raw 16-bit PCM at ``path`` served as a WAV file: 200 whole, 206 for a byte range, 416
    outside it; ``head``: the same headers without a body."""
    data_bytes = path.stat().st_size // 2 * 2  # a live recording may hold half a sample
    size = _WAV_HEADER_BYTES + data_bytes
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": disposition}
    try:
        wanted = _byte_range(range_header, size)
    except _Unsatisfiable:
        message = f"range {range_header!r} is outside the recording of {size} bytes"
        return JSONResponse(error_body("range_not_satisfiable", message), status_code=416,
                            headers={**headers, "Content-Range": f"bytes */{size}"})
    first, last = wanted or (0, size - 1)
    headers["Content-Length"] = str(last + 1 - first)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if head:
        return Response(status_code=status, headers=headers, media_type="audio/wav")
    return StreamingResponse(_wav_bytes(path, data_bytes, first, last), status_code=status, headers=headers,
                             media_type="audio/wav")
