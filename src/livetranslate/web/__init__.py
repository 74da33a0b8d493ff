"""The dashboard: static ES modules served by the same server at ``/`` (no build step), and
the WebSocket protocol's page (``/docs/protocol``), package data both."""

from pathlib import Path

STATIC = Path(__file__).parent / "static"
PROTOCOL = Path(__file__).parent / "protocol.md"
