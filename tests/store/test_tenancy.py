"""Tenants own what they store: the 0011 migration hands existing data to the tenant
"default", and each lookup and list sees one tenant's things only."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from livetranslate.errors import Conflict, NotFound
from livetranslate.store import Database, crud, tenancy, upgrade
from livetranslate.store import bots as bot_store
from livetranslate.store.models import BotRow, utcnow


def test_the_migration_gives_existing_sessions_voiceprints_and_defaults_to_the_default_tenant(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url, "0010")
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO sessions (id, title, targets, status, created_at, audio_seconds, last_seq) "
                          "VALUES ('s1', 'Before tenants', '[]', 'ended', CURRENT_TIMESTAMP, 3.5, 0)"))
        conn.execute(text("INSERT INTO voiceprints (id, name, embedding, seconds, samples, created_at, updated_at) "
                          "VALUES ('v1', 'Ana', '[1.0, 0.0]', 4.0, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        conn.execute(text('INSERT INTO defaults (id, "values", updated_at) '
                          """VALUES (1, '{"targets": ["es"]}', CURRENT_TIMESTAMP)"""))
    db.dispose()
    upgrade(url)
    db = Database(url)
    assert db.call(crud.get_session, session_id="s1", tenant="default").title == "Before tenants"
    assert db.call(crud.get_voiceprint, name="Ana", tenant="default").id == "v1"
    assert db.call(crud.get_defaults, tenant="default") == {"targets": ["es"]}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM tenants WHERE id = 'default'")).scalar() == "default"
    with pytest.raises(NotFound):
        db.call(crud.get_session, session_id="s1", tenant="acme")
    db.dispose()


def test_the_migration_goes_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url)
    from alembic import command

    from livetranslate.store.migrate import alembic_config

    command.downgrade(alembic_config(url), "0010")
    upgrade(url)


def _session(db, sid: str, tenant: str, title: str = "t"):
    return db.call(crud.create_session, id=sid, tenant=tenant, title=title, language="en", targets=[], audio_path=None)


def _bot(db, bot_id: str, session_id: str, tenant: str, meeting: str = "abc-defg-hij"):
    row = BotRow(id=bot_id, session_id=session_id, platform="google_meet", meeting_id=meeting,
                 meeting_url=f"https://meet.google.com/{meeting}", bot_name="b", status="joining", status_at=utcnow(),
                 leave_requested=False, screenshots=0, options={}, user_metadata={})
    return db.call(bot_store.create_bot, row=row, tenant=tenant, active=["joining"], source="user", message=None)


def test_another_tenants_session_is_not_found_the_way_a_missing_one_is(db):
    _session(db, "a1", "acme")
    with pytest.raises(NotFound) as other:
        db.call(crud.get_session, session_id="a1", tenant="globex")
    with pytest.raises(NotFound) as missing:
        db.call(crud.get_session, session_id="zz", tenant="globex")
    assert str(other.value).replace("a1", "X") == str(missing.value).replace("zz", "X")
    assert db.call(crud.get_session, session_id="a1", tenant="acme").id == "a1"


def test_lists_and_searches_see_their_tenants_sessions_only(db):
    _session(db, "a1", "acme", "Budget")
    _session(db, "a2", "acme", "Budget again")
    _session(db, "g1", "globex", "Budget")
    rows, total = db.call(crud.list_sessions, tenant="globex", limit=10, offset=0, q="budget")
    assert [r.id for r in rows] == ["g1"] and total == 1
    assert db.call(crud.list_sessions, tenant="acme", limit=10, offset=0)[1] == 2
    assert db.call(crud.list_sessions, tenant=None, limit=10, offset=0)[1] == 3


def test_voiceprint_names_are_unique_within_a_tenant_only(db):
    db.call(crud.create_voiceprint, id="v1", tenant="acme", name="Ana", embedding=[1.0, 0.0], seconds=4.0)
    db.call(crud.create_voiceprint, id="v2", tenant="globex", name="Ana", embedding=[0.0, 1.0], seconds=4.0)
    with pytest.raises(Conflict):
        db.call(crud.create_voiceprint, id="v3", tenant="acme", name="Ana", embedding=[0.0, 1.0], seconds=4.0)
    assert db.call(crud.get_voiceprint, name="Ana", tenant="globex").id == "v2"
    assert [v.id for v in db.call(crud.list_voiceprints, tenant="acme")] == ["v1"]
    with pytest.raises(NotFound):
        db.call(crud.get_voiceprint, voiceprint_id="v1", tenant="globex")


def test_defaults_are_a_tenants_own(db):
    db.call(crud.put_defaults, tenant="acme", values={"targets": ["de"]})
    assert db.call(crud.get_defaults, tenant="acme") == {"targets": ["de"]}
    assert db.call(crud.get_defaults, tenant="globex") == {}


def test_bots_and_their_deliveries_are_their_sessions_tenants(db):
    _session(db, "a1", "acme")
    _session(db, "g1", "globex")
    _bot(db, "ba", "a1", "acme")
    _bot(db, "bg", "g1", "globex")  # the same meeting: another tenant's bot there is no conflict
    _session(db, "a2", "acme")
    with pytest.raises(Conflict):
        _bot(db, "bb", "a2", "acme")
    assert [b.id for b in db.call(bot_store.list_bots, tenant="acme", status=None, limit=10, offset=0)[0]] == ["ba"]
    with pytest.raises(NotFound):
        db.call(bot_store.get_bot, bot_id="ba", tenant="globex")
    tenancy_names = {"session_id": "a1", "bot_id": "ba"}
    db.call(tenancy.check_owned, tenant="acme", names=tenancy_names)
    with pytest.raises(NotFound):
        db.call(tenancy.check_owned, tenant="globex", names=tenancy_names)
