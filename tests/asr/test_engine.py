"""The shared engine: one model, work off the event loop, finals before drafts before files."""

from __future__ import annotations

import asyncio
import threading

from livetranslate.asr import AsrEngine, DecodeOptions, Priority, WhisperAsr
from tests.conftest import wer


def test_finals_jump_ahead_of_waiting_drafts_and_batch_work(librivox):
    asr = WhisperAsr("tiny.en")
    engine = AsrEngine(asr, workers=1, max_batch=1)
    order: list[str] = []
    busy = threading.Event()
    batch_fn = asr.transcribe_batch
    asr.transcribe_batch = lambda items: busy.set() or batch_fn(items)

    async def job(name: str, clip, priority: Priority):
        result = await engine.transcribe(clip.audio, DecodeOptions(), priority)
        order.append(name)
        return result

    async def main():
        engine.start()
        try:
            # the worker takes the first job at once; the rest wait in the queue
            tasks = [asyncio.create_task(job("batch-0", librivox[0], Priority.BATCH))]
            await asyncio.to_thread(busy.wait, 30)  # the worker is decoding it
            tasks += [asyncio.create_task(job(f"draft-{i}", librivox[2], Priority.DRAFT)) for i in range(2)]
            tasks += [asyncio.create_task(job("batch-1", librivox[3], Priority.BATCH))]
            tasks += [asyncio.create_task(job("final", librivox[4], Priority.FINAL))]
            results = await asyncio.gather(*tasks)
        finally:
            engine.stop()
        return results

    results = asyncio.run(main())
    assert order == ["batch-0", "final", "draft-0", "draft-1", "batch-1"]
    assert wer(librivox[4].text, results[-1].text) <= 0.2
    assert not engine.running


def test_the_event_loop_stays_responsive_during_decodes(librivox):
    engine = AsrEngine(WhisperAsr("tiny.en"), workers=1)
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event):
        loop = asyncio.get_running_loop()
        last = loop.time()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = loop.time()
            gaps.append(now - last)
            last = now

    async def main():
        engine.start()
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(stop))
        try:
            for clip in librivox:
                await engine.transcribe(clip.audio, DecodeOptions(), Priority.FINAL)
        finally:
            stop.set()
            await tick
            engine.stop()

    asyncio.run(main())
    # decodes take 0.1-0.5 s each; the loop never waited for one of them
    assert len(gaps) > 20 and max(gaps) < 0.1


def test_waiting_jobs_of_many_sessions_are_decoded_as_one_batch(librivox):
    asr = WhisperAsr("tiny.en")
    engine = AsrEngine(asr, workers=1, max_batch=8)
    alone = [asr.transcribe(c.audio, DecodeOptions()).text for c in librivox]
    calls: list[int] = []
    busy = threading.Event()
    batch_fn = asr.transcribe_batch

    def counting(items):
        calls.append(len(items))
        busy.set()
        return batch_fn(items)

    asr.transcribe_batch = counting

    async def main():
        engine.start()
        try:
            blocker = asyncio.create_task(engine.transcribe(librivox[0].audio, DecodeOptions(), Priority.FINAL))
            await asyncio.to_thread(busy.wait, 30)  # the worker is busy with it; the rest queue up
            rest = [
                asyncio.create_task(engine.transcribe(c.audio, DecodeOptions(), Priority.FINAL)) for c in librivox
            ]
            return await blocker, await asyncio.gather(*rest)
        finally:
            engine.stop()

    _, results = asyncio.run(main())
    assert calls == [1, 5]
    for clip, single, batched in zip(librivox, alone, results):
        assert wer(single, batched.text) <= 0.1, (single, batched.text)
        assert batched.words and batched.words[-1].end <= clip.audio.size / 16000 + 0.1


def test_the_finals_lane_does_not_wait_for_a_batch_of_drafts(librivox):
    engine = AsrEngine(WhisperAsr("tiny.en", workers=2), workers=1, final_lane=True, max_batch=8)
    done: list[str] = []

    async def job(name, clip, priority):
        await engine.transcribe(clip.audio, DecodeOptions(), priority)
        done.append(name)

    async def main():
        engine.start()
        try:
            drafts = [asyncio.create_task(job(f"draft-{i}", librivox[0], Priority.DRAFT)) for i in range(6)]
            await asyncio.sleep(0.05)  # the general worker is decoding the drafts
            await asyncio.gather(job("final", librivox[4], Priority.FINAL), *drafts)
        finally:
            engine.stop()

    asyncio.run(main())
    assert done[0] == "final", done


def test_a_draft_that_cannot_start_in_time_is_skipped_not_decoded(librivox):
    asr = WhisperAsr("tiny.en")
    engine = AsrEngine(asr, workers=1)
    decoded: list[int] = []
    batch_fn = asr.transcribe_batch
    asr.transcribe_batch = lambda items: decoded.append(len(items)) or batch_fn(items)

    async def main():
        import time

        engine.start()
        try:
            stale = await engine.transcribe(
                librivox[0].audio, DecodeOptions(), Priority.DRAFT, deadline=time.monotonic() - 0.1
            )
            fresh = await engine.transcribe(
                librivox[4].audio, DecodeOptions(), Priority.DRAFT, deadline=time.monotonic() + 30
            )
        finally:
            engine.stop()
        return stale, fresh

    stale, fresh = asyncio.run(main())
    assert stale is None and decoded == [1]
    assert wer(librivox[4].text, fresh.text) <= 0.2


def test_while_finals_decode_exclusively_no_other_decode_starts(librivox):
    asr = WhisperAsr("tiny.en", workers=2)
    engine = AsrEngine(asr, workers=1, final_lane=True, max_batch=8, finals_exclusive=True)
    spans: list[tuple[str, float, float]] = []  # (kind of the batch, start, end)
    final_started = threading.Event()
    batch_fn = asr.transcribe_batch

    def timed(items):
        import time

        t0 = time.monotonic()
        if items[0][1].word_timestamps:
            final_started.set()
        out = batch_fn(items)
        kind = "final" if items[0][1].word_timestamps else "draft"
        spans.append((kind, t0, time.monotonic()))
        return out

    asr.transcribe_batch = timed

    async def main():
        engine.start()
        try:
            final = asyncio.create_task(engine.transcribe(librivox[4].audio, DecodeOptions(), Priority.FINAL))
            assert await asyncio.to_thread(final_started.wait, 30)  # the finals lane is decoding
            drafts = [
                engine.transcribe(librivox[0].audio, DecodeOptions(word_timestamps=False), Priority.DRAFT)
                for _ in range(3)
            ]
            results = await asyncio.gather(final, *drafts)
        finally:
            engine.stop()
        return results

    results = asyncio.run(main())
    assert all(r is not None and r.text for r in results)
    finals = [(a, b) for kind, a, b in spans if kind == "final"]
    drafts = [(a, b) for kind, a, b in spans if kind == "draft"]
    assert finals and drafts
    # the drafts waited: none of their batches overlaps the final's
    for fa, fb in finals:
        assert all(da >= fb or db <= fa for da, db in drafts), spans
