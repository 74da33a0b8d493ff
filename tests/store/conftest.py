"""A fresh store, migrated to the newest schema, for each test."""

from __future__ import annotations

import pytest

from livetranslate.store import Database, upgrade


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/store.db"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()
