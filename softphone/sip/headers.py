"""Header fields: names, compact forms, multi-values, and the structured values of Via and CSeq."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .errors import ParseError
from .grammar import WSP, format_params, parse_params, split_top_level, unquote
from .uri import format_host, split_hostport

# RFC 3261 §7.3.3 and later RFCs' compact forms.
COMPACT_FORMS = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
    "x": "Session-Expires",
    "a": "Accept-Contact",
    "j": "Reject-Contact",
    "d": "Request-Disposition",
    "y": "Identity",
}

_CANONICAL = {
    name.lower(): name
    for name in [
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Alert-Info",
        "Allow",
        "Allow-Events",
        "Authentication-Info",
        "Authorization",
        "Call-ID",
        "Call-Info",
        "Contact",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
        "Content-Length",
        "Content-Type",
        "CSeq",
        "Date",
        "Error-Info",
        "Event",
        "Expires",
        "From",
        "In-Reply-To",
        "Max-Forwards",
        "Min-Expires",
        "MIME-Version",
        "Organization",
        "Path",
        "Priority",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Require",
        "Reason",
        "Record-Route",
        "Refer-To",
        "Referred-By",
        "Replaces",
        "Reply-To",
        "Require",
        "Retry-After",
        "Route",
        "RSeq",
        "RAck",
        "Server",
        "Service-Route",
        "Session-Expires",
        "Min-SE",
        "Subject",
        "Subscription-State",
        "Supported",
        "Timestamp",
        "To",
        "Unsupported",
        "User-Agent",
        "Via",
        "Warning",
        "WWW-Authenticate",
        "P-Asserted-Identity",
        "P-Preferred-Identity",
        "Privacy",
        "Flow-Timer",
        "SIP-ETag",
        "SIP-If-Match",
        "Identity",
    ]
}

# Headers whose values are comma-separated lists (RFC 3261 §7.3.1). Values of all other
# headers are kept whole: WWW-Authenticate, Authorization and Date carry commas that do
# not separate values, and unknown headers are kept as they came.
LIST_HEADERS = frozenset(
    name.lower()
    for name in [
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Alert-Info",
        "Allow",
        "Allow-Events",
        "Call-Info",
        "Contact",
        "Content-Encoding",
        "Content-Language",
        "Error-Info",
        "In-Reply-To",
        "Path",
        "Proxy-Require",
        "Reason",
        "Record-Route",
        "Require",
        "Route",
        "Service-Route",
        "Supported",
        "Unsupported",
        "Via",
        "Warning",
        "P-Asserted-Identity",
    ]
)

# Headers that may appear once only; a request with two is malformed (RFC 4475 §3.3.8).
SINGLE_HEADERS = frozenset(
    name.lower() for name in ("Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length")
)


def canonical_name(name: str) -> str:
    """The canonical spelling of a header name; compact forms are expanded."""
    lowered = name.lower()
    if lowered in COMPACT_FORMS:
        return COMPACT_FORMS[lowered]
    return _CANONICAL.get(lowered, name)


class Headers:
    """An ordered list of header fields with case-insensitive access.

    Each entry is one header line as received (name canonicalised, value kept as it
    came), so that re-serialising a parsed message changes nothing but the names.
    """

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(n), v) for n, v in items]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = canonical_name(name).lower()
        return any(n.lower() == key for n, _ in self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> Headers:
        return Headers(self._items)

    def lines(self, name: str) -> list[str]:
        """The raw values of every line with this name, unsplit."""
        key = canonical_name(name).lower()
        return [v for n, v in self._items if n.lower() == key]

    def get_all(self, name: str) -> list[str]:
        """Every value of this header, with comma-separated lists split for list headers."""
        raw = self.lines(name)
        if canonical_name(name).lower() not in LIST_HEADERS:
            return raw
        values: list[str] = []
        for line in raw:
            for part in split_top_level(line, ","):
                part = part.strip(WSP)
                if not part:
                    raise ParseError(f"empty value in {canonical_name(name)} header")
                values.append(part)
        return values

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.lines(name)
        return values[0] if values else default

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        self._items.insert(0, (canonical_name(name), value))

    def set(self, name: str, value: str) -> None:
        """Replace every line of this header by one line, keeping the first one's place."""
        key = canonical_name(name).lower()
        for i, (n, _) in enumerate(self._items):
            if n.lower() == key:
                self._items[i] = (canonical_name(name), value)
                self._items = [item for j, item in enumerate(self._items) if j <= i or item[0].lower() != key]
                return
        self.add(name, value)

    def remove(self, name: str) -> None:
        key = canonical_name(name).lower()
        self._items = [item for item in self._items if item[0].lower() != key]

    def remove_first(self, name: str) -> str | None:
        """Remove the first value of a header (the top Via or Route), splitting lists."""
        key = canonical_name(name).lower()
        for i, (n, v) in enumerate(self._items):
            if n.lower() == key:
                parts = split_top_level(v, ",")
                if len(parts) > 1:
                    self._items[i] = (n, ",".join(parts[1:]).strip(WSP))
                else:
                    del self._items[i]
                return parts[0].strip(WSP)
        return None


@dataclass(frozen=True)
class Via:
    """One Via value (RFC 3261 §20.42): ``SIP/2.0/UDP host:port;branch=...``."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict, hash=False)
    protocol: str = "SIP/2.0"

    @property
    def branch(self) -> str | None:
        return unquote(self.params.get("branch"))

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> int | None:
        value = self.params.get("rport")
        return int(value) if value and value.isascii() and value.isdigit() else None

    @property
    def sent_by(self) -> str:
        return format_host(self.host) + (f":{self.port}" if self.port is not None else "")

    def __str__(self) -> str:
        return f"{self.protocol}/{self.transport} {self.sent_by}{format_params(self.params)}"


def parse_via(text: str) -> Via:
    text = text.strip(WSP)
    # sent-protocol allows LWS around the slashes (RFC 3261 §25.1, SLASH = SWS "/" SWS).
    parts: list[str] = []
    rest = text
    for _ in range(2):
        head, sep, rest = rest.partition("/")
        if not sep:
            raise ParseError("bad Via sent-protocol")
        parts.append(head.strip(WSP))
        rest = rest.lstrip(WSP)
    transport_end = 0
    while transport_end < len(rest) and rest[transport_end] not in WSP:
        transport_end += 1
    transport = rest[:transport_end]
    rest = rest[transport_end:].lstrip(WSP)
    if not parts[0] or not parts[1] or not transport or not rest:
        raise ParseError("incomplete Via header")
    semi = rest.find(";")
    sent_by, param_text = (rest, "") if semi < 0 else (rest[:semi], rest[semi:])
    sent_by = sent_by.strip(WSP)
    if any(c in WSP for c in sent_by):
        raise ParseError("whitespace inside Via sent-by")
    host, port = split_hostport(sent_by)
    params = parse_params(param_text, what="Via")
    return Via(
        transport=transport.upper(),
        host=host,
        port=port,
        params=params,
        protocol=f"{parts[0].upper()}/{parts[1]}",
    )


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5 requires less than 2**31 ...
LIMIT_CSEQ = 2**32 - 1  # ... and §20.16 says a value must fit in 32 bits.


def parse_cseq(text: str) -> CSeq:
    parts = re.split(r"[ \t]+", text.strip(WSP), maxsplit=1)
    number, method = (parts + [""])[:2]
    if not (number.isascii() and number.isdigit()) or not method:
        raise ParseError("bad CSeq header")
    value = int(number)
    if value > LIMIT_CSEQ:
        raise ParseError("CSeq number too large")
    return CSeq(value, method)


def parse_uint(text: str, *, what: str, limit: int = 2**32 - 1) -> int:
    value = text.strip(WSP)
    if not (value.isascii() and value.isdigit()):
        raise ParseError(f"bad {what} value")
    number = int(value)
    if number > limit:
        raise ParseError(f"{what} value too large")
    return number
