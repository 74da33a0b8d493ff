"""Which meeting a link is: the platform and its meeting id, or a clear refusal.

Google Meet links are recognised under the configured origin (``meet_base_url``, by default
``https://meet.google.com``), so the same adapter runs against a local stand-in. Zoom and
Teams links are recognised and refused until they have an adapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from livetranslate.errors import UnsupportedUrl

_MEET_CODE = re.compile(r"^/([a-z]{3}-[a-z]{4}-[a-z]{3})/?$")
_NOT_YET = {
    "Zoom": re.compile(r"(^|\.)zoom\.(us|com)$|(^|\.)zoomgov\.com$"),
    "Microsoft Teams": re.compile(r"^teams\.(microsoft|live)\.com$|(^|\.)teams\.microsoft\.us$"),
}
EXAMPLE = "https://meet.google.com/abc-defg-hij"


@dataclass(frozen=True)
class Meeting:
    platform: str
    """``google_meet``."""
    meeting_id: str
    url: str
    """The link the bot opens: the platform's origin and the meeting id, nothing else."""


def recognise(url: str, *, meet_base_url: str) -> Meeting:
    """The meeting ``url`` links to. Raises UnsupportedUrl (422) saying what is supported."""
    parts = urlsplit(url.strip())
    base = urlsplit(meet_base_url.rstrip("/"))
    host = (parts.hostname or "").lower()
    if parts.scheme in ("http", "https") and (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower()):
        path = parts.path[len(base.path):] if parts.path.startswith(base.path) else parts.path
        if m := _MEET_CODE.match(path):
            return Meeting("google_meet", m.group(1), f"{meet_base_url.rstrip('/')}/{m.group(1)}")
        raise UnsupportedUrl(
            f"{url!r} is on Google Meet but names no meeting: a meeting link looks like {EXAMPLE}"
        )
    for platform, hosts in _NOT_YET.items():
        if hosts.search(host):
            raise UnsupportedUrl(f"{platform} meetings are not supported yet; supported: Google Meet (e.g. {EXAMPLE})")
    raise UnsupportedUrl(f"{url!r} is no meeting link this server recognises; supported: Google Meet (e.g. {EXAMPLE})")
