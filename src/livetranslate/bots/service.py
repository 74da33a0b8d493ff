"""The bots of this process: send one into a meeting, follow it, make it leave.

:class:`Bots` is the REST facade and the one place a bot's state changes (:meth:`Bots.move`):
each move is checked against the lifecycle table, stored with its source, and published on the
bot's session as ``bot.status``. A bot's captions are an ordinary session, created with it.
Its browser runs in a worker process (:mod:`.runner`); a background loop starts scheduled bots
when their time comes and ends those whose worker stopped beating (the reaper).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import shutil
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from livetranslate import executors, metrics
from livetranslate.bots.lifecycle import ACTIVE, TERMINAL, BotState, SubCode, check, ending
from livetranslate.bots.options import AutomaticLeave
from livetranslate.bots.platforms import Meeting, recognise
from livetranslate.bus import Bus
from livetranslate.errors import Conflict, LiveTranslateError, NotFound, NotReady, RateLimited, TooMany
from livetranslate.events import BotStatusEvent
from livetranslate.quotas import Quotas, check_at_once
from livetranslate.session import Scope, SessionService
from livetranslate.settings import Settings
from livetranslate.store import Database, SessionStatus, as_utc, crud
from livetranslate.store import bots as store
from livetranslate.store import webhooks as webhook_store
from livetranslate.store.models import BotParticipantEventRow, BotRow, BotStatusChangeRow, utcnow
from livetranslate.webhooks import Webhooks
from livetranslate.webhooks.outbox import deliveries

log = logging.getLogger(__name__)

S = BotState
_ACTIVE = [s.value for s in ACTIVE]
_RUNNING = [s.value for s in ACTIVE if s is not S.scheduled]


class Bots:
    def __init__(self, *, settings: Settings, db: Database, bus: Bus, sessions: SessionService, webhooks: Webhooks,
                 quotas: Quotas, runners) -> None:
        """``runners``: starts a bot's worker (``runners(bot, bots) -> runner`` with ``leave()``,
        ``kill(reason)`` and ``done`` (a task)); :mod:`.runner` in the server."""
        self._s = settings
        self._db = db
        self._bus = bus
        self._sessions = sessions
        self._webhooks = webhooks
        self._quotas = quotas
        self._make_runner = runners
        self._runners: dict[str, object] = {}
        self._creating = asyncio.Lock()  # the 409 and 429 checks and the insert, one request at a time
        self._moving: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._loop_task: asyncio.Task | None = None

    # --- the REST facade

    async def create(self, *, scope: Scope, meeting_url: str, bot_name: str | None = None, title: str | None = None,
                     language: str | None = None, targets: list[str] = (), join_at: datetime | None = None,
                     automatic_leave: AutomaticLeave | None = None, metadata: dict | None = None,
                     deduplication_key: str | None = None, webhooks: list[dict] = ()) -> tuple[BotRow, list]:
        """A bot for the meeting, with its session (the ``scope``'s tenant's), and its webhook endpoints (their secrets are
        made when not given: shown only here). Raises UnsupportedUrl (422), Conflict (409: a bot
        is active for the meeting or the key), TooMany (429), NotReady (503: no browser)."""
        meeting = recognise(meeting_url, meet_base_url=self._s.meet_base_url)
        self.check_browser()
        scheduled = join_at is not None and as_utc(join_at) > utcnow() + timedelta(seconds=1)
        async with self._creating:
            running = await self._call(store.count_bots, status=_RUNNING)
            if not scheduled and running >= self._s.max_concurrent_bots:
                raise TooMany(f"this server runs at most {self._s.max_concurrent_bots} bots at once "
                              f"(max_concurrent_bots); {running} are running")
            if not scheduled:
                await self._check_tenant_room(scope.owner)
            session = await self._sessions.create(scope=scope, title=title or _title(meeting), language=language,
                                                  targets=list(targets))
            row = BotRow(
                id=uuid.uuid4().hex, session_id=session.id, platform=meeting.platform, meeting_id=meeting.meeting_id,
                meeting_url=meeting.url, bot_name=bot_name or self._s.bot_name,
                status=(S.scheduled if scheduled else S.joining).value, status_at=utcnow(), leave_requested=False,
                join_at=as_utc(join_at) if join_at else None, screenshots=0,
                options={"automatic_leave": (automatic_leave or AutomaticLeave()).model_dump(), "language": language,
                         "targets": list(targets)},
                user_metadata=metadata or {}, deduplication_key=deduplication_key,
            )
            try:
                row = await self._call(store.create_bot, row=row, tenant=scope.owner, active=_ACTIVE, source="user",
                                       message=f"scheduled for {row.join_at.isoformat()}" if scheduled else None)
            except Conflict:
                await self._sessions.delete(session.id)
                raise
            endpoints = await self._webhooks.add_endpoints(row.id, list(webhooks))
        await self._webhooks.enqueue(row.id, "bot.status_change", _status_data(row, None, "user"))
        await self._publish(row, None, "user")
        if not scheduled:
            self._start(row)
        return row, endpoints

    async def get(self, bot_id: str) -> BotRow:
        return await self._call(store.get_bot, bot_id=bot_id)

    async def list(self, *, scope: Scope, status: list[str] | None, limit: int, offset: int) -> tuple[list[BotRow], int]:
        return await self._call(store.list_bots, tenant=scope.tenant, status=status, limit=limit, offset=offset)

    async def status_changes(self, bot_id: str) -> list[BotStatusChangeRow]:
        return await self._call(store.status_changes, bot_id=bot_id)

    async def participant_events(self, bot_id: str, *, limit: int = 1000, offset: int = 0) -> list[BotParticipantEventRow]:
        await self.get(bot_id)
        return await self._call(store.participant_events, bot_id=bot_id, limit=limit, offset=offset)

    async def leave(self, bot_id: str) -> BotRow:
        """Ask the bot to leave. It wins any race: however the bot ends now, it ended because it
        was asked. A scheduled bot is cancelled. Raises NotFound, Conflict (it has ended)."""
        row = await self.get(bot_id)
        if S(row.status) not in ACTIVE:
            raise Conflict(f"bot {bot_id} has already ended ({row.status})")
        await self._call(store.request_leave, bot_id=bot_id)
        if row.status == S.scheduled.value:
            try:
                return await self.move(bot_id, S.done, message="cancelled before it joined", source="user")
            except Conflict:  # its time came meanwhile: it is joining, so it is made to leave
                pass
        await self.move(bot_id, S.leaving, message="asked to leave", source="user")
        runner = self._runners.get(bot_id)
        if runner is not None:
            runner.leave()  # it leaves the meeting and reports how that went
            return await self.get(bot_id)
        await self.move(bot_id, S.call_ended, SubCode.bot_received_leave_call, "its worker was not running", "user")
        return await self.move(bot_id, S.done, source="user")

    async def pause(self, bot_id: str) -> BotRow:
        """Stop the captions; the bot stays in the call (``paused``) until resumed: its session
        pauses with the finals of what it heard, and hears nothing of the call meanwhile.
        Raises NotFound, Conflict (the bot is not recording)."""
        row, runner = await self._running(bot_id, S.in_call_recording, "paused")
        row = await self.move(bot_id, S.paused, message="paused", source="user")
        await runner.pause()
        return row

    async def resume(self, bot_id: str) -> BotRow:
        """Captions again from now on (``in_call_recording``), in the same session. Raises
        NotFound, Conflict (the bot is not paused), Overloaded (no room for another live session)."""
        _, runner = await self._running(bot_id, S.paused, "resumed")
        row = await self.move(bot_id, S.in_call_recording, message="resumed", source="user")
        try:
            await runner.resume()
        except LiveTranslateError:
            with contextlib.suppress(Conflict):  # it ended meanwhile
                await self.move(bot_id, S.paused, message="its session could not take audio again", source="user")
            raise
        return row

    async def _running(self, bot_id: str, state: BotState, what: str):
        row = await self.get(bot_id)
        runner = self._runners.get(bot_id)
        if row.status != state.value or runner is None:
            raise Conflict(f"bot {bot_id} is {row.status}: only a bot that is {state.value} can be {what}")
        return row, runner

    async def cancel(self, bot_id: str) -> None:
        """DELETE: only a bot that has not started (scheduled) can be cancelled."""
        row = await self.get(bot_id)
        if row.status != S.scheduled.value:
            raise Conflict(f"bot {bot_id} is {row.status}, not scheduled: make it leave (POST /v1/bots/{bot_id}/leave)")
        await self._call(store.request_leave, bot_id=bot_id)
        await self.move(bot_id, S.done, message="cancelled", source="user")

    async def of_session(self, session_id: str) -> list[str]:
        """The bots of a session about to be deleted; Conflict while one is still active."""
        rows = await self._call(store.bots_of_session, session_id=session_id)
        for row in rows:
            if S(row.status) in ACTIVE or row.id in self._runners:
                raise Conflict(f"bot {row.id} is {row.status} in this session's meeting; make it leave first "
                               f"(POST /v1/bots/{row.id}/leave)")
        return [row.id for row in rows]

    def forget_files(self, bot_ids: list[str]) -> None:
        """Their screenshots go with their session."""
        for bot_id in bot_ids:
            shutil.rmtree(self.bot_dir(bot_id), ignore_errors=True)

    def screenshot(self, row: BotRow, n: int) -> Path:
        path = self.bot_dir(row.id) / f"{n}.png"
        if not 1 <= n <= row.screenshots or not path.exists():
            raise NotFound(f"bot {row.id} has no screenshot {n} (it has {row.screenshots})")
        return path

    def bot_dir(self, bot_id: str) -> Path:
        return self._s.data_dir / "bots" / bot_id

    def check_browser(self) -> None:
        """NotReady (503) saying what is missing when no bot browser can start here."""
        missing = []
        if not Path(self._s.browser_path).exists() and shutil.which(self._s.browser_path) is None:
            missing.append(f"the browser {self._s.browser_path!r} (Debian: apt-get install chromium)")
        if importlib.util.find_spec("playwright") is None:
            missing.append("the Python package playwright")
        if self._s.bot_input_mode == "x11":
            missing += [f"{tool} (Debian: apt-get install {pkg})" for tool, pkg in (("Xvfb", "xvfb"), ("xdotool", "xdotool"))
                        if shutil.which(tool) is None]
        if missing:
            raise NotReady("no bot browser can start: missing " + " and ".join(missing))

    # --- moves (the one place a bot's state changes)

    async def move(self, bot_id: str, new: BotState, sub_code: SubCode | None = None, message: str | None = None,
                   source: str = "bot") -> BotRow:
        """Move the bot to ``new`` if the table allows it (else Conflict, logged), store and publish it."""
        def checked(row: BotRow):
            to, code, text = ending(new, sub_code, message or "", leave_requested=row.leave_requested)
            check(S(row.status), to, code)
            return to.value, code.value if code else None, text or None

        def webhooks(db, row: BotRow, change: BotStatusChangeRow):  # stored with the move: never one without the other
            return deliveries(bot_id, webhook_store.endpoints(db, bot_id=bot_id), "bot.status_change",
                              _status_data(row, change.old, source))

        async with self._moving[bot_id]:  # stored and announced in the order made
            try:
                row, change = await self._call(store.move_bot, bot_id=bot_id, check=checked, source=source,
                                               also=webhooks)
            except Conflict as e:
                log.warning("bot %s: refused a move to %s from %s: %s", bot_id, new.value, source, e.message)
                raise
            self._webhooks.wake()
            await self._publish(row, change.old, source)
        if S(row.status) in TERMINAL:
            self._moving.pop(bot_id, None)
            self._webhooks.forget(bot_id)
        return row

    async def _publish(self, row: BotRow, old: str | None, source: str) -> None:
        """Publish the move on the bot's session unless the session has ended (its
        ``session.ended`` is its last event: the bot's row says the rest)."""
        metrics.BOT_MOVES.labels(row.status).inc()
        try:
            session = await self._call(crud.get_session, session_id=row.session_id)
        except NotFound:
            return
        if session.status is SessionStatus.ended:
            return
        await self._bus.publish(row.session_id, BotStatusEvent(
            bot_id=row.id, old=old, new=row.status, sub_code=row.sub_code, message=row.message, source=source,
            created_at=as_utc(row.status_at),
        ))

    # --- workers, the scheduler and the reaper

    def _start(self, row: BotRow) -> None:
        runner = self._make_runner(row, self)
        self._runners[row.id] = runner
        metrics.BOTS.inc()

        def gone(_) -> None:
            self._runners.pop(row.id, None)
            metrics.BOTS.dec()

        runner.done.add_done_callback(gone)

    async def recover(self) -> None:
        """At start-up: bots a stopped server was running have ended; those it left between
        the end of their call and done are done. Browser profiles a killed worker left go."""
        for profile in (self._s.data_dir / "bots").glob("*/profile"):
            await asyncio.to_thread(shutil.rmtree, profile, True)
        for row in await self._call(store.bots_in, status=_RUNNING):
            with contextlib.suppress(Conflict):
                await self.move(row.id, S.fatal, SubCode.internal_error, "the server stopped while it ran", "reaper")
        for row in await self._call(store.bots_in, status=[S.call_ended.value]):
            with contextlib.suppress(Conflict):
                await self.move(row.id, S.done, message="its worker was gone", source="reaper")

    def start(self) -> None:
        """The scheduler and the reaper."""
        self._loop_task = asyncio.create_task(self._loop(), name="bots")

    async def _check_tenant_room(self, tenant: str) -> None:
        """RateLimited when the tenant runs as many bots as its limit."""
        most = (await self._quotas.of(tenant)).bots
        if most is not None:
            check_at_once(most, await self._call(store.count_bots, status=_RUNNING, tenant=tenant), "bots", "tenant_bots")

    async def _tenant_has_room(self, bot_id: str) -> bool:
        try:
            await self._check_tenant_room(await self._call(store.tenant_of, bot_id=bot_id))
        except RateLimited:
            return False
        return True

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._s.bot_check_interval_s)
            try:
                await self._tick()
            except Exception:
                log.exception("bots: scheduler/reaper pass failed")

    async def _tick(self) -> None:
        now = utcnow()
        running = await self._call(store.count_bots, status=_RUNNING)
        for row in await self._call(store.bots_in, status=[S.scheduled.value]):
            if as_utc(row.join_at) <= now and row.id not in self._runners and running < self._s.max_concurrent_bots:
                if not await self._tenant_has_room(row.id):
                    continue  # it joins when one of its tenant's bots leaves
                try:
                    await self.move(row.id, S.joining, message="its join time came", source="scheduler")
                except Conflict:  # cancelled meanwhile
                    continue
                running += 1
                self._start(await self.get(row.id))
        stale = now - timedelta(seconds=self._s.bot_heartbeat_timeout_s)
        for row in await self._call(store.bots_in, status=_RUNNING):
            beat = as_utc(row.heartbeat_at) or as_utc(row.status_at)
            if beat < stale:
                await self._reap(row, f"no heartbeat from its worker for {self._s.bot_heartbeat_timeout_s:g} s")

    async def _reap(self, row: BotRow, why: str) -> None:
        runner = self._runners.pop(row.id, None)
        if runner is not None:
            runner.kill(why)
        try:
            await self.move(row.id, S.fatal, SubCode.heartbeat_timeout, why, "reaper")
        except Conflict:
            pass

    async def shutdown(self, grace_s: float = 10.0) -> None:
        """Server stopping: every bot leaves its meeting as if asked (call_ended,
        bot_received_leave_call); a worker that has not gone after ``grace_s`` is ended."""
        if self._loop_task is not None:
            self._loop_task.cancel()
        runners = list(self._runners.values())
        for runner in runners:
            runner.leave()
        _, late = await asyncio.wait([r.done for r in runners], timeout=grace_s) if runners else ((), ())
        for runner in runners:
            if runner.done in late:
                runner.kill("the server stopped")
        await asyncio.gather(*(r.done for r in runners), return_exceptions=True)

    async def _call(self, fn, **kwargs):
        return await executors.run("store", self._db.call, fn, **kwargs)


def _status_data(row: BotRow, old: str | None, source: str) -> dict:
    """A move as its ``bot.status_change`` webhook says it."""
    return {
        "bot_id": row.id, "session_id": row.session_id, "metadata": row.user_metadata, "old": old,
        "status": {"code": row.status, "sub_code": row.sub_code, "message": row.message,
                   "created_at": as_utc(row.status_at).isoformat()},
        "source": source,
    }


def _title(meeting: Meeting) -> str:
    platform = {"google_meet": "Google Meet"}.get(meeting.platform, meeting.platform)
    return f"{platform} {meeting.meeting_id} — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
