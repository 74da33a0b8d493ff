"""The Google Meet adapter: :mod:`.adapter` (the visit), :mod:`.selectors` (every selector and
text it relies on), ``capture.js`` (the page script that hears the call and reads its tiles)."""
