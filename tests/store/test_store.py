"""The store: Alembic migrations, atomic gap-free seq, session lifecycle, cascade deletes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from livetranslate.errors import Conflict, NotFound
from livetranslate.events import SegmentEvent, SessionStatusEvent, Word
from livetranslate.store import Database, SessionStatus, upgrade
from livetranslate.store import crud


def _new(db, sid="s1"):
    return db.call(crud.create_session, id=sid, tenant="default", title="t", language="en", targets=[], audio_path=None)


def test_migrations_create_the_schema_and_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url)
    upgrade(url)
    tables = set(inspect(Database(url).engine).get_table_names())
    assert {"sessions", "segments", "events", "alembic_version"} <= tables


def test_seq_is_gap_free_under_concurrent_writers(db):
    _new(db)
    errors = []

    def write(n):
        try:
            for _ in range(n):
                db.call(crud.append_event, session_id="s1", event=SessionStatusEvent(status="live"))
        except Exception as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = [seq for seq, _ in db.call(crud.events_after, session_id="s1", after_seq=0)]
    assert seqs == list(range(1, 101))


def test_final_segments_are_stored_with_words_and_drafts_only_in_the_log(db):
    _new(db)
    words = [Word(word=" hello", start=0.1, end=0.4, probability=0.9)]
    for status in ("draft", "final"):
        ev = SegmentEvent(segment_id="a" * 32, status=status, text="Hello.", start=0.0, end=0.5, language="en", words=words)
        db.call(crud.append_event, session_id="s1", event=ev)
    empty_final = SegmentEvent(segment_id="b" * 32, status="final", text="", start=1, end=2, language="en")
    db.call(crud.append_event, session_id="s1", event=empty_final)
    segments = db.call(crud.final_segments, session_id="s1")
    assert [(s.text, s.seq, s.words[0]["word"]) for s in segments] == [("Hello.", 2, " hello")]
    assert len(db.call(crud.events_after, session_id="s1", after_seq=0)) == 3
    assert db.call(crud.events_after, session_id="s1", after_seq=2, limit=10)[0][0] == 3


def test_status_transitions_are_enforced(db):
    _new(db)
    db.call(crud.set_status, session_id="s1", status=SessionStatus.live)
    db.call(crud.set_status, session_id="s1", status=SessionStatus.paused, audio_seconds=3.5)
    db.call(crud.set_status, session_id="s1", status=SessionStatus.live)
    row = db.call(crud.set_status, session_id="s1", status=SessionStatus.ended)
    assert row.ended_at is not None and row.audio_seconds == 3.5
    with pytest.raises(Conflict, match="ended; it cannot become live"):
        db.call(crud.set_status, session_id="s1", status=SessionStatus.live)


def test_delete_removes_events_and_segments(db):
    _new(db)
    db.call(
        crud.append_event,
        session_id="s1",
        event=SegmentEvent(segment_id="c" * 32, status="final", text="x", start=0, end=1, language="en"),
    )
    db.call(crud.delete_session, session_id="s1")
    with pytest.raises(NotFound):
        db.call(crud.get_session, session_id="s1")
    assert db.call(crud.events_after, session_id="s1", after_seq=0) == []
    assert db.call(crud.final_segments, session_id="s1") == []


def test_events_for_an_unknown_session_are_refused(db):
    with pytest.raises(NotFound):
        db.call(crud.append_event, session_id="nope", event=SessionStatusEvent(status="live"))


def test_migrations_match_the_models(tmp_path):
    """Every table and column the models declare is what the migrations build (autogenerate
    finds nothing to add or drop)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from livetranslate.store.models import Base

    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url)
    engine = Database(url).engine
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_speakers_follow_segments_updates_and_merges(db):
    from livetranslate.events import SpeakerUpdateEvent

    _new(db)
    for i, sp in enumerate(["S1", "S2", "S1"]):
        db.call(crud.append_event, session_id="s1", event=SegmentEvent(
            segment_id=f"{i}" * 32, status="final", text=f"t{i}", start=i, end=i + 1, language="en", speaker=sp,
            speaker_source="cluster",
        ))
    assert [r.id for r in db.call(crud.speakers, session_id="s1")] == ["S1", "S2"]
    db.call(crud.append_event, session_id="s1", event=SpeakerUpdateEvent(
        speaker="S2", name="Ana", source="meeting", confidence=0.9, participant_id="p-ana",
    ))
    row = db.call(crud.get_speaker, session_id="s1", speaker_id="S2")
    assert (row.name, row.source, row.participant_id) == ("Ana", "meeting", "p-ana")
    # S1 merged into S2: its segments move, S1 is gone
    db.call(crud.append_event, session_id="s1", event=SpeakerUpdateEvent(
        speaker="S2", name="Ana", source="meeting", participant_id="p-ana", merged=["S1"],
    ))
    assert {s.speaker for s in db.call(crud.final_segments, session_id="s1")} == {"S2"}
    assert db.call(crud.speaker_stats, session_id="s1") == {"S2": (3, 3.0)}
    with pytest.raises(NotFound, match="merged into S2"):
        db.call(crud.get_speaker, session_id="s1", speaker_id="S1")


def test_timeline_events_are_bounded_per_session(db):
    _new(db)
    for start in range(0, 50, 10):
        events = [dict(kind="on", participant_id="p", name=None, time=float(t), end=None, text=None)
                  for t in range(start, start + 10)]
        db.call(crud.add_timeline_events, session_id="s1", events=events, keep=25)
    kept = db.call(crud.timeline_events, session_id="s1")
    assert [e.time for e in kept] == [float(t) for t in range(25, 50)]


def test_voiceprint_names_are_unique_and_samples_average(db):
    db.call(crud.create_voiceprint, id="v1", tenant="default", name="Ana", embedding=[1.0, 0.0], seconds=4.0)
    with pytest.raises(Conflict):
        db.call(crud.create_voiceprint, id="v2", tenant="default", name="Ana", embedding=[0.0, 1.0], seconds=4.0)
    row = db.call(crud.add_voiceprint_sample, voiceprint_id="v1", embedding=[0.0, 1.0], seconds=4.0)
    assert row.samples == 2 and row.seconds == 8.0
    assert row.embedding == pytest.approx([2 ** -0.5, 2 ** -0.5], abs=1e-6)


def test_search_finds_titles_and_spoken_words_in_any_case_and_escapes_wildcards(db):
    db.call(crud.create_session, id="a", tenant="default", title="Budget review", language="en", targets=[], audio_path=None)
    db.call(crud.create_session, id="b", tenant="default", title="Standup", language="en", targets=[], audio_path=None)
    db.call(crud.append_event, session_id="b", event=SegmentEvent(
        segment_id="d" * 32, status="final", text="We hit 100% of the plan_b target.", start=0, end=2, language="en",
    ))
    ids = lambda q: {r.id for r in db.call(crud.list_sessions, tenant=None, limit=10, offset=0, q=q)[0]}  # noqa: E731
    assert ids("BUDGET") == {"a"}
    assert ids("plan_b") == {"b"} and ids("plan%") == set() and ids("100%") == {"b"}
    assert ids("nothing like this") == set()
    assert db.call(crud.list_sessions, tenant=None, limit=10, offset=0, q="e")[1] == 2
