"""Store: sessions, final segments, the replayable event log, and session audio files."""

from livetranslate.store.db import Database
from livetranslate.store.migrate import upgrade
from livetranslate.store.models import SessionRow, SessionStatus, SourceRow, as_utc

__all__ = ["Database", "SessionRow", "SessionStatus", "SourceRow", "as_utc", "upgrade"]
