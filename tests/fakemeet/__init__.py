"""A stand-in Google Meet on 127.0.0.1: what the bot's adapter relies on, reproduced.

    with FakeMeet() as meet:                        # its own uvicorn, in a thread
        meet.open("abc-defg-hij", scenario)         # a meeting, played as the scenario says
        ...                                         # LIVETRANSLATE_MEET_BASE_URL=meet.base
        meet.ctl("abc-defg-hij", "admit")           # the host lets the bot in
        meet.state("abc-defg-hij")                  # what the meeting saw of the bot

The page (``static/meet.js``) has Meet's pre-join page, lobby, call and exit screens with the
selectors and texts of ``livetranslate/bots/gmeet/selectors.py``; in the call each fake
participant's speech is sent over real WebRTC (an in-page loopback SFU) on three rotating
channels that reach the page as ``<audio>`` elements under ``body``, as Meet does, and their
tiles' speaking rings follow their speech with a lag. See :mod:`.app` for scenarios.
"""

from tests.fakemeet.app import FakeMeet, Participant, Scenario

__all__ = ["FakeMeet", "Participant", "Scenario"]
