"""The REST facade of sessions: create, read, list, change, end and delete them, and the
defaults of new ones (their speakers: :mod:`livetranslate.speakers.service`). It changes the store, and reaches a live session (wherever it runs)
only through commands on the bus (:mod:`.live` runs them).

Every call takes a ``scope``: whose sessions it may see and make (the caller's tenant's; the
server's own work, recovery and bots, acts for everyone). The routes' paths are checked
before (:mod:`livetranslate.store.tenancy`); lists, searches, new sessions and the defaults
need the scope itself.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from livetranslate import executors
from livetranslate.asr import AsrEngine
from livetranslate.bus import Bus
from livetranslate.errors import Conflict, InvalidInput, NotReady
from livetranslate.events import DeleteCommand, RetargetCommand, SessionEndedEvent, SessionStatusEvent, StopCommand
from livetranslate.session.defaults import SessionDefaults
from livetranslate.settings import Settings
from livetranslate.store import Database, SessionRow, SessionStatus, crud
from livetranslate.store.models import DEFAULT_TENANT
from livetranslate.translation import Glossary, TranslationRouter

log = logging.getLogger(__name__)


_END_TIMEOUT_S = 120.0  # a live session's last finals and translations, when it is ended over REST


async def _closed(events) -> bool:
    """Read until the live session closes: True when it ended, False when it paused instead."""
    async for event in events:
        if isinstance(event, SessionEndedEvent):
            return True
        if isinstance(event, SessionStatusEvent) and event.status == "paused":
            return False
    return True


@dataclass(frozen=True)
class Scope:
    """Whose sessions a call may touch: one tenant's, or (None) every one."""

    tenant: str | None = None

    @property
    def owner(self) -> str:
        """The tenant a new thing made in this scope belongs to."""
        return self.tenant or DEFAULT_TENANT


EVERYONE = Scope()


class SessionService:
    def __init__(
        self, *, settings: Settings, db: Database, engine: AsrEngine, bus: Bus, router: TranslationRouter,
    ) -> None:
        self._settings = settings
        self._defaults: dict[str, SessionDefaults] = {}  # a tenant's, once read (they change only here)
        self._db = db
        self._engine = engine
        self._bus = bus
        self._router = router

    async def create(
        self,
        *,
        scope: Scope,
        title: str | None,
        language: str | None,
        targets: list[str],
        translation_engine: str | None = None,
        glossary: Glossary | None = None,
        languages: list[str] | None = None,
    ) -> SessionRow:
        self._engine.check_language(language)
        if languages:
            if language is not None:
                raise InvalidInput("languages (the ones to detect among) needs language: null")
            for lang in languages:
                self._engine.check_language(lang)
        self._router.check(language, targets, translation_engine)
        session_id = uuid.uuid4().hex
        audio_path = str(self._settings.audio_dir / f"{session_id}.pcm") if self._settings.store_audio else None
        return await executors.run(
            "store", self._db.call, crud.create_session, id=session_id, tenant=scope.owner, title=title, language=language, targets=targets,
            audio_path=audio_path, translation_engine=translation_engine,
            glossary=glossary.model_dump() if glossary is not None else None, languages=languages or None,
        )

    async def update(self, session_id: str, scope: Scope = EVERYONE, **changes) -> SessionRow:
        """PATCH: title, targets, translation_engine, glossary; a live session follows at once
        (the next segment is translated into the new targets)."""
        row = await self.get(session_id, scope)
        if "targets" in changes or "translation_engine" in changes:
            self._router.check(
                row.language,
                changes.get("targets", list(row.targets or [])),
                changes.get("translation_engine", row.translation_engine),
            )
        if isinstance(changes.get("glossary"), Glossary):
            changes["glossary"] = changes["glossary"].model_dump()
        row = await executors.run("store", self._db.call, crud.update_session, session_id=session_id, **changes)
        await self._bus.send(session_id, RetargetCommand(
            targets=list(row.targets or []), translation_engine=row.translation_engine, glossary=row.glossary,
        ))
        return row

    async def defaults(self, scope: Scope) -> SessionDefaults:
        """What the tenant's new sessions get for what their request leaves out: its stored
        defaults (the dashboard's Settings) on top of the server's settings."""
        tenant = scope.owner
        if tenant not in self._defaults:
            stored = await executors.run("store", self._db.call, crud.get_defaults, tenant=tenant)
            self._defaults[tenant] = self._on_settings(stored)
        return self._defaults[tenant]

    def _on_settings(self, stored: dict) -> SessionDefaults:
        base = SessionDefaults.from_settings(self._settings).model_dump()
        try:
            return SessionDefaults.model_validate({**base, **stored})
        except ValidationError as e:  # stored before a check existed (a glossary over today's bounds)
            bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]}
            log.warning("stored defaults %s no longer pass the checks and are not used: %s", sorted(bad), e)
            return SessionDefaults.model_validate({**base, **{k: v for k, v in stored.items() if k not in bad}})

    async def update_defaults(self, changes: dict, scope: Scope) -> SessionDefaults:
        """Change the tenant's defaults of new sessions; checked like a session would be, then stored."""
        new = SessionDefaults.model_validate({**(await self.defaults(scope)).model_dump(), **changes})
        self._engine.check_language(new.language)
        self._router.check(new.language, new.targets, new.translation_engine)
        await executors.run("store", self._db.call, crud.put_defaults, tenant=scope.owner,
                            values=new.model_dump(mode="json"))
        self._defaults[scope.owner] = new
        return new

    async def get(self, session_id: str, scope: Scope = EVERYONE) -> SessionRow:
        return await executors.run("store", self._db.call, crud.get_session, session_id=session_id, tenant=scope.tenant)

    async def list(self, *, scope: Scope, limit: int, offset: int, q: str | None = None) -> tuple[list[SessionRow], int]:
        return await executors.run(
            "store", self._db.call, crud.list_sessions, tenant=scope.tenant, limit=limit, offset=offset, q=q
        )

    async def delete(self, session_id: str, scope: Scope = EVERYONE) -> None:
        await self.get(session_id, scope)
        await self._bus.send(session_id, DeleteCommand())  # its live audio (if any) stops first
        row = await executors.run("store", self._db.call, crud.delete_session, session_id=session_id)
        await self._bus.close(session_id, "session deleted")
        if row.audio_path:
            Path(row.audio_path).unlink(missing_ok=True)

    async def end(self, session_id: str, scope: Scope = EVERYONE) -> SessionRow:
        """End a session from outside its audio: a live one stops as if its sources had sent
        ``stop`` (their finals are stored, then they close); a paused or new one ends at once.
        Raises NotFound, or Conflict when it has ended or is live with no one running it."""
        row = await self.get(session_id, scope)
        if row.status is SessionStatus.ended:
            raise Conflict(f"session {session_id!r} has already ended")
        async with self._bus.subscribe(session_id, None) as events:  # before the command: its end is seen
            if await self._bus.send(session_id, StopCommand()):
                try:
                    ended = await asyncio.wait_for(_closed(events), _END_TIMEOUT_S)
                except asyncio.TimeoutError:
                    raise NotReady(f"session {session_id!r} is still publishing its last captions; it ends after them")
                row = await self.get(session_id, scope)
                if ended:
                    return row
        if row.status is SessionStatus.live:
            raise Conflict(f"session {session_id!r} is live on another server; end it there (stop its audio socket)")
        row = await executors.run("store", self._db.call, crud.set_status, session_id=session_id, status=SessionStatus.ended)
        await self._bus.publish(session_id, SessionEndedEvent(reason="ended", audio_seconds=row.audio_seconds))
        return row
