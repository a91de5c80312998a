"""name-addr and addr-spec values of From, To, Contact, Route and friends (RFC 3261 §20.10, §25.1)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .errors import ParseError
from .grammar import (
    WSP,
    format_params,
    is_token,
    parse_params,
    quote,
    read_quoted,
    split_top_level,
    unquote,
)
from .uri import SipUri, Uri, parse_uri


@dataclass(frozen=True)
class Address:
    """A URI with an optional display name and header parameters (tag, expires, q ...)."""

    uri: Uri
    display_name: str | None = None
    params: dict[str, str | None] = field(default_factory=dict, hash=False)

    @property
    def tag(self) -> str | None:
        return unquote(self.params.get("tag"))

    @property
    def sip_uri(self) -> SipUri:
        if not isinstance(self.uri, SipUri):
            raise ParseError(f"not a SIP URI: {self.uri}", status=416)
        return self.uri

    def with_params(self, **params: str | None) -> Address:
        merged = dict(self.params)
        merged.update(params)
        return replace(self, params=merged)

    def __str__(self) -> str:
        name = f"{quote(self.display_name)} " if self.display_name else ""
        return f"{name}<{self.uri}>{format_params(self.params)}"


def parse_address(text: str) -> Address:
    text = text.strip(WSP)
    if not text:
        raise ParseError("empty address")
    display: str | None = None
    if text.startswith('"'):
        display, end = read_quoted(text, 0)
        rest = text[end:].lstrip(WSP)
        if not rest.startswith("<"):
            raise ParseError("quoted display name must be followed by <URI>")
        return _bracketed(rest, display)
    lt = text.find("<")
    if lt >= 0:
        name_text = text[:lt].strip(WSP)
        if name_text:
            words = name_text.split()
            if not all(is_token(w) for w in words):
                raise ParseError(f"display name {name_text!r} must be quoted")
            display = " ".join(words)
        return _bracketed(text[lt:], display)
    # addr-spec: the URI ends at the first ';', and may not hold ',', '?' or ';' itself.
    uri_text, sep, param_text = text.partition(";")
    uri_text = uri_text.rstrip(WSP)
    if "?" in uri_text or "," in uri_text:
        raise ParseError("a URI with headers or commas must be enclosed in <>")
    if any(c in WSP for c in uri_text):
        raise ParseError("whitespace inside addr-spec")
    uri = parse_uri(uri_text)
    params = parse_params(sep + param_text, what="address") if sep else {}
    return Address(uri=uri, display_name=None, params=params)


def _bracketed(text: str, display: str | None) -> Address:
    end = text.find(">")
    if end < 0:
        raise ParseError("missing > after URI")
    uri = parse_uri(text[1:end])
    params = parse_params(text[end + 1 :], what="address")
    return Address(uri=uri, display_name=display, params=params)


def parse_address_list(text: str) -> list[Address]:
    """Comma-separated addresses, as in Contact, Route and Record-Route."""
    return [parse_address(part) for part in split_top_level(text, ",")]
