"""Where the server may connect on a caller's word: a webhook endpoint or a stream URL must be a
public address when the server asks for keys, so that a tenant cannot make it reach what only
the server can (its loopback, its LAN, a cloud's metadata service at 169.254.169.254).
Operators name the private hosts they do want reached in ``private_urls_allowed``. A server
asking for no key (one person on loopback) may reach anything, as that person can.

The name is resolved when the URL is given and again before each webhook delivery (a name
that later points inside is refused then). Left to FFmpeg: the addresses a stream's playlist
names after its first URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from livetranslate.errors import UnsupportedUrl

_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtmp": 1935, "rtmps": 443}


def public(address: str) -> bool:
    """A global unicast address (an IPv4-mapped IPv6 address is judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int | None) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


class NetGuard:
    def __init__(self, *, enabled: bool, allowed: list[str]) -> None:
        """``enabled``: only public addresses; ``allowed``: hosts (``name`` or ``name:port``) reached anyway."""
        self.enabled = enabled
        self._allowed = {a.strip().lower() for a in allowed}

    async def check(self, url: str, what: str) -> None:
        """UnsupportedUrl (422) unless ``url``'s host may be reached (``what``: what it is, for the message)."""
        if not self.enabled:
            return
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            raise UnsupportedUrl(f"{what} {url!r} names no host")
        port = parts.port or _PORTS.get(parts.scheme)
        if host in self._allowed or f"{host}:{port}" in self._allowed:
            return
        try:
            addresses = await asyncio.to_thread(_resolve, host, port)
        except (OSError, UnicodeError) as e:
            raise UnsupportedUrl(f"{what} host {host!r} cannot be resolved ({e})") from None
        inside = [a for a in addresses if not public(a)]
        if inside:
            raise UnsupportedUrl(
                f"{what} host {host!r} is a private address ({inside[0]}): this server reaches only public "
                "addresses for its callers (an operator allows a host with LIVETRANSLATE_PRIVATE_URLS_ALLOWED)"
            )
