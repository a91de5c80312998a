"""SIP requests and responses: parsing, serialising and the checks RFC 3261 §7 and RFC 4475 ask for."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .address import Address, parse_address, parse_address_list
from .errors import ParseError
from .grammar import WSP, is_token
from .headers import (
    SINGLE_HEADERS,
    CSeq,
    Headers,
    Via,
    parse_cseq,
    parse_uint,
    parse_via,
)
from .uri import Uri, parse_uri

SIP_VERSION = "SIP/2.0"
_VERSION_RE = re.compile(r"^SIP/\d+\.\d+$", re.IGNORECASE)
_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")

# Limits against memory exhaustion by hostile peers; documented in docs/ARCHITECTURE.md.
MAX_MESSAGE_SIZE = 65_535
MAX_HEADERS = 256


@dataclass
class _MessageBase:
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    # -- typed accessors; each raises ParseError when the header is missing or malformed --
    @property
    def call_id(self) -> str:
        value = self.headers.get("Call-ID")
        if value is None or not value.strip(WSP):
            raise ParseError("missing Call-ID header")
        return value.strip(WSP)

    @property
    def cseq(self) -> CSeq:
        value = self.headers.get("CSeq")
        if value is None:
            raise ParseError("missing CSeq header")
        return parse_cseq(value)

    @property
    def from_(self) -> Address:
        value = self.headers.get("From")
        if value is None:
            raise ParseError("missing From header")
        return parse_address(value)

    @property
    def to(self) -> Address:
        value = self.headers.get("To")
        if value is None:
            raise ParseError("missing To header")
        return parse_address(value)

    @property
    def vias(self) -> list[Via]:
        return [parse_via(v) for v in self.headers.get_all("Via")]

    @property
    def top_via(self) -> Via:
        values = self.headers.get_all("Via")
        if not values:
            raise ParseError("missing Via header")
        return parse_via(values[0])

    @property
    def contacts(self) -> list[Address]:
        out: list[Address] = []
        for line in self.headers.lines("Contact"):
            if line.strip(WSP) == "*":
                continue
            out.extend(parse_address_list(line))
        return out

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        if value is None:
            return None
        return value.split(";", 1)[0].strip(WSP).lower()

    @property
    def expires(self) -> int | None:
        value = self.headers.get("Expires")
        return parse_uint(value, what="Expires") if value is not None else None

    def header_lines(self) -> list[str]:
        lines = [f"{name}: {value}" for name, value in self.headers if name != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return lines


@dataclass
class Request(_MessageBase):
    method: str = "OPTIONS"
    uri: Uri = field(default_factory=lambda: parse_uri("sip:invalid"))
    version: str = SIP_VERSION

    def __init__(
        self,
        method: str,
        uri: Uri | str,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        self.method = method
        self.uri = parse_uri(uri) if isinstance(uri, str) else uri
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.version = version

    def serialize(self) -> bytes:
        head = "\r\n".join([f"{self.method} {self.uri} {self.version}", *self.header_lines()])
        return head.encode("utf-8", "surrogateescape") + b"\r\n\r\n" + self.body

    def __bytes__(self) -> bytes:
        return self.serialize()


@dataclass
class Response(_MessageBase):
    status: int = 200
    reason: str = "OK"
    version: str = SIP_VERSION

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        self.status = status
        self.reason = REASONS.get(status, "") if reason is None else reason
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.version = version

    def serialize(self) -> bytes:
        head = "\r\n".join([f"{self.version} {self.status} {self.reason}", *self.header_lines()])
        return head.encode("utf-8", "surrogateescape") + b"\r\n\r\n" + self.body

    def __bytes__(self) -> bytes:
        return self.serialize()


Message = Request | Response


class MessageParseError(ParseError):
    """A message that could not be parsed. ``request`` holds what was read of a request, so
    that a 400 can still be sent when its Via, From, To, Call-ID and CSeq are readable."""

    def __init__(self, reason: str, status: int = 400, request: Request | None = None) -> None:
        super().__init__(reason, status)
        self.request = request


def _split_head(data: bytes, *, stream: bool) -> tuple[bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = data.find(sep)
        if idx >= 0:
            return data[:idx], data[idx + len(sep) :]
    if stream:
        raise ParseError("message has no end of headers")
    # A datagram is whole: without the blank line, all of it is the header section, so a
    # 400 can still be sent to a sender that forgot it (RFC 4475 §3.1.2.15).
    return data.rstrip(b"\r\n"), b""


def _unfold(head: str) -> list[str]:
    """Header lines with continuation lines joined (RFC 3261 §7.3.1)."""
    lines: list[str] = []
    for raw in re.split(r"\r?\n", head):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] = lines[-1].rstrip(WSP) + " " + raw.strip(WSP)
        else:
            lines.append(raw)
    return lines


def _content_length(headers: Headers) -> int | None:
    values = headers.lines("Content-Length")
    if not values:
        return None
    numbers = set()
    for value in values:
        text = value.strip(WSP)
        if not (text.isascii() and text.isdigit()):
            raise ParseError(f"bad Content-Length {text[:20]!r}")
        numbers.add(int(text))
    if len(numbers) > 1 or len(values) > 1:
        raise ParseError("multiple Content-Length values")
    return numbers.pop()


def parse_message(data: bytes, *, stream: bool = False) -> Message:
    """Parse one whole message (one UDP datagram, or one frame from a StreamFramer).

    Without Content-Length a datagram's body is the rest of the datagram (RFC 3261 §18.3);
    octets beyond Content-Length are ignored. Raises MessageParseError.
    """
    if len(data) > MAX_MESSAGE_SIZE:
        raise MessageParseError("message too large", 513)
    data = data.lstrip(b"\r\n")
    try:
        head_bytes, body = _split_head(data, stream=stream)
    except ParseError as exc:
        raise MessageParseError(exc.reason) from None
    head = head_bytes.decode("utf-8", "surrogateescape")
    lines = _unfold(head)
    start, header_lines = lines[0], lines[1:]
    if len(header_lines) > MAX_HEADERS:
        raise MessageParseError("too many header fields", 513)
    headers = Headers()
    for line in header_lines:
        name, colon, value = line.partition(":")
        name = name.rstrip(WSP)
        if not colon or not _HEADER_NAME_RE.match(name):
            raise MessageParseError(f"malformed header line {line[:30]!r}")
        headers.add(name, value.strip(WSP))

    message: Message
    request: Request | None = None
    if start.startswith("SIP/") or start[:4].upper() == "SIP/":
        message = _parse_status_line(start, headers)
    else:
        request = _parse_request_line(start, headers)
        message = request

    try:
        length = _content_length(headers)
    except ParseError as exc:
        raise MessageParseError(exc.reason, request=request) from None
    if length is None:
        length = 0 if stream else len(body)
    if length > len(body):
        raise MessageParseError("Content-Length larger than message", request=request)
    message.body = body[:length]
    return message


def _parse_status_line(start: str, headers: Headers) -> Response:
    parts = start.split(" ", 2)
    if len(parts) < 2:
        raise MessageParseError("malformed status line")
    version, code = parts[0], parts[1]
    reason = parts[2] if len(parts) == 3 else ""
    if not _VERSION_RE.match(version):
        raise MessageParseError("malformed SIP version in status line")
    if len(code) != 3 or not (code.isascii() and code.isdigit()) or not 100 <= int(code) <= 699:
        raise MessageParseError(f"bad status code {code[:10]!r}")
    return Response(int(code), reason, headers, version=version.upper())


def _parse_request_line(start: str, headers: Headers) -> Request:
    parts = start.split(" ")
    if len(parts) != 3:
        # Keep enough of the request to answer 400 (RFC 4475 §3.1.2.8 - §3.1.2.10).
        partial = Request("INVALID", "sip:invalid", headers)
        raise MessageParseError("malformed Request-Line", request=partial)
    method, uri_text, version = parts
    if not is_token(method):
        raise MessageParseError(f"bad method {method[:20]!r}")
    partial = Request(method, "sip:invalid", headers)
    if not _VERSION_RE.match(version):
        raise MessageParseError("malformed SIP version", request=partial)
    if version.upper() != SIP_VERSION:
        raise MessageParseError("Version Not Supported", 505, request=partial)
    try:
        uri = parse_uri(uri_text)
    except ParseError as exc:
        raise MessageParseError(f"bad Request-URI: {exc.reason}", request=partial) from None
    return Request(method, uri, headers, version=SIP_VERSION)


def validate_request(request: Request) -> None:
    """The checks every request must pass before a transaction sees it (RFC 3261 §8.2, §16.3).

    Raises ParseError with the status and reason for the 400 that should be sent.
    """
    headers = request.headers
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        if name not in headers:
            raise ParseError(f"Missing {name} header")
    seen: set[str] = set()
    for name, _ in headers:
        key = name.lower()
        if key in SINGLE_HEADERS:
            if key in seen:
                raise ParseError(f"Multiple {name} headers")
            seen.add(key)
    vias = request.vias
    if not vias:
        raise ParseError("Missing Via header")
    request.from_
    request.to
    request.call_id
    cseq = request.cseq
    if cseq.method != request.method:
        if not _is_known_method(request.method):
            raise ParseError("Not Implemented", status=501)
        raise ParseError("CSeq method does not match Request-Line")
    if cseq.number > 2**31 - 1:
        raise ParseError("CSeq number too large")
    mf = headers.get("Max-Forwards")
    if mf is not None:
        parse_uint(mf, what="Max-Forwards", limit=255)
    for line in headers.lines("Contact"):
        if line.strip(WSP) != "*":
            parse_address_list(line)
    for name in ("Route", "Record-Route"):
        for line in headers.lines(name):
            parse_address_list(line)


def validate_response(response: Response) -> None:
    """Responses that fail these checks are dropped silently (RFC 4475 §3.1.2.5, §3.1.2.19)."""
    headers = response.headers
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        if name not in headers:
            raise ParseError(f"Missing {name} header")
    response.top_via
    response.call_id
    response.from_
    response.to
    cseq = response.cseq
    if cseq.number > 2**31 - 1:
        raise ParseError("CSeq number too large")
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        parse_uint(retry_after.split("(")[0].split(";")[0], what="Retry-After")
    for warning in headers.get_all("Warning"):
        code = warning.strip(WSP).split(" ", 1)[0]
        if len(code) != 3 or not (code.isascii() and code.isdigit()):
            raise ParseError("bad Warning code")


KNOWN_METHODS = frozenset(
    [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "REGISTER",
        "INFO",
        "PRACK",
        "SUBSCRIBE",
        "NOTIFY",
        "UPDATE",
        "MESSAGE",
        "REFER",
        "PUBLISH",
    ]
)


DIALOG_METHODS = frozenset({"INVITE", "SUBSCRIBE", "REFER"})


def _is_known_method(method: str) -> bool:
    return method in KNOWN_METHODS


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Headers | None = None,
    body: bytes = b"",
) -> Response:
    """A response to ``request`` with Via, From, To, Call-ID and CSeq copied (RFC 3261 §8.2.6)."""
    out = Headers()
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for line in request.headers.lines(name):
            out.add(name, line)
    if status in range(101, 700) and to_tag is not None:
        to_line = request.headers.get("To")
        if to_line is not None:
            try:
                has_tag = parse_address(to_line).tag is not None
            except ParseError:
                has_tag = True
            if not has_tag:
                out.set("To", f"{to_line};tag={to_tag}")
    if request.method in DIALOG_METHODS and 100 < status < 300:
        # RFC 3261 §12.1.1: the route set of the dialog comes from these.
        for line in request.headers.lines("Record-Route"):
            out.add("Record-Route", line)
    if request.headers.get("Timestamp") and status == 100:
        out.add("Timestamp", request.headers.get("Timestamp", "") or "")
    if headers is not None:
        for name, value in headers:
            out.add(name, value)
    return Response(status, reason, out, body)


REASONS = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}
