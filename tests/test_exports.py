"""Exports parse back with the subtitle libraries."""

from __future__ import annotations

import json

import srt
import webvtt

from livetranslate.exports import TranscriptSegment, render

SEGMENTS = [
    TranscriptSegment(id="a", start=0.5, end=2.25, text="Hello there.", language="en"),
    TranscriptSegment(id="b", start=3661.0, end=3663.5, text="An hour later, with a comma.", speaker="S1"),
]
TWO_VOICES = [
    TranscriptSegment(id="a", start=0.0, end=1.0, text="Hi.", speaker="S1", speaker_name="Ana"),
    TranscriptSegment(id="b", start=1.0, end=2.0, text="Hello.", speaker="S2"),
]


def test_srt_round_trip():
    subs = list(srt.parse(render(SEGMENTS, "srt")))
    assert [s.content for s in subs] == ["Hello there.", "An hour later, with a comma."]
    assert subs[1].start.total_seconds() == 3661.0 and subs[0].end.total_seconds() == 2.25


def test_vtt_round_trip():
    vtt = webvtt.from_string(render(SEGMENTS, "vtt"))
    assert [(c.start, c.end) for c in vtt.captions] == [("00:00:00.500", "00:00:02.250"), ("01:01:01.000", "01:01:03.500")]


def test_txt_and_json():
    assert render(SEGMENTS, "txt") == "Hello there.\nAn hour later, with a comma.\n"
    data = json.loads(render(SEGMENTS, "json", session={"id": "s"}))
    assert data["session"] == {"id": "s"} and data["text"] == "Hello there. An hour later, with a comma."
    assert data["segments"][0] == {
        "id": "a", "start": 0.5, "end": 2.25, "text": "Hello there.", "language": "en", "speaker": None,
        "speaker_name": None, "words": [],
    }


def test_speaker_labels_name_or_number_and_only_when_there_is_more_than_one_voice():
    assert render(TWO_VOICES, "txt") == "Ana: Hi.\nSpeaker 2: Hello.\n"
    assert [c.text for c in webvtt.from_string(render(TWO_VOICES, "vtt")).captions] == ["Ana: Hi.", "Speaker 2: Hello."]
    one_unnamed = [TranscriptSegment(id="a", start=0.0, end=1.0, text="Hi.", speaker="S1")]
    assert render(one_unnamed, "txt") == "Hi.\n"
    assert json.loads(render(TWO_VOICES, "json"))["segments"][0]["speaker_name"] == "Ana"


def test_empty_transcript_is_still_valid():
    assert list(srt.parse(render([], "srt"))) == []
    assert webvtt.from_string(render([], "vtt")).captions == []
