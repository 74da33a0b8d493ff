"""Live streaming end to end: real speech → audio socket → real Whisper → events, store, exports."""

from __future__ import annotations

import io
import threading
import wave

import pytest
import srt
import webvtt

from tests.conftest import conversation, pcm16, read_events, stream, wer


@pytest.fixture(scope="module")
def streamed(server, librivox):
    """One session fed with the five LibriVox recordings, separated by silence."""
    audio, reference = conversation(librivox)
    session = server.create_session(title="librivox")
    result = stream(server, session["id"], pcm16(audio), chunk_bytes=6400, pace=0.1)  # 2x real time
    return session, result, reference, audio


def test_stream_transcribes_real_speech_within_wer_bound(streamed):
    _, result, reference, _ = streamed
    assert len(result.finals) == 5, result.text
    # tiny.en int8 on these recordings: ~0.10 WER offline; allow a little for segmentation
    assert wer(reference, result.text) <= 0.15, result.text


def test_stream_events_have_gap_free_seq_and_end_with_session_ended(streamed):
    _, result, _, _ = streamed
    seqs = [e["seq"] for e in result.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert result.events[0] == {"type": "session.status", "seq": 1, "status": "live", "audio_seconds": 0.0}
    assert result.events[-1]["type"] == "session.ended"
    assert result.close_code == 1000
    assert result.messages[0]["type"] == "ready"


def test_stream_drafts_are_replaced_by_exactly_one_final(streamed):
    _, result, _, _ = streamed
    segments = [e for e in result.events if e["type"] == "segment"]
    drafts = [e for e in segments if e["status"] == "draft"]
    assert drafts, "a 7 s utterance must produce drafts before its final"
    finals_by_id: dict[str, int] = {}
    for e in segments:
        if e["status"] == "final":
            finals_by_id[e["segment_id"]] = finals_by_id.get(e["segment_id"], 0) + 1
    assert all(n == 1 for n in finals_by_id.values())
    for d in drafts:  # every draft belongs to a segment that gets its final later
        final = next(e for e in segments if e["segment_id"] == d["segment_id"] and e["status"] == "final")
        assert final["seq"] > d["seq"]
        assert d["words"] == []


def test_stream_finals_carry_words_and_times(streamed):
    _, result, _, audio = streamed
    previous_end = 0.0
    # one reader: one voice, unnamed (nothing names it), once speaker updates are applied
    # (re-clustering may move the first final to the number the later ones have)
    speaker = {f["segment_id"]: f["speaker"] for f in result.finals}
    for e in result.events:
        if e["type"] == "speaker.update":
            assert e["name"] is None and e["source"] == "cluster"
            speaker.update({sid: e["speaker"] for sid in e["segment_ids"] if sid in speaker})
    assert len(set(speaker.values())) == 1, speaker
    for f in result.finals:
        assert f["language"] == "en"
        assert (f["speaker_name"], f["speaker_source"]) == (None, "cluster")
        assert previous_end <= f["start"] < f["end"] <= len(audio) / 16000 + 0.1
        previous_end = f["end"]
        assert f["words"], f
        for w in f["words"]:
            assert set(w) == {"word", "start", "end", "probability"}
            assert f["start"] - 0.5 <= w["start"] <= w["end"] <= f["end"] + 0.5


def test_replay_with_after_seq_returns_exactly_the_missed_events(server, streamed):
    session, result, _, _ = streamed
    everything, code = read_events(server, session["id"])
    assert everything == result.events
    assert code == 1000
    n = len(everything) // 2
    rest, _ = read_events(server, session["id"], after_seq=n)
    assert rest == everything[n:]


def test_session_is_ended_and_transcript_exports_parse(server, streamed):
    session, result, _, audio = streamed
    with server.client() as c:
        row = c.get(f"/v1/sessions/{session['id']}").json()
        assert row["status"] == "ended"
        assert row["audio_seconds"] == pytest.approx(len(audio) / 16000, abs=0.05)
        assert row["last_seq"] == result.events[-1]["seq"]

        as_json = c.get(f"/v1/sessions/{session['id']}/transcript").json()
        assert [s["text"] for s in as_json["segments"]] == [f["text"] for f in result.finals]
        assert as_json["segments"][0]["words"]

        # each final in cues of at most two lines of 42 characters and 7 s, in order, every word once
        subs = list(srt.parse(c.get(f"/v1/sessions/{session['id']}/transcript?format=srt").text))
        assert " ".join(s.content.replace("\n", " ") for s in subs) == " ".join(f["text"] for f in result.finals)
        assert subs[0].start.total_seconds() == pytest.approx(result.finals[0]["start"], abs=0.001)
        assert all((s.end - s.start).total_seconds() <= 7.0 for s in subs)

        vtt = webvtt.from_string(c.get(f"/v1/sessions/{session['id']}/transcript?format=vtt").text)
        assert [cap.text for cap in vtt.captions] == [s.content for s in subs]

        txt = c.get(f"/v1/sessions/{session['id']}/transcript?format=txt").text
        assert txt.splitlines() == [f["text"] for f in result.finals]

        bad = c.get(f"/v1/sessions/{session['id']}/transcript?format=docx")
        assert bad.status_code == 422 and "format" in bad.json()["error"]["message"]


def test_session_audio_is_stored_and_downloadable(server, streamed):
    session, _, _, audio = streamed
    with server.client() as c:
        r = c.get(f"/v1/sessions/{session['id']}/audio")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(r.content)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() == len(audio)


def test_silence_and_noise_produce_no_text(server):
    import numpy as np

    rng = np.random.default_rng(7)
    audio = np.concatenate(
        [np.zeros(16000 * 3, np.float32), rng.normal(0, 0.05, 16000 * 4).astype(np.float32), np.zeros(16000, np.float32)]
    )
    session = server.create_session(title="noise")
    result = stream(server, session["id"], pcm16(audio))
    assert [e["type"] for e in result.events] == ["session.status", "session.ended"]


def test_paused_session_resumes_on_a_new_socket_with_continuous_time(server, librivox):
    session = server.create_session()
    stream(server, session["id"], pcm16(librivox[1].audio), stop=False)
    # the socket dropped without stop: what it sent is still transcribed; the session pauses
    before_resume, _ = read_events(server, session["id"], timeout=5)
    assert before_resume[-1] == {
        "type": "session.status",
        "seq": len(before_resume),
        "status": "paused",
        "audio_seconds": round(len(librivox[1].audio) / 16000, 3),
    }
    assert wer(librivox[1].text, " ".join(e["text"] for e in before_resume if e["type"] == "segment")) < 0.5
    with server.client() as c:
        assert c.get(f"/v1/sessions/{session['id']}").json()["status"] == "paused"
    second = stream(server, session["id"], pcm16(librivox[4].audio))
    ready = second.messages[0]
    assert ready["type"] == "ready"
    assert ready["audio_offset"] == pytest.approx(len(librivox[1].audio) / 16000, abs=0.01)
    assert second.finals[0]["start"] >= ready["audio_offset"] - 0.01
    everything, _ = read_events(server, session["id"])
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    statuses = [e.get("status") for e in everything if e["type"] == "session.status"]
    assert statuses == ["live", "paused", "live"]


def test_two_concurrent_sessions_do_not_interfere(server, librivox, synthetic):
    a_audio, a_ref = conversation(librivox[:2])
    b_audio, b_ref = conversation(synthetic[:2])
    sa, sb = server.create_session(title="a"), server.create_session(title="b")
    results = {}

    def run(name, sid, audio):
        results[name] = stream(server, sid, pcm16(audio), pace=0.02)

    threads = [
        threading.Thread(target=run, args=("a", sa["id"], a_audio)),
        threading.Thread(target=run, args=("b", sb["id"], b_audio)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wer(a_ref, results["a"].text) <= 0.2, results["a"].text
    assert wer(b_ref, results["b"].text) <= 0.2, results["b"].text
    ids_a = {e["segment_id"] for e in results["a"].finals}
    ids_b = {e["segment_id"] for e in results["b"].finals}
    assert ids_a.isdisjoint(ids_b)
