"""The session bus: how events leave a live session and commands reach it, in every deployment.

:class:`Bus` is the contract (:mod:`.base`); :class:`MemoryBus` (:mod:`.memory`) carries it
inside one process. Only this package and the composition root (:mod:`livetranslate.runtime`)
name a concrete bus; everything else takes a :class:`Bus`.
"""

from livetranslate.bus.base import Bus, Delivery, Gone, Lagging, Subscription
from livetranslate.bus.memory import MemoryBus

SUPPORTED = ("memory://",)


def check_url(url: str) -> None:
    """Refuse a bus this build cannot run (before anything is loaded)."""
    if url not in SUPPORTED:
        raise ValueError(f"bus_url {url!r} is not supported; supported: {', '.join(SUPPORTED)}")


def bus_from_url(url: str, db, queue_size: int) -> Bus:
    check_url(url)
    return MemoryBus(db, queue_size)


__all__ = ["Bus", "Delivery", "Gone", "Lagging", "MemoryBus", "Subscription", "bus_from_url", "check_url"]
