"""Named thread pools, one per kind of blocking work, so that one kind cannot starve another:
a slow Apertium call or a burst of voice embeddings no longer holds the threads that decode
incoming audio or write events (they all shared asyncio's default pool before).

    await executors.run("audio", decoder.feed, data)

Kinds: ``store`` (event writes and replays, and the session, speaker and source services'
reads and writes), ``audio`` (decode, resample, VAD), ``voice`` (voice windows, speaker
attribution), ``translation`` (rule-based engines). Sizes come from the settings
(``threads_*``), set once by the composition root. Routes that read the store for a
response of their own (exports, lists) still use asyncio's default pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

Kind = Literal["store", "audio", "voice", "translation"]
DEFAULT_SIZES: dict[str, int] = {"store": 2, "audio": 2, "voice": 2, "translation": 2}

_sizes = dict(DEFAULT_SIZES)
_pools: dict[str, ThreadPoolExecutor] = {}


def configure(sizes: dict[str, int]) -> None:
    """Set the pools' sizes (before they are first used; pools already running keep theirs)."""
    _sizes.update(sizes)


def _pool(kind: Kind) -> ThreadPoolExecutor:
    pool = _pools.get(kind)
    if pool is None:
        pool = _pools[kind] = ThreadPoolExecutor(_sizes[kind], thread_name_prefix=f"lt-{kind}")
    return pool


async def run(kind: Kind, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the ``kind`` pool (context variables carried, as ``to_thread`` does)."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool(kind), call)


def shutdown() -> None:
    for pool in _pools.values():
        pool.shutdown(wait=False, cancel_futures=True)
    _pools.clear()
