"""Exports download under the session's title and date (RFC 6266, ``filename*`` beyond ASCII),
so the plain, translated and bilingual files of one session never overwrite each other."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.conftest import pcm16, stream


@pytest.fixture(scope="module")
def translated(server, librivox):
    session = server.create_session(title="Board meeting", targets=["es"])
    stream(server, session["id"], pcm16(librivox[4].audio), chunk_bytes=32000)
    return session


@pytest.mark.parametrize(
    ("query", "disposition"),
    [
        ({"format": "srt"}, "attachment; filename=\"board-meeting-{day}.srt\""),
        ({"format": "srt", "lang": "es"}, "attachment; filename=\"board-meeting-{day}.es.srt\""),
        ({"format": "srt", "lang": "es", "bilingual": "true"}, "attachment; filename=\"board-meeting-{day}.es.bilingual.srt\""),
        ({"format": "vtt", "lang": "es"}, "attachment; filename=\"board-meeting-{day}.es.vtt\""),
        ({"format": "txt"}, "attachment; filename=\"board-meeting-{day}.txt\""),
        ({"format": "json"}, "inline; filename=\"board-meeting-{day}.json\""),  # the API's JSON still shows in a tab
    ],
)
def test_export_is_named_from_title_date_language_and_kind(server, translated, query, disposition):
    with server.client() as c:
        r = c.get(f"/v1/sessions/{translated['id']}/transcript", params=query)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == disposition.format(day=translated["created_at"][:10])


def test_a_title_beyond_ascii_keeps_its_letters_in_filename_star(server):
    session = server.create_session(title="Reunión: ¿Qué sigue?")
    day = session["created_at"][:10]
    with server.client() as c:
        r = c.get(f"/v1/sessions/{session['id']}/transcript", params={"format": "txt"})
    plain, star = r.headers["content-disposition"].split("; filename*=UTF-8''")
    assert plain == f'attachment; filename="reunion-que-sigue-{day}.txt"'
    assert unquote(star) == f"reunión-qué-sigue-{day}.txt"


def test_an_untitled_session_is_named_by_its_id(server):
    session = server.create_session()
    with server.client() as c:
        r = c.get(f"/v1/sessions/{session['id']}/transcript", params={"format": "srt"})
    assert r.headers["content-disposition"] == f'attachment; filename="session-{session["id"][:8]}-{session["created_at"][:10]}.srt"'
