"""Small lexical helpers shared by the URI, address and header parsers (RFC 3261 §25)."""

from __future__ import annotations

import re

from .errors import ParseError

TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
WSP = " \t"


def is_token(text: str) -> bool:
    return bool(_TOKEN_RE.match(text))


def split_top_level(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` where it is outside quoted strings and <...>.

    Comma-separated header values and ``;`` parameters both need this, since a
    display name or a bracketed URI may contain the separator.
    """
    if '"' not in text and "<" not in text:
        return text.split(sep)  # nothing can hide a separator: the common case, made fast
    parts: list[str] = []
    buf: list[str] = []
    in_quote = False
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if in_quote:
            buf.append(ch)
            if ch == "\\" and i + 1 < n:
                buf.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_quote = False
        elif ch == '"':
            in_quote = True
            buf.append(ch)
        elif ch == "<":
            depth += 1
            buf.append(ch)
        elif ch == ">":
            depth = max(0, depth - 1)
            buf.append(ch)
        elif ch == sep and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    if in_quote:
        raise ParseError("unterminated quoted string")
    parts.append("".join(buf))
    return parts


def read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read the quoted string that opens at ``text[start]``.

    Returns the unescaped content and the index just past the closing quote.
    """
    if start >= len(text) or text[start] != '"':
        raise ParseError("expected a quoted string")
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                break
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise ParseError("unterminated quoted string")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote(value: str | None) -> str | None:
    """The content of a parameter value, without quotes if it was a quoted string."""
    if value is None:
        return None
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        content, end = read_quoted(value, 0)
        if end == len(value):
            return content
    return value


def parse_params(text: str, *, what: str) -> dict[str, str | None]:
    """Parse ``;name=value;flag`` generic parameters (RFC 3261 §25.1 generic-param).

    Keys are lower-cased (parameter names are case-insensitive); values are kept
    as they came, with quotes, so that serializing gives the same bytes back.
    """
    params: dict[str, str | None] = {}
    stripped = text.strip(WSP)
    if not stripped:
        return params
    if stripped[0] != ";":
        raise ParseError(f"unexpected text {stripped[:20]!r} in {what}")
    for raw in split_top_level(stripped[1:], ";"):
        item = raw.strip(WSP)
        if not item:
            raise ParseError(f"empty parameter in {what}")
        if "=" in item:
            name, _, value = item.partition("=")
            name = name.strip(WSP)
            value = value.strip(WSP)
            if not value:
                raise ParseError(f"empty value for parameter {name!r} in {what}")
            if value[0] == '"':
                _, end = read_quoted(value, 0)
                if end != len(value):
                    raise ParseError(f"text after quoted value of {name!r} in {what}")
            elif not _is_param_value(value):
                raise ParseError(f"bad value for parameter {name!r} in {what}")
        else:
            name, value = item, None
        if not is_token(name):
            raise ParseError(f"bad parameter name {name!r} in {what}")
        params[name.lower()] = value
    return params


def _is_param_value(value: str) -> bool:
    # gen-value = token / host / quoted-string; a host may be an IPv6 reference.
    if is_token(value):
        return True
    if value.startswith("[") and value.endswith("]") and ":" in value:
        return True
    # RFC 5118 §4.5: Via's received parameter holds an IPv6 address without brackets.
    return ":" in value and all(c in "0123456789abcdefABCDEF:." for c in value)


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())
