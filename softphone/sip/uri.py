"""SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), and other schemes kept opaque."""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass, field, replace

from .errors import ParseError

_ALNUM = string.ascii_letters + string.digits
_UNRESERVED = _ALNUM + "-_.!~*'()"
_USER_SAFE = frozenset(_UNRESERVED + "&=+$,;?/")
_PASSWORD_SAFE = frozenset(_UNRESERVED + "&=+$,")
_PARAM_SAFE = frozenset(_UNRESERVED + "[]/:&+$")
_HEADER_SAFE = frozenset(_UNRESERVED + "[]/?:+$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*$")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]*[A-Za-z0-9_])?"
_HOSTNAME_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_IPV4_RE = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")
_HEX = frozenset("0123456789abcdefABCDEF")


def unescape(text: str, *, what: str) -> str:
    """Undo %HH escapes once (RFC 3261 §19.1.2); ``%41`` is ``A``, ``%2541`` is ``%41``."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    n = len(raw)
    while i < n:
        b = raw[i]
        if b == 0x25:  # '%'
            hexpart = raw[i + 1 : i + 3].decode("ascii", "replace")
            if len(hexpart) != 2 or not set(hexpart) <= _HEX:
                raise ParseError(f"bad escape sequence in {what}")
            out.append(int(hexpart, 16))
            i += 3
        else:
            out.append(b)
            i += 1
    return out.decode("utf-8", "surrogateescape")


def escape(text: str, safe: frozenset[str]) -> str:
    out: list[str] = []
    for ch in text:
        if ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
    return "".join(out)


def _check_chars(text: str, safe: frozenset[str], what: str) -> None:
    for ch in text:
        if ch not in safe and ch != "%":
            raise ParseError(f"character {ch!r} not allowed in {what}")


def parse_host(text: str) -> str:
    """Validate a host and return it in canonical form (lower case, IPv6 without brackets)."""
    if text.startswith("["):
        if not text.endswith("]"):
            raise ParseError("unterminated IPv6 reference")
        inner = text[1:-1]
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise ParseError(f"bad IPv6 address {inner!r}") from None
        return inner.lower()
    if _IPV4_RE.match(text):
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            raise ParseError(f"bad IPv4 address {text!r}") from None
        return text
    if not _HOSTNAME_RE.match(text):
        raise ParseError(f"bad host {text!r}")
    return text.lower()


def format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def split_hostport(text: str) -> tuple[str, int | None]:
    """Split ``host[:port]`` where host may be an IPv6 reference (RFC 5118)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ParseError("unterminated IPv6 reference")
        host_text, rest = text[: end + 1], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ParseError(f"unexpected text after IPv6 reference: {rest!r}")
        port_text = rest[1:] if rest else None
    else:
        if text.count(":") > 1:
            raise ParseError("IPv6 address must be enclosed in brackets")
        host_text, sep, port_text_ = text.partition(":")
        port_text = port_text_ if sep else None
    port: int | None = None
    if port_text is not None:
        if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5 or int(port_text) > 65535:
            raise ParseError(f"bad port {port_text!r}")
        port = int(port_text)
    return parse_host(host_text), port


@dataclass(frozen=True)
class SipUri:
    """A ``sip:`` or ``sips:`` URI. User, password and parameter values are stored unescaped."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    scheme: str = "sip"
    params: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)
    headers: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def secure(self) -> bool:
        return self.scheme == "sips"

    @property
    def transport(self) -> str | None:
        value = self.params.get("transport")
        return value.lower() if value else None

    @property
    def aor(self) -> str:
        """The address of record: scheme, user and host, without port or parameters."""
        user = f"{escape(self.user, _USER_SAFE)}@" if self.user is not None else ""
        return f"{self.scheme}:{user}{format_host(self.host)}"

    @property
    def hostport(self) -> str:
        return format_host(self.host) + (f":{self.port}" if self.port is not None else "")

    def with_params(self, **params: str | None) -> SipUri:
        merged = dict(self.params)
        merged.update(params)
        return replace(self, params=merged)

    def without_params(self, *names: str) -> SipUri:
        return replace(self, params={k: v for k, v in self.params.items() if k not in names})

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(escape(self.user, _USER_SAFE))
            if self.password is not None:
                out.append(":" + escape(self.password, _PASSWORD_SAFE))
            out.append("@")
        out.append(self.hostport)
        for name, value in self.params.items():
            out.append(f";{escape(name, _PARAM_SAFE)}")
            if value is not None:
                out.append("=" + escape(value, _PARAM_SAFE))
        if self.headers:
            out.append("?")
            out.append(
                "&".join(
                    f"{escape(k, _HEADER_SAFE)}={escape(v, _HEADER_SAFE)}" for k, v in self.headers.items()
                )
            )
        return "".join(out)

    def __eq__(self, other: object) -> bool:
        # RFC 3261 §19.1.4, simplified: parameters present in both must match, and
        # user, ttl, method and maddr parameters must match when present in either.
        if not isinstance(other, SipUri):
            return NotImplemented
        if (self.scheme, self.user, self.password, self.host, self.port) != (
            other.scheme,
            other.user,
            other.password,
            other.host,
            other.port,
        ):
            return False
        mine = {k: (v.lower() if v else v) for k, v in self.params.items()}
        theirs = {k: (v.lower() if v else v) for k, v in other.params.items()}
        for key in mine.keys() & theirs.keys():
            if mine[key] != theirs[key]:
                return False
        for key in ("user", "ttl", "method", "maddr", "transport"):
            if (key in mine) != (key in theirs):
                return False
        return self.headers == other.headers

    def __hash__(self) -> int:
        return hash((self.scheme, self.user, self.host, self.port))


@dataclass(frozen=True)
class TelUri:
    """A ``tel:`` URI (RFC 3966); the number is kept with its visual separators."""

    number: str
    params: dict[str, str | None] = field(default_factory=dict, compare=False)
    scheme: str = "tel"

    def __str__(self) -> str:
        return (
            "tel:"
            + self.number
            + "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        )


@dataclass(frozen=True)
class AbsoluteUri:
    """Any other scheme (``http:``, ``urn:``, ``isbn:`` ...), kept as it came."""

    scheme: str
    opaque: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.opaque}"


Uri = SipUri | TelUri | AbsoluteUri


def parse_uri(text: str) -> Uri:
    """Parse an absolute URI; SIP, SIPS and tel get a structured form (RFC 3261 §19.1)."""
    scheme, sep, rest = text.partition(":")
    if not sep or not _SCHEME_RE.match(scheme):
        raise ParseError(f"not a URI: {text[:40]!r}")
    if any(ch in ' \t\r\n<>"' for ch in text):
        raise ParseError(f"URI contains whitespace or a reserved delimiter: {text[:40]!r}")
    lowered = scheme.lower()
    if lowered in ("sip", "sips"):
        return _parse_sip(lowered, rest)
    if lowered == "tel":
        return _parse_tel(rest)
    if not rest:
        raise ParseError(f"empty {scheme}: URI")
    return AbsoluteUri(lowered, rest)


def parse_sip_uri(text: str) -> SipUri:
    uri = parse_uri(text)
    if not isinstance(uri, SipUri):
        raise ParseError(f"not a SIP URI: {text[:40]!r}", status=416)
    return uri


def _parse_sip(scheme: str, rest: str) -> SipUri:
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user_text, sep, password_text = userinfo.partition(":")
        if not user_text:
            raise ParseError("empty user part in SIP URI")
        _check_chars(user_text, _USER_SAFE, "SIP URI user part")
        user = unescape(user_text, what="SIP URI user part")
        if sep:
            _check_chars(password_text, _PASSWORD_SAFE, "SIP URI password")
            password = unescape(password_text, what="SIP URI password")
    rest, qmark, header_text = rest.partition("?")
    hostport, *param_items = rest.split(";")
    if not hostport:
        raise ParseError("SIP URI without a host")
    host, port = split_hostport(hostport)
    params: dict[str, str | None] = {}
    for item in param_items:
        if not item:
            raise ParseError("empty URI parameter")
        name, eq, value = item.partition("=")
        _check_chars(name, _PARAM_SAFE, "URI parameter name")
        if not name:
            raise ParseError("empty URI parameter name")
        if eq:
            _check_chars(value, _PARAM_SAFE, "URI parameter value")
            params[unescape(name, what="URI parameter").lower()] = unescape(value, what="URI parameter")
        else:
            params[unescape(name, what="URI parameter").lower()] = None
    headers: dict[str, str] = {}
    if qmark:
        for item in header_text.split("&"):
            name, eq, value = item.partition("=")
            if not name or not eq:
                raise ParseError("bad header in SIP URI")
            _check_chars(name, _HEADER_SAFE, "URI header name")
            _check_chars(value, _HEADER_SAFE, "URI header value")
            headers[unescape(name, what="URI header")] = unescape(value, what="URI header")
    return SipUri(
        host=host,
        user=user,
        password=password,
        port=port,
        scheme=scheme,
        params=params,
        headers=headers,
    )


def _parse_tel(rest: str) -> TelUri:
    number, *items = rest.split(";")
    if not number or not all(c in "0123456789+-.()*#ABCDabcdpPwW" for c in number):
        raise ParseError(f"bad telephone number {number!r}")
    params: dict[str, str | None] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not name:
            raise ParseError("empty tel URI parameter")
        params[name.lower()] = value if eq else None
    return TelUri(number, params)
