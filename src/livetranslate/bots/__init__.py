"""Meeting bots: a headless browser per bot joins a meeting, hears it and feeds a session.

:mod:`.lifecycle` (states, legal moves, sub-codes), :mod:`.platforms` (which meeting a link
is), :mod:`.service` (the REST facade and every move), :mod:`.runner` (one worker process,
seen from the server), :mod:`.worker` (the process itself), :mod:`.gmeet` (the Google Meet
adapter: its selectors, its page script).
"""

from livetranslate.bots.runner import BotRunner
from livetranslate.bots.service import Bots

__all__ = ["BotRunner", "Bots"]
