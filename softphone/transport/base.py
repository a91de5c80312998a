"""Addresses and the callback interface shared by every transport."""

from __future__ import annotations

from dataclasses import dataclass, field

STREAM_TRANSPORTS = frozenset({"tcp", "tls", "ws", "wss"})
WEBSOCKET_TRANSPORTS = frozenset({"ws", "wss"})
SECURE_TRANSPORTS = frozenset({"tls", "wss"})
DEFAULT_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061, "ws": 80, "wss": 443}


class TransportError(Exception):
    """Sending failed: the peer is unreachable, refused the connection or failed TLS.

    ``certificate`` is set when the TLS peer's certificate was not trusted: retrying
    will not help until the user trusts it or the server is fixed.
    """

    def __init__(self, message: str, *, certificate: bool = False) -> None:
        super().__init__(message)
        self.certificate = certificate


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a transport, an IP address and a port.

    ``server_name`` is the host name the address came from; TLS checks the peer's
    certificate against it (RFC 5922). ``url`` is the WebSocket URL of a ws/wss
    destination (RFC 7118), when it is not ``ws(s)://server_name:port/``; it is not
    part of the destination's identity (``key``).
    """

    transport: str
    address: str
    port: int
    server_name: str | None = None
    url: str | None = field(default=None, compare=False)

    @property
    def reliable(self) -> bool:
        return self.transport in STREAM_TRANSPORTS

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.transport, self.address, self.port)

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.transport}:{host}:{self.port}"


@dataclass(frozen=True)
class Source:
    """Where a message came from, and how to answer on the same path (RFC 3581)."""

    transport: str
    address: str
    port: int
    local_address: str
    local_port: int

    @property
    def destination(self) -> Destination:
        return Destination(self.transport, self.address, self.port)

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.transport}:{host}:{self.port}"
