"""Every selector and text the Google Meet adapter relies on, and nothing else.

Each list is tried in order: structural selectors (attributes Meet has kept for years) before
English text, the broadest backstop last. Lists used inside the page (``in_page``) are plain
CSS, since Playwright's ``:has-text`` does not exist there; the others are Playwright
selectors. The page is opened with ``hl=en`` and an English locale so the texts hold.
tests/bots/test_selectors.py parses every entry, and the stand-in Meet (tests/fakemeet)
reproduces the first entry of each list and one fallback.
"""

from __future__ import annotations

# --- pre-join page

NAME_INPUT = [
    'input[type="text"][jsname][aria-label="Your name"]',  # the anonymous pre-join field (2024-2026)
    'input[type="text"][aria-label="Your name"]',  # same, without the jsname Meet sometimes drops
    'input[placeholder="Your name"]',  # older layout
]
MIC_OFF = [
    '[role="button"][aria-label*="Turn off microphone"]',  # a div in the pre-join page, a button in the call
    'button[aria-label*="Turn off microphone"]',
]
CAMERA_OFF = [
    '[role="button"][aria-label*="Turn off camera"]',
    'button[aria-label*="Turn off camera"]',
]
JOIN_BUTTONS = [
    'button:has(span:text-is("Ask to join"))',  # a meeting with a waiting room
    'button:has(span:text-is("Join now"))',  # an open meeting, or a host's own
    'button:has(span:text-is("Join anyway"))',  # after a warning (another device in the call)
    'button:has(span:text-is("Ask to join anyway"))',
    'button:has(span:text-is("Join here too"))',
    'button:has-text("Continue without microphone and camera")',  # a permissions prompt in front of the buttons
    'button[jsname]:not([aria-label]):has(span)',  # backstop: the only labelled-by-text button with a jsname
]
CONTINUE_WITHOUT_MEDIA = ['button:has-text("Continue without microphone and camera")']

# --- texts that say where the bot is (matched in the page's visible text, any case)

WAITING_ROOM = [
    "Asking to be let in",
    "You\u2019ll join the call when someone lets you in",  # a typographic apostrophe
    "You'll join the call when someone lets you in",
    "Waiting for the host to join",
]
DENIED = [
    "Someone in the call denied your request to join",
    "weren\u2019t allowed",  # newer builds: "You weren’t allowed to join this call"
]
KNOCK_TIMED_OUT = ["No one responded to your request to join the call"]
NOT_FOUND = ["Check your meeting code", "Invalid video call name", "Your meeting code has expired"]
SIGN_IN = ["Sign in to join this call", "You must sign in"]
SIGN_IN_PAGE = ['h1:text-is("Sign in")']  # Google's account page: the meeting takes signed-in users only
BLOCKED = [
    "You can't join this video call",
    "There is a problem connecting to this video call",
]
REMOVED = ["You've been removed from the meeting", "You\u2019ve been removed from the meeting"]
ENDED_BY_HOST = ["Your host ended the meeting for everyone", "The meeting has ended", "Meeting ended"]
LEFT = ["You left the meeting"]
RECONNECTING = ["Reconnecting", "Connection lost"]

# --- in the call

IN_CALL = [
    '[role="toolbar"]',  # the call's toolbar (hidden after a few seconds without a mouse move)
    'button[jsname="CQylAd"]',  # Leave call
    'button[aria-label="Leave call"]',
]
LEAVE = [
    'button[jsname="CQylAd"][aria-label="Leave call"]',
    'button[aria-label="Leave call"]',
    '[role="button"][aria-label="Leave call"]',
]
LEAVE_CONFIRM = ['button:has-text("Just leave the meeting")', 'button:has-text("Leave meeting")']
PEOPLE_BUTTON = ['button[aria-label^="People"]']  # "People - 3 joined"
DIALOG = ['div[aria-modal="true"][role="dialog"]', '[role="alertdialog"]']
DIALOG_OK = ['button[data-mdc-dialog-action="ok"]', 'button:has-text("Got it")', 'button:has-text("Join now")']
RECORDING_NOTICE = ["This video call is being recorded", "being transcribed", "is being recorded"]
CONSENT = ["take notes for me", "Gemini"]  # a consent a person must give: needs_help, never clicked
CAPTCHA = ['iframe[src*="recaptcha"]', 'iframe[title*="reCAPTCHA"]']

# in_page: plain CSS, run inside the page by the capture script
TILE = '[data-participant-id]'  # one per visible participant: "spaces/<space>/devices/<n>"
TILE_NAME = ['span.notranslate', '[data-self-name]']
SELF_TILE = '[data-self-name]'
SPEAKING_CLASSES = ["Oaajhc", "HX2H7", "wEsLMd", "OgVli"]  # obfuscated: the speaking ring on a tile or below it
SILENT_CLASS = "gjg47c"
NOT_A_PERSON = [r"^Google Participant \(", r"spaces/", r"devices/", r"^Backgrounds and effects$"]
"""Tile labels that are no one (regular expressions): phantom tiles and raw ids."""

ALL_PLAYWRIGHT = {
    "NAME_INPUT": NAME_INPUT, "MIC_OFF": MIC_OFF, "CAMERA_OFF": CAMERA_OFF, "JOIN_BUTTONS": JOIN_BUTTONS,
    "CONTINUE_WITHOUT_MEDIA": CONTINUE_WITHOUT_MEDIA, "IN_CALL": IN_CALL, "LEAVE": LEAVE,
    "LEAVE_CONFIRM": LEAVE_CONFIRM, "PEOPLE_BUTTON": PEOPLE_BUTTON, "DIALOG": DIALOG, "DIALOG_OK": DIALOG_OK,
    "CAPTCHA": CAPTCHA, "SIGN_IN_PAGE": SIGN_IN_PAGE,
}
ALL_CSS = {"TILE": [TILE], "TILE_NAME": TILE_NAME, "SELF_TILE": [SELF_TILE]}
ALL_TEXT = {
    "WAITING_ROOM": WAITING_ROOM, "DENIED": DENIED, "KNOCK_TIMED_OUT": KNOCK_TIMED_OUT, "NOT_FOUND": NOT_FOUND,
    "SIGN_IN": SIGN_IN, "BLOCKED": BLOCKED, "REMOVED": REMOVED, "ENDED_BY_HOST": ENDED_BY_HOST, "LEFT": LEFT,
    "RECONNECTING": RECONNECTING, "RECORDING_NOTICE": RECORDING_NOTICE, "CONSENT": CONSENT,
}
