"""asyncio UDP, TCP, TLS and WebSocket transports behind one interface (RFC 3261 §18, RFC 7118)."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from ..sip.errors import ParseError
from ..sip.framing import KeepAlivePing, KeepAlivePong, StreamFramer
from .base import WEBSOCKET_TRANSPORTS, Destination, Source, TransportError
from .websocket import WebSocketFlow, default_url, random_invalid_host

log = logging.getLogger(__name__)

Receiver = Callable[[bytes, Source], None]
TraceHook = Callable[[str, bytes, str], None]
LostHook = Callable[[Destination], None]

CONNECT_TIMEOUT = 10.0
MAX_STREAM_BUFFER = 256 * 1024
MAX_INBOUND_CONNECTIONS = 256  # connections peers opened to our listener, in all
MAX_INBOUND_PER_ADDRESS = 16  # ... from one IP address (a NAT may hide a few phones)
INBOUND_IDLE_TIMEOUT = 300.0  # seconds without a byte (CRLF keep-alives count) before we close one


@dataclass
class TlsSettings:
    """Certificate checks for TLS connections: verified against the system store by default."""

    verify: bool = True
    ca_file: str | None = None

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, manager: TransportManager) -> None:
        self.manager = manager
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # qasync's transports are not subclasses of asyncio's: duck typing only.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        local = self.transport.get_extra_info("sockname") if self.transport else ("", 0)
        source = Source("udp", str(addr[0]), int(addr[1]), str(local[0]), int(local[1]))
        self.manager._deliver(data, source)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends: reported per send attempt, never fatal.
        log.debug("UDP error: %s", exc)


@dataclass
class _Connection(asyncio.Protocol):
    manager: TransportManager
    dest: Destination
    framer: StreamFramer = field(default_factory=StreamFramer)
    transport: asyncio.Transport | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    last_pong: float = 0.0
    local: tuple[str, int] = ("", 0)
    inbound: bool = False  # accepted by our listener (the peer opened it)
    _idle: asyncio.TimerHandle | None = None

    def __hash__(self) -> int:
        return id(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sockname = transport.get_extra_info("sockname")
        self.local = (str(sockname[0]), int(sockname[1]))
        if not self.dest.address:  # accepted by a listener: known by the peer's address
            peer = transport.get_extra_info("peername")
            self.dest = Destination(self.dest.transport, str(peer[0]), int(peer[1]))
            self.inbound = True
            refusal = self.manager._admit(self)
            if refusal is not None:
                log.warning("refusing a connection from %s: %s", self.dest.address, refusal)
                self.manager.dropped += 1
                self.transport.abort()
                return
            self.manager._connections[self.dest.key] = self
            self._touch()

    def _touch(self) -> None:
        """An inbound connection that stays silent for INBOUND_IDLE_TIMEOUT is closed (keep-alives count)."""
        if not self.inbound:
            return
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(INBOUND_IDLE_TIMEOUT, self._expire)

    def _expire(self) -> None:
        log.info("closing %s: idle for %.0f s", self.dest, INBOUND_IDLE_TIMEOUT)
        self.close()

    def data_received(self, data: bytes) -> None:
        self._touch()
        try:
            frames = self.framer.feed(data)
        except ParseError as exc:
            # A stream that cannot be framed cannot be resynchronised (RFC 3261 §18.3).
            log.warning("closing %s: %s", self.dest, exc.reason)
            self.close()
            return
        source = Source(self.dest.transport, self.dest.address, self.dest.port, *self.local)
        for frame in frames:
            if isinstance(frame, KeepAlivePing):
                self.write(b"\r\n")
            elif isinstance(frame, KeepAlivePong):
                self.last_pong = time.monotonic()
            else:
                self.manager._deliver(frame, source)

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise TransportError(f"connection to {self.dest} is closed")
        self.transport.write(data)

    def ping(self) -> None:
        """A CRLFCRLF keep-alive (RFC 5626 §4.4.1)."""
        self.write(b"\r\n\r\n")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self.closed.set()
        self.manager._connection_lost(self)


class TransportManager:
    """Owns the sockets; sends bytes to destinations and delivers what arrives.

    UDP uses one socket for everything (symmetric signalling, so NATs keep one
    mapping); TCP, TLS and WebSocket keep one connection per destination, reused for
    every request and response on it (RFC 3261 §18.1.1, RFC 5626 flows, RFC 7118 §5).
    """

    def __init__(
        self,
        on_data: Receiver,
        *,
        on_connection_lost: LostHook | None = None,
        trace: TraceHook | None = None,
        tls: TlsSettings | None = None,
    ) -> None:
        self._on_data = on_data
        self._on_lost = on_connection_lost
        self._trace = trace
        self.tls = tls or TlsSettings()
        self._udp: _UdpProtocol | None = None
        self._udp_local: tuple[str, int] = ("0.0.0.0", 0)
        self._connections: dict[tuple[str, str, int], _Connection | WebSocketFlow] = {}
        self._connecting: dict[tuple[str, str, int], asyncio.Future[_Connection | WebSocketFlow]] = {}
        self._ws_urls: dict[tuple[str, str, int], str] = {}
        # Via and Contact host of every WebSocket flow (RFC 7118 §5.2); one name for the
        # whole manager, so a binding registered again after a reconnect stays the same.
        self.ws_host = random_invalid_host()
        self.user_agent: str | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self.dropped = 0

    # -- setting up --
    async def start_udp(self, host: str = "0.0.0.0", port: int = 0) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        _, protocol = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(host, port), family=family
        )
        self._udp = protocol
        assert protocol.transport is not None
        sockname = protocol.transport.get_extra_info("sockname")
        self._udp_local = (str(sockname[0]), int(sockname[1]))
        return self._udp_local

    async def start_tcp_listener(self, host: str = "0.0.0.0", port: int = 0) -> tuple[str, int]:
        loop = asyncio.get_running_loop()

        def factory() -> _Connection:
            return _Connection(self, Destination("tcp", "", 0))

        server = await loop.create_server(factory, host, port)
        self._servers.append(server)
        sockname = server.sockets[0].getsockname()
        return (str(sockname[0]), int(sockname[1]))

    def _admit(self, conn: _Connection) -> str | None:
        """Why an inbound connection must be refused (too many from that address, or in all), or None."""
        inbound = [c for c in self._connections.values() if isinstance(c, _Connection) and c.inbound]
        if len(inbound) >= MAX_INBOUND_CONNECTIONS:
            return f"{MAX_INBOUND_CONNECTIONS} inbound connections open already"
        same = sum(1 for c in inbound if c.dest.address == conn.dest.address)
        if same >= MAX_INBOUND_PER_ADDRESS:
            return f"{MAX_INBOUND_PER_ADDRESS} connections from this address open already"
        return None

    @property
    def udp_local(self) -> tuple[str, int]:
        return self._udp_local

    # -- sending --
    async def send(self, data: bytes, dest: Destination) -> tuple[str, int]:
        """Send bytes; returns the local address and port they left from."""
        if dest.transport == "udp":
            if self._udp is None or self._udp.transport is None:
                await self.start_udp()
            assert self._udp is not None and self._udp.transport is not None
            self._trace_out(data, dest)
            self._udp.transport.sendto(data, (dest.address, dest.port))
            return self.local_for_udp(dest)
        conn = await self._connection(dest)
        self._trace_out(data, dest)
        conn.write(data)
        return conn.local

    def send_reply(self, data: bytes, source: Source) -> None:
        """Answer on the path a request came in on (RFC 3261 §18.2.2, RFC 3581 §4)."""
        if source.transport == "udp":
            if self._udp is None or self._udp.transport is None:
                return
            self._trace_out(data, source.destination)
            self._udp.transport.sendto(data, (source.address, source.port))
            return
        conn = self._connections.get((source.transport, source.address, source.port))
        if conn is None:
            log.info("connection to %s is gone; response dropped", source)
            return
        self._trace_out(data, source.destination)
        conn.write(data)

    async def local_address(self, dest: Destination) -> tuple[str, int]:
        """The local address and port a message to ``dest`` leaves from (for media, Via and Contact)."""
        if dest.transport == "udp":
            if self._udp is None:
                await self.start_udp()
            return self.local_for_udp(dest)
        conn = await self._connection(dest)
        return conn.local

    async def sent_by(self, dest: Destination) -> tuple[str, int | None]:
        """Host and port for Via and Contact of a message to ``dest``.

        A WebSocket client cannot be reached at its socket's address: it uses a
        random ``.invalid`` name without a port (RFC 7118 §5.2, §5.4); the server
        sends everything back over the connection.
        """
        if dest.transport in WEBSOCKET_TRANSPORTS:
            await self._connection(dest)
            return self.ws_host, None
        host, port = await self.local_address(dest)
        return host, port

    def advertised(self, source: Source) -> tuple[str, int | None]:
        """Contact host and port for an answer to a request that arrived from ``source``."""
        if source.transport in WEBSOCKET_TRANSPORTS:
            return self.ws_host, None
        host = source.local_address
        if host in ("0.0.0.0", "::"):
            host = self.local_for_udp(source.destination)[0]
        return host, source.local_port

    def local_for_udp(self, dest: Destination) -> tuple[str, int]:
        host, port = self._udp_local
        if host in ("0.0.0.0", "::"):
            host = _route_source(dest.address)
        return host, port

    def is_connected(self, dest: Destination) -> bool:
        conn = self._connections.get(dest.key)
        return conn is not None and conn.is_open

    def last_pong(self, dest: Destination) -> float:
        """When the stream to ``dest`` last answered a keep-alive ping (-1: no such stream)."""
        conn = self._connections.get(dest.key)
        return conn.last_pong if conn is not None else -1.0

    def keepalive(self, dest: Destination) -> None:
        """Send a CRLFCRLF ping (RFC 5626 §4.4.1) on a stream, CRLF on UDP (§3.5.1 style),
        a WebSocket Ping on a WebSocket (RFC 7118 §6)."""
        try:
            if dest.transport == "udp":
                if self._udp is not None and self._udp.transport is not None:
                    self._udp.transport.sendto(b"\r\n\r\n", (dest.address, dest.port))
            else:
                conn = self._connections.get(dest.key)
                if conn is not None:
                    conn.ping()
        except (OSError, TransportError) as exc:
            log.info("keep-alive to %s failed: %s", dest, exc)

    def abandon(self, dest: Destination) -> None:
        """Drop a flow whose local address is gone, without a goodbye: it is reported lost at once, and
        the next message to ``dest`` opens a new connection from the address we have now."""
        conn = self._connections.pop(dest.key, None)
        if conn is None:
            return
        if isinstance(conn, _Connection):
            if conn.transport is not None:
                conn.transport.abort()
        else:
            conn.close()
        if self._on_lost is not None:
            self._on_lost(conn.dest)

    def disconnect(self, dest: Destination) -> None:
        conn = self._connections.get(dest.key)
        if conn is not None:
            conn.close()

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        flows = [conn for conn in self._connections.values() if isinstance(conn, WebSocketFlow)]
        for conn in list(self._connections.values()):
            conn.close()
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.close()
        # A WebSocket is closed with a handshake (RFC 6455 §7): give it a moment.
        await asyncio.gather(*(flow.wait_closed() for flow in flows))
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    # -- internals --
    async def _connection(self, dest: Destination) -> _Connection | WebSocketFlow:
        if dest.url is not None:
            self._ws_urls[dest.key] = dest.url
        conn = self._connections.get(dest.key)
        if conn is not None and conn.is_open:
            return conn
        pending = self._connecting.get(dest.key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Connection | WebSocketFlow] = asyncio.get_running_loop().create_future()
        self._connecting[dest.key] = future
        try:
            conn = await self._connect(dest)
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else TransportError(str(exc)))
            future.exception()  # mark retrieved
            raise
        finally:
            self._connecting.pop(dest.key, None)
        future.set_result(conn)
        self._connections[dest.key] = conn
        return conn

    async def _connect(self, dest: Destination) -> _Connection | WebSocketFlow:
        if dest.transport in WEBSOCKET_TRANSPORTS:
            return await self._connect_websocket(dest)
        loop = asyncio.get_running_loop()
        ssl_ctx: ssl.SSLContext | None = None
        server_hostname: str | None = None
        if dest.transport == "tls":
            ssl_ctx = self.tls.context()
            server_hostname = dest.server_name or dest.address
        elif dest.transport != "tcp":
            raise TransportError(f"transport {dest.transport} is not supported")
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(self, dest),
                    dest.address,
                    dest.port,
                    ssl=ssl_ctx,
                    server_hostname=server_hostname,
                ),
                CONNECT_TIMEOUT,
            )
        except ssl.SSLCertVerificationError as exc:
            raise TransportError(
                f"TLS certificate of {server_hostname} is not trusted ({exc.verify_message})",
                certificate=True,
            ) from exc
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            raise TransportError(f"cannot connect to {dest}: {exc or 'timed out'}") from exc
        return conn

    async def _connect_websocket(self, dest: Destination) -> WebSocketFlow:
        flow = WebSocketFlow(
            dest,
            self._ws_urls.get(dest.key) or default_url(dest),
            on_message=self._deliver,
            on_closed=self._connection_lost,
            ssl_context=self.tls.context() if dest.transport == "wss" else None,
            user_agent=self.user_agent,
        )
        await flow.open()
        return flow

    def _deliver(self, data: bytes, source: Source) -> None:
        if self._trace is not None:
            self._trace("in", data, str(source))
        try:
            self._on_data(data, source)
        except Exception:  # a bug above must never kill the socket
            self.dropped += 1
            log.exception("error handling message from %s", source)

    def _trace_out(self, data: bytes, dest: Destination) -> None:
        if self._trace is not None:
            self._trace("out", data, str(dest))

    def _connection_lost(self, conn: _Connection | WebSocketFlow) -> None:
        if self._connections.get(conn.dest.key) is conn:
            del self._connections[conn.dest.key]
            if self._on_lost is not None:
                self._on_lost(conn.dest)


def _route_source(address: str) -> str:
    """The local IP the kernel would use to reach ``address`` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((address, 9))
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1" if family == socket.AF_INET else "::1"
