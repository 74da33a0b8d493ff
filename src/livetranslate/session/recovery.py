"""After a crash (embedded mode: this process owns every session): the sessions a killed process
left live. Their received audio is on disk (flushed per frame); what came after the last stored
final is transcribed through a track of its own (not recorded again), so a SIGKILL mid-sentence
loses no speech, and the session is paused where the audio ends.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livetranslate import executors
from livetranslate.events import SessionStatusEvent
from livetranslate.session.track import TrackSpec
from livetranslate.store import SessionStatus, crud

if TYPE_CHECKING:
    from livetranslate.session.registry import LiveSessions

log = logging.getLogger(__name__)


async def recover(live: "LiveSessions") -> list[str]:
    """Pause every session a stopped process left live, after transcribing the audio it had
    received past the session's last stored final. Returns their ids."""
    rows = await executors.run("store", live.db.call, crud.interrupted_sessions)
    for row in rows:
        file = Path(row.audio_path) if row.audio_path else None
        recorded = file.stat().st_size / (2 * 16000) if file is not None and file.is_file() else None
        seconds = max(row.audio_seconds, recorded or 0.0)
        done = await executors.run("store", live.db.call, crud.transcribed_until, session_id=row.id)
        done = int(done * 16000) / 16000  # on a sample: the tail's audio continues the timeline exactly
        tail = None
        # the recording is the session's timeline (its unnamed track, gaps padded): what it has past the last final
        if recorded is not None and recorded + 0.05 >= row.audio_seconds and done < recorded - 0.1:
            tail = await executors.run("audio", _recorded, str(file), done)
        start = done if tail is not None else seconds
        await executors.run(
            "store", live.db.call, crud.set_status, session_id=row.id, status=SessionStatus.paused,
            audio_seconds=round(start, 3),
        )
        await live.bus.publish(row.id, SessionStatusEvent(status="paused", audio_seconds=round(start, 3)))
        if tail is not None:
            await _transcribe_tail(live, row.id, tail)
        log.warning("session %s was live when the server stopped; it is paused at %.1f s (%.1f s transcribed "
                    "after its last final)", row.id, seconds, seconds - start)
    return [row.id for row in rows]


async def _transcribe_tail(live: "LiveSessions", session_id: str, audio: np.ndarray) -> None:
    """The audio a killed process had received but not transcribed (it is on disk): through a
    track of its own, not recorded again; the session is paused after it."""
    async def terminate(reason: str) -> None:
        pass

    spec = TrackSpec(format="pcm_f32le", sample_rate=16000, record=False)
    track = None
    try:
        track = await live.open_track(session_id, spec, terminate)
        for i in range(0, audio.size, 16000):
            await track.feed(audio[i : i + 16000].astype("<f4").tobytes())
    except Exception:  # the rest of the recovery goes on; the audio stays on disk
        log.exception("session %s: transcribing the audio after its last final failed", session_id)
    finally:
        if track is not None:
            try:
                await track.abort()  # its finals, then the session pauses
            except Exception:
                log.exception("session %s: finishing the recovered audio failed", session_id)


def _recorded(path: str, start_s: float) -> np.ndarray:
    """The session's recording (16 kHz mono PCM16) from ``start_s`` on, as float32."""
    with open(path, "rb") as f:
        f.seek(int(start_s * 16000) * 2)
        data = f.read()
    return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
