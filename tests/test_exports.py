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


LONG = ("So we went over the whole quarterly plan again and decided that the launch moves to March "
        "because the vendor is late with the parts we need")


def _long_segment(**extra) -> TranscriptSegment:
    words, t = [], 0.0
    for w in LONG.split():
        words.append({"word": " " + w, "start": round(t, 3), "end": round(t + 0.3, 3)})
        t += 0.4
    return TranscriptSegment(id="a", start=0.0, end=round(t, 3), text=LONG, language="en", words=words, **extra)


def test_long_segments_become_cues_of_two_lines_of_42_characters_and_at_most_7_seconds():
    seg = _long_segment()
    subs = list(srt.parse(render([seg], "srt")))
    assert len(subs) >= 2 and " ".join(s.content.replace("\n", " ") for s in subs) == LONG
    for s in subs:
        lines = s.content.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines), s.content
        assert (s.end - s.start).total_seconds() <= 7.0
    # cut where the words are: each cue starts at its first word's time
    first_word = {w["word"].strip(): w["start"] for w in seg.words}
    assert subs[1].start.total_seconds() == first_word[subs[1].content.split()[0]]
    assert subs[0].start.total_seconds() == 0.0 and subs[-1].end.total_seconds() == seg.end
    vtt = webvtt.from_string(render([seg], "vtt"))
    assert len(vtt.captions) == len(subs)


def test_a_line_without_a_translation_is_marked_with_its_language_never_passed_off_as_one():
    done = TranscriptSegment(id="a", start=0.0, end=1.0, text="Good morning.", language="en", translation="Buenos días.")
    missing = TranscriptSegment(id="b", start=1.0, end=2.0, text="Guten Tag.", language="de",
                                translation_error="no installed engine translates de into es")
    assert render([done, missing], "txt", lang="es") == "Buenos días.\n[de] Guten Tag.\n"
    assert [s.content for s in srt.parse(render([done, missing], "srt", lang="es"))] == ["Buenos días.", "[de] Guten Tag."]
    data = json.loads(render([done, missing], "json", lang="es"))
    assert data["untranslated"] == 1 and data["translation"] == "Buenos días."
    assert data["segments"][1]["translation"] is None
    assert data["segments"][1]["translation_error"] == "no installed engine translates de into es"
    bilingual = [s.content for s in srt.parse(render([done, missing], "srt", lang="es", bilingual=True))]
    assert bilingual == ["Good morning.\nBuenos días.", "Guten Tag."]


def test_a_long_word_beside_short_ones_leaves_no_cue_empty():
    # 20 s and three words: three cues, one a word each (a piece without words had no time: IndexError)
    words = [{"word": " I", "start": 0.0, "end": 1.0}, {"word": " see", "start": 5.0, "end": 6.0},
             {"word": " extraordinarily", "start": 12.0, "end": 20.0}]
    seg = TranscriptSegment(id="a", start=0.0, end=20.0, text="I see extraordinarily", language="en", words=words)
    for timed in (seg, TranscriptSegment(id="a", start=0.0, end=20.0, text=seg.text, language="en")):
        subs = list(srt.parse(render([timed], "srt")))
        assert [s.content for s in subs] == ["I", "see", "extraordinarily"]
        assert subs[-1].end.total_seconds() == 20.0
    assert [s.start.total_seconds() for s in srt.parse(render([seg], "srt"))] == [0.0, 5.0, 12.0]


def test_no_stored_text_breaks_a_cue():
    """A speaker renamed ``Ana --> Bob``, a participant name with a timing line in it, control
    characters from an engine: every export still parses, one cue per segment."""
    from livetranslate.exports import to_srt, to_vtt

    segs = [
        TranscriptSegment(id="a", start=0, end=2, text="Hello --> there", speaker="S1", speaker_name="Ana --> Bob"),
        TranscriptSegment(id="b", start=2, end=4, text="Line\nbreak\x00 here", speaker="S2",
                          speaker_name="Eve\n\n00:00:09,000 --> 00:00:10,000\nX", translation="Otra\n\nlínea"),
    ]
    subs = list(srt.parse(to_srt(segs)))
    assert [(s.start.total_seconds(), s.end.total_seconds()) for s in subs] == [(0, 2), (2, 4)]
    assert subs[0].content == "Ana → Bob: Hello → there"
    vtt = webvtt.from_buffer(__import__("io").StringIO(to_vtt(segs)))
    assert [c.start for c in vtt] == ["00:00:00.000", "00:00:02.000"]
    assert "\x00" not in to_vtt(segs) and "\x00" not in render(segs, "txt")
    assert len(list(srt.parse(render(segs, "srt", lang="es", bilingual=True)))) == 2
