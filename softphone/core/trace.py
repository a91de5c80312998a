"""The SIP trace: every message in and out, with credentials redacted."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..sip.auth import redact

_AUTH_LINE = re.compile(rb"^((?:Proxy-)?Authorization[ \t]*:[ \t]*)(.*?)(\r?)$", re.IGNORECASE | re.MULTILINE)


def redact_message(data: bytes) -> str:
    """The message as text, with Authorization and Proxy-Authorization values redacted."""

    def replace(match: re.Match[bytes]) -> bytes:
        value = match.group(2).decode("utf-8", "replace")
        return match.group(1) + redact(value).encode() + match.group(3)

    return _AUTH_LINE.sub(replace, data).decode("utf-8", "replace")


_FROM_TO = re.compile(r"^(?:From|f|To|t)[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"sips?:([^;>\s]+)", re.IGNORECASE)


def account_of(text: str, accounts: dict[str, str]) -> str | None:
    """Which account a traced message belongs to: the id (of ``accounts``, id -> address of record) whose
    user@host stands in its From or To header (From for what we send and its answers, To for what we get)."""
    wanted: dict[str, str] = {}
    for key, aor in accounts.items():
        found = _ADDRESS.search(aor)
        if found:
            wanted[found.group(1).lower()] = key
    for header in _FROM_TO.finditer(text):
        for address in _ADDRESS.findall(header.group(1)):
            match = wanted.get(address.lower())
            if match is not None:
                return match
    return None


@dataclass(frozen=True)
class TraceEntry:
    """One message of the trace, ready for display (CLI, GUI trace viewer)."""

    direction: str  # "in" or "out"
    peer: str
    text: str
    timestamp: float

    @property
    def first_line(self) -> str:
        return self.text.split("\r\n", 1)[0].split("\n", 1)[0]

    def format(self) -> str:
        arrow = "<<<" if self.direction == "in" else ">>>"
        stamp = time.strftime("%H:%M:%S", time.localtime(self.timestamp))
        frac = f"{self.timestamp % 1:.3f}"[1:]
        body = self.text.rstrip("\r\n").replace("\r\n", "\n")
        what = "from" if self.direction == "in" else "to"
        return f"{arrow} {stamp}{frac} {what} {self.peer}\n{body}\n"


TraceSink = Callable[[TraceEntry], None]


def make_entry(direction: str, data: bytes, peer: str) -> TraceEntry | None:
    """A trace entry for bytes on the wire; keep-alive CRLFs are not traced."""
    if not data.strip(b"\r\n"):
        return None
    return TraceEntry(direction, peer, redact_message(data), time.time())
