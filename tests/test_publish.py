"""Publish: stored before sent, in seq order; a subscriber that falls behind is cut off, not buffered."""

from __future__ import annotations

import asyncio

from livetranslate.events import SegmentEvent
from livetranslate.publish import InProcessBus, Publisher
from livetranslate.store import Database, upgrade
from livetranslate.store import crud


def _db(tmp_path) -> Database:
    url = f"sqlite:///{tmp_path}/p.db"
    upgrade(url)
    db = Database(url)
    db.call(crud.create_session, id="s", title=None, language="en", targets=[], audio_path=None)
    return db


def _segment(i: int) -> SegmentEvent:
    return SegmentEvent(segment_id=f"{i:032d}", status="final", text=f"t{i}", start=i, end=i + 1, language="en")


def test_events_are_stored_then_delivered_in_seq_order(tmp_path):
    db = _db(tmp_path)
    bus = InProcessBus(queue_size=100)

    async def main():
        pub = Publisher(db, bus)
        sub = bus.subscribe("s")
        await asyncio.gather(*(pub.publish("s", _segment(i)) for i in range(20)))
        got = [await sub.get() for _ in range(20)]
        return got

    got = asyncio.run(main())
    assert [seq for seq, _ in got] == list(range(1, 21))
    stored = db.call(crud.events_after, session_id="s", after_seq=0)
    assert stored == got


def test_slow_subscriber_is_cut_off_and_the_store_has_everything(tmp_path):
    db = _db(tmp_path)
    bus = InProcessBus(queue_size=5)

    async def main():
        pub = Publisher(db, bus)
        slow, other = bus.subscribe("s"), bus.subscribe("other-session")
        for i in range(12):
            await pub.publish("s", _segment(i))
        drained = []
        while (item := await slow.get()) is not None:
            drained.append(item[0])
        return slow.overflowed, drained, other.queue.qsize()

    overflowed, drained, other = asyncio.run(main())
    assert overflowed and drained == [1, 2, 3, 4, 5] and other == 0
    assert [seq for seq, _ in db.call(crud.events_after, session_id="s", after_seq=5)] == list(range(6, 13))


def test_closed_session_wakes_its_subscribers(tmp_path):
    bus = InProcessBus(queue_size=5)

    async def main():
        sub = bus.subscribe("s")
        waiter = asyncio.create_task(sub.get())
        await asyncio.sleep(0.01)
        bus.close_session("s", "session deleted")
        return await asyncio.wait_for(waiter, 1), sub.closed

    assert asyncio.run(main()) == (None, "session deleted")
