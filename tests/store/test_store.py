"""The store: Alembic migrations, atomic gap-free seq, session lifecycle, cascade deletes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from livetranslate.errors import Conflict, NotFound
from livetranslate.events import SegmentEvent, SessionStatusEvent, Word
from livetranslate.store import Database, SessionStatus, upgrade
from livetranslate.store import crud


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/store.db"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def _new(db, sid="s1"):
    return db.call(crud.create_session, id=sid, title="t", language="en", targets=[], audio_path=None)


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
