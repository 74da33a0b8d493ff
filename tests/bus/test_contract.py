"""The bus contract (``livetranslate.bus.base``), run against every implementation: add a
bus to ``BUSES`` and it must pass all of these unchanged. Real store (SQLite, migrated)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from livetranslate.bus import Gone, Lagging, bus_from_url
from livetranslate.errors import InvalidInput
from livetranslate.events import RetargetCommand, SegmentEvent, SessionEndedEvent, StopCommand
from livetranslate.store import Database, crud, upgrade

BUSES = ["memory://"]


@pytest.fixture(params=BUSES)
def make_bus(request, tmp_path):
    url = f"sqlite:///{tmp_path}/bus.db"
    upgrade(url)
    db = Database(url)
    for sid in ("s", "other"):
        db.call(crud.create_session, id=sid, tenant="default", title=None, language="en", targets=[], audio_path=None)
    yield lambda queue_size=1000: bus_from_url(request.param, db, queue_size)
    db.dispose()


def seg(i: int) -> SegmentEvent:
    return SegmentEvent(segment_id=f"{i:032d}", status="final", text=f"t{i}", start=i, end=i + 1, language="en")


async def take(sub, n: int) -> list[int]:
    return [(await anext(sub)).seq for _ in range(n)]


def test_publish_stores_first_and_the_store_assigns_gap_free_seqs(make_bus):
    async def main():
        bus = make_bus()
        async with bus.subscribe("s", None) as sub:
            published = await asyncio.gather(*(bus.publish("s", seg(i)) for i in range(20)))
            got = await take(sub, 20)
        return [e.seq for e in published], got, bus.db.call(crud.events_after, session_id="s", after_seq=0)

    published, got, stored = asyncio.run(main())
    assert sorted(published) == list(range(1, 21))
    assert got == list(range(1, 21))  # delivered in seq order
    assert [seq for seq, _ in stored] == list(range(1, 21))


def test_subscribe_gives_stored_then_live_with_no_gap_and_no_duplicate(make_bus):
    """Events published while the reader is still reading the store arrive once each, in order."""
    async def main():
        bus = make_bus()
        for i in range(30):
            await bus.publish("s", seg(i))
        async with bus.subscribe("s", after_seq=7) as sub:
            more = asyncio.gather(*(bus.publish("s", seg(i)) for i in range(30, 60)))
            got = await take(sub, 53)
            await more
        return got

    assert asyncio.run(main()) == list(range(8, 61))


def test_subscribe_from_now_gives_only_new_events(make_bus):
    async def main():
        bus = make_bus()
        for i in range(3):
            await bus.publish("s", seg(i))
        async with bus.subscribe("s", None) as sub:
            await bus.publish("s", seg(3))
            return await take(sub, 1)

    assert asyncio.run(main()) == [4]


def test_events_are_typed_and_the_stream_ends_after_session_ended(make_bus):
    async def main():
        bus = make_bus()
        await bus.publish("s", seg(0))
        await bus.publish("s", SessionEndedEvent(reason="stopped", audio_seconds=1.0))
        stored = [e async for e in bus.subscribe("s", 0)]
        async with bus.subscribe("s", 1) as sub:
            live = [e async for e in sub]
        return stored, live

    stored, live = asyncio.run(main())
    assert [type(e) for e in stored] == [SegmentEvent, SessionEndedEvent]
    assert stored[0].text == "t0" and stored[1].seq == 2
    assert [e.seq for e in live] == [2]


def test_a_reader_that_falls_behind_is_told_where_to_resume_and_loses_nothing(make_bus):
    async def main():
        bus = make_bus(queue_size=5)
        async with bus.subscribe("s", None) as slow, bus.subscribe("other", None) as other:
            for i in range(12):
                await bus.publish("s", seg(i))
            got = []
            with pytest.raises(Lagging) as lag:
                async for e in slow:
                    got.append(e.seq)
            resumed = [e.seq for e in await asyncio.wait_for(_all(bus.subscribe("s", lag.value.last_seq), 12), 5)]
            await bus.publish("other", seg(100))
            untouched = await take(other, 1)  # another session's reader is not cut off
        return got, lag.value.last_seq, resumed, untouched

    got, last, resumed, untouched = asyncio.run(main())
    assert got == [1, 2, 3, 4, 5] and last == 5 and untouched == [1]
    assert got + resumed == list(range(1, 13))


async def _all(sub, until_seq: int) -> list:
    out = []
    async with sub:
        async for e in sub:
            out.append(e)
            if e.seq >= until_seq:
                return out
    return out


def test_a_deleted_session_stops_its_readers_after_what_they_were_given(make_bus):
    async def main():
        bus = make_bus()
        async with bus.subscribe("s", 0) as sub:
            await bus.publish("s", seg(0))
            waiter = asyncio.ensure_future(take(sub, 2))  # it has one event, and waits for a second
            await bus.close("s", "session deleted")
            with pytest.raises(Gone) as gone:
                await asyncio.wait_for(waiter, 5)
        return gone.value.reason, sub.last_seq

    assert asyncio.run(main()) == ("session deleted", 1)


def test_commands_reach_the_owner_in_order_and_send_returns_once_handled(make_bus):
    async def main():
        bus = make_bus()
        assert await bus.send("s", StopCommand()) is False  # no one runs it
        handled = []

        commands = bus.commands("s")  # the owner registers, then takes them in turn

        async def owner():
            async for delivery in commands:
                await asyncio.sleep(0.01)  # handling takes a while: the senders wait for it
                handled.append(delivery.command)
                delivery.done()

        task = asyncio.create_task(owner())
        sent = await asyncio.gather(*(bus.send("s", RetargetCommand(targets=[lang])) for lang in ("es", "fr", "de")))
        bus.release("s")
        await asyncio.wait_for(task, 5)
        return sent, [c.targets[0] for c in handled], await bus.send("s", StopCommand())

    sent, order, after = asyncio.run(main())
    assert sent == [True, True, True] and order == ["es", "fr", "de"]
    assert after is False  # released: no owner any more


def test_the_owners_error_reaches_the_sender_and_unhandled_commands_are_answered(make_bus):
    async def main():
        bus = make_bus()
        commands = bus.commands("s")
        first = asyncio.ensure_future(bus.send("s", StopCommand(reason="first")))
        second = asyncio.ensure_future(bus.send("s", StopCommand(reason="second")))
        delivery = await anext(commands)
        delivery.done(InvalidInput("not now"))
        with pytest.raises(InvalidInput, match="not now"):
            await first
        bus.release("s")
        with contextlib.suppress(StopAsyncIteration):
            await anext(commands)  # the owner's loop ends; what it did not handle is answered
        return await asyncio.wait_for(second, 5)

    assert asyncio.run(main()) is False
