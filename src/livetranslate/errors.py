"""One exception tree for the whole package.

    LiveTranslateError                 (500, close 1011)
    ├── InvalidInput                   (400, close 4400)  malformed message, wrong field
    │   ├── UnsupportedLanguage        (422)
    │   ├── UnsupportedUrl             (422)  a stream URL of a scheme the server does not read
    │   └── HostNotAllowed             (400)  a Host this server does not answer to (DNS rebinding)
    ├── Unauthorized                   (401, close 4401)  no API key, or one that is unknown, expired or revoked
    ├── Forbidden                      (403, close 4403)  not for this caller (its role, its page's origin)
    │   └── OriginNotAllowed           (403)  a browser page of another site
    ├── NotFound                       (404, close 4404)  unknown session
    ├── Conflict                       (409, close 4409)  second audio socket, ended session
    ├── TooLarge                       (413, close 4413)  oversized frame or upload
    ├── UnsupportedMedia               (415, close 4415)  unknown format, undecodable bytes
    ├── Overloaded                     (503, close 4429)  more than this process takes: live sessions, sockets
    ├── TooMany                        (429, close 4429)  over a limit of what one may run at once (bots)
    │   └── RateLimited                (429, close 4429)  over a key's or tenant's limit; ``Retry-After``
    ├── SlowReader                     (close 4408)       a socket's reader fell behind: resume with after_seq
    ├── Idle                           (close 4408)       an audio socket sent nothing for audio_idle_timeout_s
    ├── NotReady                       (503)              model or store unavailable
    └── TranslationFailed              (502)              engine down, slow, or a bad reply

Third-party errors are converted at the boundary (``raise ... from e``). The HTTP layer
turns each into ``{"error": {"code", "message", "type"}}`` (the OpenAI error shape) and the
WebSocket layer into an ``error`` event followed by a close with ``close_code``.
"""

from __future__ import annotations


class LiveTranslateError(Exception):
    status_code: int = 500
    close_code: int = 1011
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(LiveTranslateError):
    status_code = 400
    close_code = 4400
    code = "invalid_input"


class UnsupportedLanguage(InvalidInput):
    status_code = 422
    code = "unsupported_language"


class UnsupportedUrl(InvalidInput):
    status_code = 422
    code = "unsupported_url"


class HostNotAllowed(InvalidInput):
    code = "host_not_allowed"


class Unauthorized(LiveTranslateError):
    status_code = 401
    close_code = 4401
    code = "unauthorized"


class Forbidden(LiveTranslateError):
    status_code = 403
    close_code = 4403
    code = "forbidden"


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"


class NotFound(LiveTranslateError):
    status_code = 404
    close_code = 4404
    code = "not_found"


class Conflict(LiveTranslateError):
    status_code = 409
    close_code = 4409
    code = "conflict"


class TooLarge(LiveTranslateError):
    status_code = 413
    close_code = 4413
    code = "too_large"


class UnsupportedMedia(LiveTranslateError):
    status_code = 415
    close_code = 4415
    code = "unsupported_media"


class Overloaded(LiveTranslateError):
    status_code = 503
    close_code = 4429
    code = "overloaded"


class TooMany(LiveTranslateError):
    status_code = 429
    close_code = 4429
    code = "too_many"


class RateLimited(TooMany):
    """Over one of a key's or a tenant's limits (:mod:`livetranslate.quotas`); ``retry_after``:
    seconds until it may be tried again."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1.0, retry_after)


class SlowReader(LiveTranslateError):
    """A socket's client does not read its events fast enough (``last_seq``: the last one sent)."""

    status_code = 503
    close_code = 4408
    code = "slow_reader"

    def __init__(self, message: str, last_seq: int) -> None:
        super().__init__(message)
        self.last_seq = last_seq


class Idle(LiveTranslateError):
    status_code = 408
    close_code = 4408
    code = "idle"


class NotReady(LiveTranslateError):
    status_code = 503
    code = "not_ready"


class TranslationFailed(LiveTranslateError):
    """A translation engine could not produce a valid translation (down, slow, or a bad reply)."""

    status_code = 502
    code = "translation_failed"


def error_body(code: str, message: str, **extra) -> dict:
    """The one error shape (OpenAI's): ``{"error": {"code", "message", "type", ...}}``."""
    return {"error": {"code": code, "message": message, "type": "invalid_request_error", **extra}}
