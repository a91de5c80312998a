"""Errors raised by the sans-IO SIP core."""

from __future__ import annotations


class SipError(Exception):
    """Base class for every error of the SIP core."""


class ParseError(SipError):
    """A message, URI or header value that does not follow RFC 3261's grammar.

    ``status`` is the response a server should send for a request that fails this
    way (400 in most cases, 505 for an unknown SIP version); ``reason`` is the text
    that goes into the reason phrase, so that the sender learns what was wrong.
    """

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
