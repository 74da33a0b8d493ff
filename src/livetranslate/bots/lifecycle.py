"""A bot's lifecycle: its states, the legal moves between them, and why it ended.

    scheduled ─▶ joining ─▶ in_waiting_room ─▶ in_call_not_recording ─▶ in_call_recording ⇄ paused
                    │   (an open meeting: joining ─▶ in_call_not_recording)        │
                    └──────────── needs_help (a dialog or CAPTCHA a person must handle)
    any state in a meeting ─▶ leaving ─▶ call_ended(sub_code) ─▶ done
    any state before done ─▶ fatal(sub_code)                   scheduled ─▶ done (cancelled)

The server keeps the state and refuses a move the table does not allow (:func:`check`).
``call_ended`` and ``fatal`` say why with a sub-code; a user's leave wins any race
(:func:`ending`): whatever the bot reports after it, the bot ended because it was asked to.
"""

from __future__ import annotations

import enum

from livetranslate.errors import Conflict, InvalidInput


class BotState(str, enum.Enum):
    scheduled = "scheduled"
    """Waiting for its ``join_at``."""
    joining = "joining"
    """Its browser is opening the meeting page, entering the name, pressing join."""
    in_waiting_room = "in_waiting_room"
    """It asked to join; no one has let it in yet."""
    needs_help = "needs_help"
    """A consent dialog or CAPTCHA only a person may answer (bounded wait)."""
    in_call_not_recording = "in_call_not_recording"
    """In the call; its audio capture is not up yet."""
    in_call_recording = "in_call_recording"
    """Hearing the call: captions are being made."""
    paused = "paused"
    """In the call, capture paused (silence or a user's pause)."""
    leaving = "leaving"
    call_ended = "call_ended"
    done = "done"
    fatal = "fatal"


class SubCode(str, enum.Enum):
    # call_ended: the bot was in (or knocking on) the meeting and left it
    bot_received_leave_call = "bot_received_leave_call"
    call_ended_by_host = "call_ended_by_host"
    bot_kicked_from_call = "bot_kicked_from_call"
    bot_kicked_from_waiting_room = "bot_kicked_from_waiting_room"
    timeout_exceeded_waiting_room = "timeout_exceeded_waiting_room"
    timeout_exceeded_noone_joined = "timeout_exceeded_noone_joined"
    timeout_exceeded_everyone_left = "timeout_exceeded_everyone_left"
    timeout_exceeded_silence = "timeout_exceeded_silence"
    timeout_exceeded_max_duration = "timeout_exceeded_max_duration"
    timeout_exceeded_needs_help = "timeout_exceeded_needs_help"
    # needs_help
    consent_required = "consent_required"
    captcha_required = "captcha_required"
    # fatal: the bot could not go on
    meeting_not_found = "meeting_not_found"
    meeting_requires_sign_in = "meeting_requires_sign_in"
    blocked_by_platform = "blocked_by_platform"
    meeting_unreachable = "meeting_unreachable"
    ui_element_not_found = "ui_element_not_found"
    no_audio = "no_audio"
    browser_crashed = "browser_crashed"
    heartbeat_timeout = "heartbeat_timeout"
    internal_error = "internal_error"


Source = str
"""Who made a change: ``bot`` (its worker), ``user`` (an API call), ``scheduler``, ``reaper``."""
SOURCES = ("bot", "user", "scheduler", "reaper")

S, C = BotState, SubCode
_IN_MEETING = {S.in_call_not_recording, S.in_call_recording, S.paused}
LEGAL: dict[BotState, set[BotState]] = {
    S.scheduled: {S.joining, S.done, S.fatal},
    S.joining: {S.joining, S.in_waiting_room, S.in_call_not_recording, S.needs_help, S.leaving, S.call_ended, S.fatal},
    S.in_waiting_room: {S.in_call_not_recording, S.needs_help, S.leaving, S.call_ended, S.fatal},
    S.needs_help: {S.joining, S.in_waiting_room, S.in_call_not_recording, S.in_call_recording, S.leaving,
                   S.call_ended, S.fatal},
    **{s: (_IN_MEETING - {s}) | {S.needs_help, S.leaving, S.call_ended, S.fatal} for s in _IN_MEETING},
    S.leaving: {S.call_ended, S.fatal},
    S.call_ended: {S.done},
    S.done: set(),
    S.fatal: set(),
}
"""The one table of legal moves. ``joining → joining`` is a transient failure being retried;
in a call, recording and paused alternate, and either goes back to not recording when the
capture is lost (the page rebuilt its audio)."""

SUB_CODES: dict[BotState, set[SubCode]] = {
    S.call_ended: {
        C.bot_received_leave_call, C.call_ended_by_host, C.bot_kicked_from_call, C.bot_kicked_from_waiting_room,
        C.timeout_exceeded_waiting_room, C.timeout_exceeded_noone_joined, C.timeout_exceeded_everyone_left,
        C.timeout_exceeded_silence, C.timeout_exceeded_max_duration, C.timeout_exceeded_needs_help,
    },
    S.needs_help: {C.consent_required, C.captcha_required},
    S.joining: {C.ui_element_not_found, C.no_audio, C.blocked_by_platform, C.meeting_unreachable, C.browser_crashed},
    S.fatal: {
        C.meeting_not_found, C.meeting_requires_sign_in, C.blocked_by_platform, C.meeting_unreachable,
        C.ui_element_not_found, C.no_audio, C.browser_crashed, C.heartbeat_timeout, C.internal_error,
    },
}
"""The sub-codes each state may carry (``joining`` with one: a retry after that failure); the
other states carry none."""

TERMINAL = frozenset({S.done, S.fatal})
ACTIVE = frozenset(set(BotState) - TERMINAL - {S.call_ended})
"""A bot that holds (or is about to hold) a browser and a meeting."""
RETRYABLE = frozenset({C.ui_element_not_found, C.no_audio, C.blocked_by_platform, C.meeting_unreachable, C.browser_crashed})
"""Failures worth another try with backoff; denial, not-found and sign-in never are."""


def check(old: BotState, new: BotState, sub_code: SubCode | None) -> None:
    """Refuse a move the table does not allow, or a sub-code the new state cannot carry."""
    if new not in LEGAL[old]:
        raise Conflict(f"a bot cannot go from {old.value} to {new.value}")
    allowed = SUB_CODES.get(new, set())
    if sub_code is not None and sub_code not in allowed:
        raise InvalidInput(f"{new.value} cannot carry the sub-code {sub_code.value}")
    if sub_code is None and new in (S.call_ended, S.fatal, S.needs_help):
        raise InvalidInput(f"{new.value} needs a sub-code: one of {', '.join(sorted(c.value for c in allowed))}")


def ending(new: BotState, sub_code: SubCode | None, message: str, *, leave_requested: bool
           ) -> tuple[BotState, SubCode | None, str]:
    """What a reported end becomes once a user asked the bot to leave: it left because it was
    asked (the bot's own reason kept in the message)."""
    if not leave_requested or new not in (S.call_ended, S.fatal) or sub_code is C.bot_received_leave_call:
        return new, sub_code, message
    why = f"{sub_code.value}: {message}" if sub_code else message
    return S.call_ended, C.bot_received_leave_call, f"left as asked (the bot reported {why})".strip()
