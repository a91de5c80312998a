"""What to do with bytes that arrive: a message to process, a 400 to send back, or nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .errors import ParseError
from .message import (
    Message,
    MessageParseError,
    Request,
    Response,
    make_response,
    parse_message,
    validate_request,
    validate_response,
)


@dataclass(frozen=True)
class Reject:
    """A malformed request that can still be answered; send ``response`` to its source."""

    response: Response
    reason: str


@dataclass(frozen=True)
class Drop:
    """Bytes to ignore (a malformed response, or a request too broken to answer)."""

    reason: str


def classify(data: bytes, *, stream: bool = False) -> Message | Reject | Drop:
    """Parse and validate one datagram or stream frame (RFC 3261 §16.3, §18.3; RFC 4475).

    Never raises for any input: everything the network can send ends as one of the three.
    """
    try:
        message = parse_message(data, stream=stream)
    except MessageParseError as exc:
        if exc.request is not None:
            return _reject(exc.request, exc.status, exc.reason)
        return Drop(exc.reason)
    except (ParseError, ValueError, UnicodeError) as exc:  # defensive: nothing escapes
        return Drop(str(exc))
    try:
        if isinstance(message, Request):
            validate_request(message)
        else:
            validate_response(message)
    except ParseError as exc:
        if isinstance(message, Request):
            return _reject(message, exc.status, exc.reason)
        return Drop(exc.reason)
    except (ValueError, UnicodeError) as exc:
        return Drop(str(exc))
    return message


def _reject(request: Request, status: int, reason: str) -> Reject | Drop:
    if request.method == "ACK":
        return Drop(f"malformed ACK: {reason}")  # ACKs are never answered
    if "Via" not in request.headers:
        return Drop(f"cannot answer, no Via: {reason}")
    phrase = reason[:1].upper() + reason[1:]
    try:
        response = make_response(request, status, phrase, to_tag=secrets.token_hex(6))
    except (ParseError, ValueError):
        return Drop(reason)
    return Reject(response, reason)
