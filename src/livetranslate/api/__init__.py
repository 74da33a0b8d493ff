"""The web layer: REST, WebSockets, health and metrics."""

from livetranslate.api.app import create_app

__all__ = ["create_app"]
