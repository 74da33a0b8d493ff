"""Whose a stored thing is. Sessions and voiceprints carry their tenant; everything under a
session (segments, events, translations, speakers, sources, its bot and the bot's webhook
deliveries) is its session's tenant's.

:func:`check_owned` is the one check that what a request's path names is the caller's
tenant's, made before any route runs. Another tenant's thing is not found, with the same
message as one that does not exist: no one learns what others have.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from livetranslate.store import bots, crud, webhooks

OWNED = ("session_id", "bot_id", "voiceprint_id", "delivery_id")
"""Path parameters that name a tenant's thing."""
WITHIN = {"source_id": "session_id", "speaker_id": "session_id", "n": "bot_id"}
"""Path parameters that name a part of one of those (looked up only under it)."""
OWN_SCOPE = ("key_id",)
"""Path parameters whose lookup is scoped by itself (an admin's keys: ``store.keys``)."""


def check_owned(db: Session, *, tenant: str, names: Mapping[str, str]) -> None:
    """NotFound unless each thing ``names`` (a request's path parameters) names is ``tenant``'s."""
    if (session_id := names.get("session_id")) is not None:
        crud.get_session(db, session_id=session_id, tenant=tenant)
    if (bot_id := names.get("bot_id")) is not None:
        bots.get_bot(db, bot_id=bot_id, tenant=tenant)
    if (voiceprint_id := names.get("voiceprint_id")) is not None:
        crud.get_voiceprint(db, voiceprint_id=voiceprint_id, tenant=tenant)
    if (delivery_id := names.get("delivery_id")) is not None:
        webhooks.get_delivery(db, delivery_id=delivery_id, tenant=tenant)
