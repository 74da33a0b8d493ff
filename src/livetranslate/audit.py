"""The audit log: who (which key) did what, to which thing, and when — for a tenant's admins at
``GET /v1/audit``. What changes who may do what, or what is kept, is recorded: keys made and
revoked, sessions deleted, speakers renamed and merged, voices enrolled and forgotten, the
defaults changed, bots sent, made to leave and cancelled. Never a secret: a key is named by
its id, a bot by its meeting's platform and id.
"""

from __future__ import annotations

from livetranslate import executors
from livetranslate.auth import Principal
from livetranslate.store import Database
from livetranslate.store import audit as store
from livetranslate.store.models import AuditEventRow, utcnow

ACTIONS = {
    "key.create": "an API key was made (target: the key's id)",
    "key.revoke": "an API key was revoked",
    "session.delete": "a session was deleted, with all under it",
    "speaker.rename": "a speaker was named or un-named (target: the speaker; detail: session, name)",
    "speaker.merge": "two speakers were merged (detail: session, into)",
    "voiceprint.enroll": "a voice was enrolled (target: the voiceprint; detail: name)",
    "voiceprint.sample": "speech was added to an enrolled voice",
    "voiceprint.delete": "an enrolled voice was forgotten",
    "settings.change": "the defaults of new sessions changed (detail: the fields, as set)",
    "bot.send": "a bot was sent into a meeting (detail: platform, meeting, join_at)",
    "bot.leave": "a bot was made to leave its meeting",
    "bot.cancel": "a scheduled bot was cancelled",
}


def event(*, tenant: str, key_id: str | None, via: str, action: str, target: str | None, detail: dict) -> AuditEventRow:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEventRow(tenant_id=tenant, key_id=key_id, via=via, action=action, target=target, detail=detail,
                         at=utcnow())


class Audit:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, who: Principal, action: str, target: str | None = None, *, of_tenant: str | None = None,
                     **detail) -> None:
        """``who`` did ``action`` (one of :data:`ACTIONS`) to ``target`` (a thing of ``of_tenant``;
        by default of ``who``'s tenant)."""
        row = event(tenant=of_tenant or who.tenant, key_id=who.key_id, via="open" if who.key_id is None else "api",
                    action=action, target=target, detail=detail)
        await executors.run("store", self._db.call, store.add_event, row=row)

    async def list(self, *, tenant: str, action: str | None, key_id: str | None, before: int | None,
                   limit: int) -> tuple[list[AuditEventRow], int]:
        return await executors.run("store", self._db.call, store.list_events, tenant=tenant, action=action,
                                   key_id=key_id, before=before, limit=limit)
