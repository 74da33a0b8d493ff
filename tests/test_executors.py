"""Named pools: blocking work of one kind cannot hold up another (a slow translation used to
take threads from the default pool that audio decoding needed)."""

from __future__ import annotations

import asyncio
import threading
import time

from livetranslate import executors


def test_each_kind_runs_on_its_own_threads_and_a_busy_kind_does_not_block_another():
    async def main():
        executors.configure({"translation": 2, "audio": 1})
        release, busy = threading.Event(), threading.Semaphore(0)

        def translate():
            busy.release()
            release.wait(10)

        stuck = [asyncio.ensure_future(executors.run("translation", translate)) for _ in range(4)]
        for _ in range(2):  # both translation threads are held
            await asyncio.to_thread(busy.acquire, True, 5)
        started = time.monotonic()
        name = await executors.run("audio", lambda: threading.current_thread().name)
        waited = time.monotonic() - started
        release.set()
        await asyncio.gather(*stuck)
        names = {await executors.run(kind, lambda: threading.current_thread().name.rsplit("_", 1)[0])
                 for kind in ("store", "voice", "translation")}
        return name, waited, names

    try:
        name, waited, names = asyncio.run(main())
    finally:
        executors.shutdown()
        executors.configure(executors.DEFAULT_SIZES)
    assert name.startswith("lt-audio") and waited < 0.5  # four translations hold their pool, not audio's
    assert names == {"lt-store", "lt-voice", "lt-translation"}
