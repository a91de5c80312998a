"""The request inspection a UAS performs before acting on a request (RFC 3261 §8.2.1 - §8.2.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ParseError
from .grammar import WSP
from .headers import Headers
from .message import KNOWN_METHODS, Request, Response, make_response
from .uri import SipUri, TelUri


@dataclass(frozen=True)
class UasPolicy:
    """What this user agent serves: methods, extensions and body types."""

    methods: frozenset[str] = frozenset({"OPTIONS"})
    extensions: frozenset[str] = frozenset()
    accepted_types: frozenset[str] = frozenset({"application/sdp"})
    uri_schemes: frozenset[str] = field(default_factory=lambda: frozenset({"sip", "sips", "tel"}))

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.methods | {"ACK", "CANCEL"}))


def inspect_request(request: Request, policy: UasPolicy, *, to_tag: str) -> Response | None:
    """The error response this request gets, or None when it may go on to the application.

    Order follows §8.2: method (405/501), then Request-URI scheme (416), then Require (420),
    then content (415) and acceptable answer types (406).
    """
    method = request.method
    if method not in policy.methods and method not in ("ACK", "CANCEL"):
        status = 405 if method in KNOWN_METHODS else 501
        headers = Headers([("Allow", policy.allow)])
        return make_response(request, status, to_tag=to_tag, headers=headers)
    uri = request.uri
    if uri.scheme not in policy.uri_schemes or not isinstance(uri, (SipUri, TelUri)):
        return make_response(request, 416, to_tag=to_tag)
    if method not in ("ACK", "CANCEL"):
        required = _option_tags(request.headers.get_all("Require"))
        unsupported = [tag for tag in required if tag not in policy.extensions]
        if unsupported:
            headers = Headers([("Unsupported", ", ".join(unsupported))])
            return make_response(request, 420, to_tag=to_tag, headers=headers)
    if request.body and method != "ACK":
        ctype = request.content_type
        encoding = request.headers.get("Content-Encoding")
        if (
            ctype is None
            or ctype not in policy.accepted_types
            or (encoding and encoding.strip(WSP).lower() != "identity")
        ):
            headers = Headers([("Accept", ", ".join(sorted(policy.accepted_types)))])
            return make_response(request, 415, to_tag=to_tag, headers=headers)
    if method == "INVITE":
        accepts = [a.split(";", 1)[0].strip(WSP).lower() for a in request.headers.get_all("Accept")]
        if "Accept" in request.headers and not any(
            a in policy.accepted_types or a in ("*/*", "application/*") for a in accepts
        ):
            headers = Headers([("Accept", ", ".join(sorted(policy.accepted_types)))])
            return make_response(request, 406, to_tag=to_tag, headers=headers)
    return None


def _option_tags(values: list[str]) -> list[str]:
    tags: list[str] = []
    for value in values:
        tag = value.strip(WSP)
        if not tag:
            raise ParseError("empty option tag")
        tags.append(tag)
    return tags
