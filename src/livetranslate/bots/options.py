"""What a user asks of a bot beyond the meeting link: when it leaves by itself."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from livetranslate.events import OneLine


class AutomaticLeave(BaseModel):
    """When the bot leaves without being asked (seconds). Defaults as Recall and attendee
    users expect: a knock Meet itself drops at ~10 min, a host who never comes, a meeting
    everyone else left, a long silence once the meeting has run a while, and a cap."""

    model_config = ConfigDict(extra="forbid")

    waiting_room_timeout: float = Field(900, gt=0, le=86400, description="Left knocking this long: call_ended, timeout_exceeded_waiting_room.")
    noone_joined_timeout: float = Field(600, gt=0, le=86400, description="In the call with no one else this long from the start: timeout_exceeded_noone_joined.")
    everyone_left_timeout: float = Field(60, gt=0, le=86400, description="Alone this long after others were there: timeout_exceeded_everyone_left.")
    silence_timeout: float = Field(600, gt=0, le=86400, description="No speech heard this long (once armed): timeout_exceeded_silence.")
    silence_activate_after: float = Field(1200, ge=0, le=86400, description="The silence timer is armed this long after the bot starts recording.")
    max_duration: float = Field(14400, gt=0, le=172800, description="The most a bot stays in a call: timeout_exceeded_max_duration.")
    bot_keywords: list[OneLine] = Field(
        default_factory=list, max_length=50,
        description="Participants whose name contains one of these (any case) are bots: they do not count as people "
        "for everyone_left and noone_joined.",
    )

    def is_bot(self, name: str | None) -> bool:
        low = (name or "").lower()
        return any(k.lower() in low for k in self.bot_keywords if k)
