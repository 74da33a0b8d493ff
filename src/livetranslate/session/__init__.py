"""Sessions: the REST facade (:mod:`.service`), the live sessions of this process (their registry
:mod:`.registry`, each one :mod:`.live`), the track handle every audio source feeds (:mod:`.track`) and each track's
pipeline (:mod:`.pipeline`)."""

from livetranslate.session.live import LiveSession
from livetranslate.session.registry import LiveSessions
from livetranslate.session.pipeline import SessionPipeline
from livetranslate.session.service import EVERYONE, Scope, SessionService
from livetranslate.session.track import Track, TrackSpec, TrackState

__all__ = [
    "EVERYONE", "LiveSession", "LiveSessions", "Scope", "SessionPipeline", "SessionService", "Track", "TrackSpec",
    "TrackState",
]
