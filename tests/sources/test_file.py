"""A whole file through the track pipeline (sources/file.py): the same finals, word timings and
speaker turns as a live session of the same audio, on the real engine, VAD and voice encoder."""

from __future__ import annotations

import asyncio

import numpy as np

from livetranslate.asr import DecodeOptions, SegmenterOptions
from livetranslate.asr.language import DETECT_SPEECH_S, FileLanguage, TrackLanguage
from livetranslate.events import SegmentEvent
from livetranslate.sources.file import transcribe_file
from tests.conftest import conversation, wer
from tests.session.harness import Feed, run_session, settings_for


def _file(services, audio, **kw):
    from livetranslate.speakers import SessionSpeakers, VoiceEncoder

    s = services.settings
    return transcribe_file(
        services.engine, services.vad, audio, language="en", segmenter=SegmenterOptions.from_settings(s),
        beam_size=s.final_beam_size, speakers=SessionSpeakers.from_settings(s), encoder=VoiceEncoder(), **kw,
    )


def test_a_file_has_the_finals_words_and_speakers_a_live_session_of_it_has(tmp_path, librivox, synthetic):
    """Two voices (a LibriVox reader, espeak-ng): one definition of a final, so the cuts, the
    text, the word timings and who spoke agree between the file and the live track."""
    from livetranslate.runtime import running

    audio, reference = conversation([librivox[0], synthetic[0], librivox[1], synthetic[1]])
    settings = settings_for(tmp_path)
    live = [e for e in asyncio.run(run_session(settings, [Feed(audio)])).events
            if isinstance(e, SegmentEvent) and e.status == "final" and e.text]

    async def main():
        async with running(settings_for(tmp_path / "file")) as services:
            progress: list[float] = []
            return await _file(services, audio, on_progress=progress.append), progress

    transcript, progress = asyncio.run(main())
    segments = transcript.segments
    assert transcript.language == "en" and transcript.warnings == []
    assert [(s.start, s.end) for s in segments] == [(e.start, e.end) for e in live]
    assert wer(" ".join(e.text for e in live), " ".join(s.text for s in segments)) < 0.05
    assert wer(reference, " ".join(s.text for s in segments)) < 0.2
    assert len({s.speaker for s in segments}) == len({e.speaker for e in live}) == 2
    for seg in segments:  # word timings on the file's clock, inside their segment
        assert seg.words and seg.start - 0.5 <= seg.words[0]["start"] <= seg.words[-1]["end"] <= seg.end + 0.5
        assert seg.avg_logprob is not None and 0 <= seg.no_speech_prob <= 1
    assert progress == sorted(progress) and progress[-1] >= segments[-1].end


def test_a_decode_that_fails_is_a_warning_and_the_rest_of_the_file_is_kept(tmp_path, librivox):
    """Fault injection on the real engine: the file's second decode raises."""
    from livetranslate.runtime import running

    audio, _ = conversation(librivox[:3])

    async def main():
        async with running(settings_for(tmp_path)) as services:
            real, calls = services.engine.transcribe, []

            async def transcribe(audio, options, priority, **kw):
                calls.append(priority)
                if len(calls) == 2:
                    raise RuntimeError("decoder crashed")
                return await real(audio, options, priority, **kw)

            services.engine.transcribe = transcribe
            return await _file(services, audio), calls

    transcript, calls = asyncio.run(main())
    assert {p.name for p in calls} == {"BATCH"}  # live finals go first
    assert [w.code for w in transcript.warnings] == ["asr_failed"]
    warning = transcript.warnings[0]
    assert "decoder crashed" in warning.message and warning.start < warning.end
    kept = " ".join(s.text for s in transcript.segments)
    assert wer(librivox[0].text + " " + librivox[2].text, kept) < 0.2
    assert all(not (s.start < warning.end and s.end > warning.start) for s in transcript.segments)


def test_silence_is_no_segments_and_no_warning(tmp_path):
    from livetranslate.runtime import running

    async def main():
        async with running(settings_for(tmp_path)) as services:
            return await _file(services, np.zeros(16000 * 5, np.float32))

    transcript = asyncio.run(main())
    assert transcript.segments == [] and transcript.warnings == []


def test_a_file_language_is_the_one_heard_longest_over_its_first_seconds_of_speech():
    spoken = FileLanguage()
    base = DecodeOptions(language=None)
    assert not spoken.settled and spoken.options(base).language is None
    spoken.heard("de", 3.0)
    spoken.heard("es", 2.0)
    assert not spoken.settled  # 5 s: not enough yet
    spoken.heard("es", DETECT_SPEECH_S - 4.0)  # 9 s heard: es 6 s, de 3 s
    assert spoken.settled and spoken.decided == "es" and spoken.options(base).language == "es"
    spoken.heard("de", 60.0)  # decided once: the rest is decoded in it
    assert spoken.decided == "es"


def test_a_live_track_detects_each_utterance_leaning_on_the_last_language():
    spoken = TrackLanguage()
    base = DecodeOptions(language=None)
    assert spoken.settled and spoken.options(base).prior is None
    spoken.heard("de", 1.0)
    assert spoken.options(base) == DecodeOptions(language=None, prior="de")
    assert spoken.options(DecodeOptions(language="en")).prior is None  # an asked language is kept
