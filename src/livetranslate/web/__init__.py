"""The dashboard: static ES modules served by the same server at ``/`` (no build step)."""

from pathlib import Path

STATIC = Path(__file__).parent / "static"
