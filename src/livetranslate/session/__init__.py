"""Sessions: the registry of live sessions and each session's pipeline."""

from livetranslate.session.pipeline import SessionPipeline
from livetranslate.session.service import SessionService

__all__ = ["SessionPipeline", "SessionService"]
