"""Persistence of meeting bots: the bot, its lifecycle moves, the participants it saw."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from livetranslate.errors import Conflict, NotFound
from livetranslate.store.models import BotParticipantEventRow, BotRow, BotStatusChangeRow, SessionRow, utcnow


def _of(tenant: str | None):
    """Bots, only the tenant's when given (a bot is its session's tenant's)."""
    query = select(BotRow)
    if tenant is not None:
        query = query.join(SessionRow, SessionRow.id == BotRow.session_id).where(SessionRow.tenant_id == tenant)
    return query


def create_bot(db: Session, *, row: BotRow, tenant: str, active: list[str], source: str, message: str | None) -> BotRow:
    """Store a new bot (its session made already, in ``tenant``) and its first state, unless an
    ``active`` bot of the tenant holds its meeting or its deduplication key (409; another
    tenant's bot in the same meeting is no business of this one's)."""
    holders = _of(tenant).where(
        BotRow.status.in_(active),
        or_(
            (BotRow.platform == row.platform) & (BotRow.meeting_id == row.meeting_id),
            *([BotRow.deduplication_key == row.deduplication_key] if row.deduplication_key else []),
        ),
    )
    if (other := db.scalars(holders.limit(1)).first()) is not None:
        same = "deduplication key" if row.deduplication_key and other.deduplication_key == row.deduplication_key else "meeting"
        raise Conflict(f"bot {other.id} is already {other.status} for this {same}; make it leave first")
    db.add(row)
    db.flush()
    db.add(BotStatusChangeRow(bot_id=row.id, old=None, new=row.status, message=message, source=source,
                              created_at=row.status_at))
    return row


def get_bot(db: Session, *, bot_id: str, tenant: str | None = None) -> BotRow:
    row = db.scalars(_of(tenant).where(BotRow.id == bot_id)).first()
    if row is None:
        raise NotFound(f"bot {bot_id!r} does not exist")
    return row


def list_bots(
    db: Session, *, tenant: str | None, status: list[str] | None, limit: int, offset: int
) -> tuple[list[BotRow], int]:
    """The tenant's (None: everyone's), newest first, only those in ``status`` when given; and
    how many there are in all."""
    query = _of(tenant)
    if status:
        query = query.where(BotRow.status.in_(status))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(BotRow.created_at.desc(), BotRow.id).limit(limit).offset(offset)).all()
    return list(rows), total


def count_bots(db: Session, *, status: list[str], tenant: str | None = None) -> int:
    """Bots in ``status``: every one, or the tenant's."""
    return db.scalar(select(func.count()).select_from(_of(tenant).where(BotRow.status.in_(status)).subquery())) or 0


def tenant_of(db: Session, *, bot_id: str) -> str:
    return db.scalar(select(SessionRow.tenant_id).join(BotRow, BotRow.session_id == SessionRow.id)
                     .where(BotRow.id == bot_id))


def status_changes(db: Session, *, bot_id: str) -> list[BotStatusChangeRow]:
    return list(db.scalars(
        select(BotStatusChangeRow).where(BotStatusChangeRow.bot_id == bot_id).order_by(BotStatusChangeRow.id)
    ).all())


def move_bot(db: Session, *, bot_id: str, check, source: str, at: datetime | None = None,
             also=None) -> tuple[BotRow, BotStatusChangeRow]:
    """Apply one lifecycle move in one transaction: ``check(row)`` returns ``(new, sub_code,
    message)`` from the stored state (or raises to refuse it); the move is stored with it, and
    with what ``also(db, row, change)`` returns to store (its webhook deliveries)."""
    row = db.get(BotRow, bot_id, with_for_update=True)
    if row is None:
        raise NotFound(f"bot {bot_id!r} does not exist")
    new, sub_code, message = check(row)
    change = BotStatusChangeRow(bot_id=bot_id, old=row.status, new=new, sub_code=sub_code, message=message,
                                source=source, created_at=at or utcnow())
    row.status, row.sub_code, row.message, row.status_at = new, sub_code, message, change.created_at
    db.add(change)
    if also is not None:
        db.add_all(also(db, row, change))
    db.flush()
    return row, change


def request_leave(db: Session, *, bot_id: str) -> BotRow:
    row = get_bot(db, bot_id=bot_id)
    row.leave_requested = True
    return row


def beat(db: Session, *, bot_id: str) -> None:
    """The bot's worker is alive."""
    row = get_bot(db, bot_id=bot_id)
    row.heartbeat_at = utcnow()


def set_screenshots(db: Session, *, bot_id: str, n: int) -> None:
    """The bot has taken ``n`` screenshots (1.png ... n.png in its directory)."""
    row = get_bot(db, bot_id=bot_id)
    row.screenshots = max(row.screenshots, n)


def add_participant_event(db: Session, *, bot_id: str, kind: str, participant_id: str, name: str | None,
                          time: float) -> BotParticipantEventRow:
    row = BotParticipantEventRow(bot_id=bot_id, kind=kind, participant_id=participant_id, name=name, time=time)
    db.add(row)
    db.flush()
    return row


def participant_events(db: Session, *, bot_id: str, limit: int, offset: int) -> list[BotParticipantEventRow]:
    return list(db.scalars(
        select(BotParticipantEventRow).where(BotParticipantEventRow.bot_id == bot_id)
        .order_by(BotParticipantEventRow.id).limit(limit).offset(offset)
    ).all())


def bots_in(db: Session, *, status: list[str]) -> list[BotRow]:
    """Every bot in one of these states (recovery, the scheduler, the reaper)."""
    return list(db.scalars(select(BotRow).where(BotRow.status.in_(status)).order_by(BotRow.created_at)).all())


def bots_of_session(db: Session, *, session_id: str) -> list[BotRow]:
    return list(db.scalars(select(BotRow).where(BotRow.session_id == session_id)).all())


def bot_of_session(db: Session, *, session_id: str) -> str | None:
    """The bot whose captions go to this session, if one does."""
    return db.scalar(select(BotRow.id).where(BotRow.session_id == session_id).limit(1))
