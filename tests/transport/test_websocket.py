"""SIP over WebSocket as a client (RFC 7118), against a local ``websockets`` server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from softphone.core.stack import SipStack
from softphone.sip.message import MAX_MESSAGE_SIZE, Request, make_response, parse_message
from softphone.transport.base import Destination, Source, TransportError
from softphone.transport.manager import TlsSettings, TransportManager

pytestmark = pytest.mark.timeout(30)

SIP = Subprotocol("sip")

OPTIONS = (
    "OPTIONS sip:alice@example.invalid SIP/2.0\r\n"
    "Via: SIP/2.0/WS 127.0.0.1;branch=z9hG4bKws1\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:probe@example.com>;tag=p1\r\n"
    "To: <sip:alice@example.com>\r\n"
    "Call-ID: ws-probe-1\r\n"
    "CSeq: 1 OPTIONS\r\n"
)


@dataclass
class WsServer:
    """A WebSocket server that records what it gets and runs a per-connection script."""

    subprotocols: list[Subprotocol] | None = field(default_factory=lambda: [SIP])
    script: Callable[[ServerConnection, WsServer], Awaitable[None]] | None = None
    received: asyncio.Queue[str | bytes] = field(default_factory=asyncio.Queue)
    paths: list[str] = field(default_factory=list)
    offered: list[str | None] = field(default_factory=list)
    connections: list[ServerConnection] = field(default_factory=list)
    ssl_context: ssl.SSLContext | None = None
    server: Server | None = None
    port: int = 0

    async def start(self) -> WsServer:
        self.server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=self.subprotocols,
            max_size=None,
            ssl=self.ssl_context,
            compression=None,
        )
        self.port = int(next(iter(self.server.sockets)).getsockname()[1])
        return self

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        assert ws.request is not None
        self.paths.append(ws.request.path)
        self.offered.append(ws.request.headers.get("Sec-WebSocket-Protocol"))
        if self.script is not None:
            await self.script(ws, self)
            return
        async for message in ws:
            self.received.put_nowait(message)

    async def next(self, timeout: float = 5.0) -> str | bytes:
        return await asyncio.wait_for(self.received.get(), timeout)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def dest(self, transport: str = "ws", url: str | None = None) -> Destination:
        return Destination(transport, "127.0.0.1", self.port, url=url)


@dataclass
class Collected:
    messages: list[tuple[bytes, Source]] = field(default_factory=list)
    lost: list[Destination] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    def on_data(self, data: bytes, source: Source) -> None:
        self.messages.append((data, source))
        self.arrived.set()

    def on_lost(self, dest: Destination) -> None:
        self.lost.append(dest)
        self.gone.set()


def manager(collected: Collected, tls: TlsSettings | None = None) -> TransportManager:
    return TransportManager(collected.on_data, on_connection_lost=collected.on_lost, tls=tls)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]


# ------------------------------------------------------------- opening (RFC 7118 §4)


def test_handshake_asks_for_the_sip_subprotocol() -> None:
    """RFC 7118 §4.1: the client offers Sec-WebSocket-Protocol: sip."""

    async def scenario() -> list[str | None]:
        server = await WsServer().start()
        tm = manager(Collected())
        await tm.send(OPTIONS.encode() + b"\r\n", server.dest())
        await server.next()
        await tm.close()
        await server.close()
        return server.offered

    assert run(scenario()) == ["sip"]


def test_server_that_does_not_accept_sip_subprotocol_is_refused() -> None:
    """RFC 7118 §4.1: without 'sip' in the server's answer the connection is not used."""

    async def scenario() -> TransportError:
        server = await WsServer(subprotocols=None).start()
        tm = manager(Collected())
        try:
            with pytest.raises(TransportError) as info:
                await tm.send(b"OPTIONS", server.dest())
        finally:
            await tm.close()
            await server.close()
        return info.value

    assert "subprotocol" in str(run(scenario()))


def test_connection_goes_to_the_url_path() -> None:
    """The account's WebSocket URL (ws://host:port/path) is used for the handshake."""

    async def scenario() -> list[str]:
        server = await WsServer().start()
        tm = manager(Collected())
        await tm.send(b"x\r\n", server.dest(url=f"ws://127.0.0.1:{server.port}/sip/ws?x=1"))
        await server.next()
        await tm.close()
        await server.close()
        return server.paths

    assert run(scenario()) == ["/sip/ws?x=1"]


def test_connection_refused_is_a_transport_error() -> None:
    async def scenario() -> None:
        server = await WsServer().start()
        port = server.port
        await server.close()
        tm = manager(Collected())
        with pytest.raises(TransportError):
            await tm.send(b"x", Destination("ws", "127.0.0.1", port))
        await tm.close()

    run(scenario())


# ------------------------------------------------------------- framing (RFC 7118 §5.1)


def test_each_sip_message_is_one_text_message() -> None:
    """RFC 7118 §5.1: one SIP message per WebSocket message, UTF-8 ones as text frames."""

    async def scenario() -> list[str | bytes]:
        server = await WsServer().start()
        tm = manager(Collected())
        first = (OPTIONS + "Content-Length: 0\r\n\r\n").encode()
        second = (OPTIONS + "Subject: caf\u00e9\r\nContent-Length: 0\r\n\r\n").encode()
        await tm.send(first, server.dest())
        await tm.send(second, server.dest())
        got = [await server.next(), await server.next()]
        await tm.close()
        await server.close()
        return got

    first, second = run(scenario())
    assert isinstance(first, str) and first.endswith("Content-Length: 0\r\n\r\n")
    assert isinstance(second, str) and "caf\u00e9" in second


def test_message_that_is_not_utf8_goes_in_a_binary_frame() -> None:
    """RFC 7118 §5.1: a body that is not UTF-8 needs a binary frame."""

    async def scenario() -> str | bytes:
        server = await WsServer().start()
        tm = manager(Collected())
        data = (OPTIONS + "Content-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n").encode()
        await tm.send(data + b"\xff\xfe\x00", server.dest())
        got = await server.next()
        await tm.close()
        await server.close()
        return got

    got = run(scenario())
    assert isinstance(got, bytes) and got.endswith(b"\xff\xfe\x00")


def test_text_and_binary_messages_are_delivered_with_the_flow_as_source() -> None:
    """Both frame kinds carry SIP; the source names the ws flow, so answers go back over it."""

    async def script(ws: ServerConnection, server: WsServer) -> None:
        await ws.send(OPTIONS + "\r\n")
        await ws.send((OPTIONS + "\r\n").encode())
        await ws.wait_closed()

    async def scenario() -> tuple[list[tuple[bytes, Source]], int]:
        server = await WsServer(script=script).start()
        got = Collected()
        tm = manager(got)
        await tm.local_address(server.dest())
        for _ in range(50):
            if len(got.messages) == 2:
                break
            await asyncio.sleep(0.05)
        await tm.close()
        await server.close()
        return got.messages, server.port

    messages, port = run(scenario())
    assert [m[0] for m in messages] == [(OPTIONS + "\r\n").encode()] * 2
    source = messages[0][1]
    assert (source.transport, source.address, source.port) == ("ws", "127.0.0.1", port)


def test_answer_goes_back_over_the_connection_the_request_came_on() -> None:
    """RFC 7118 §5: a request that arrived over the WebSocket is answered over it."""

    async def script(ws: ServerConnection, server: WsServer) -> None:
        await ws.send(OPTIONS + "\r\n")
        async for message in ws:
            server.received.put_nowait(message)

    async def scenario() -> str | bytes:
        server = await WsServer(script=script).start()
        got = Collected()
        tm = manager(got)
        await tm.local_address(server.dest())
        await asyncio.wait_for(got.arrived.wait(), 5)
        data, source = got.messages[0]
        request = parse_message(data)
        assert isinstance(request, Request)
        tm.send_reply(make_response(request, 200).serialize(), source)
        answer = await server.next()
        await tm.close()
        await server.close()
        return answer

    answer = run(scenario())
    assert isinstance(answer, str) and answer.startswith("SIP/2.0 200")


def test_connection_is_reused_for_every_message() -> None:
    async def scenario() -> int:
        server = await WsServer().start()
        tm = manager(Collected())
        for _ in range(3):
            await tm.send(b"x\r\n", server.dest())
            await server.next()
        await tm.close()
        await server.close()
        return len(server.connections)

    assert run(scenario()) == 1


# ------------------------------------------------------------- limits and loss


def test_message_over_the_size_limit_closes_the_connection_and_reports_it_lost() -> None:
    """A message above MAX_MESSAGE_SIZE is hostile or broken: the flow is closed (1009) and reported."""

    async def script(ws: ServerConnection, server: WsServer) -> None:
        await ws.send("x" * (MAX_MESSAGE_SIZE + 1))
        await ws.wait_closed()
        server.received.put_nowait(str(ws.close_code))

    async def scenario() -> tuple[Collected, str | bytes, bool]:
        server = await WsServer(script=script).start()
        got = Collected()
        tm = manager(got)
        dest = server.dest()
        await tm.local_address(dest)
        await asyncio.wait_for(got.gone.wait(), 5)
        code = await server.next()
        connected = tm.is_connected(dest)
        await tm.close()
        await server.close()
        return got, code, connected

    got, code, connected = run(scenario())
    assert got.messages == []
    assert [d.key for d in got.lost] == [("ws", "127.0.0.1", got.lost[0].port)]
    assert code == "1009"
    assert not connected


def test_message_at_the_size_limit_is_delivered() -> None:
    async def script(ws: ServerConnection, server: WsServer) -> None:
        await ws.send("x" * MAX_MESSAGE_SIZE)
        await ws.wait_closed()

    async def scenario() -> tuple[Collected, bool]:
        server = await WsServer(script=script).start()
        got = Collected()
        tm = manager(got)
        await tm.local_address(server.dest())
        await asyncio.wait_for(got.arrived.wait(), 5)
        await asyncio.sleep(0.1)
        connected = tm.is_connected(server.dest())
        await tm.close()
        await server.close()
        return got, connected

    got, connected = run(scenario())
    assert len(got.messages[0][0]) == MAX_MESSAGE_SIZE
    assert connected


def test_server_closing_the_connection_is_reported_as_a_lost_flow() -> None:
    async def script(ws: ServerConnection, server: WsServer) -> None:
        await ws.close(1001, "going away")

    async def scenario() -> tuple[list[Destination], int]:
        server = await WsServer(script=script).start()
        got = Collected()
        tm = manager(got)
        await tm.local_address(server.dest())
        await asyncio.wait_for(got.gone.wait(), 5)
        await tm.close()
        await server.close()
        return got.lost, server.port

    lost, port = run(scenario())
    assert [d.key for d in lost] == [("ws", "127.0.0.1", port)]


def test_reconnect_after_loss_uses_the_same_url() -> None:
    """Answers and in-dialog requests carry no URL: the flow's URL is remembered by destination."""

    async def script(ws: ServerConnection, server: WsServer) -> None:
        if len(server.connections) == 1:
            await ws.close()
            return
        async for message in ws:
            server.received.put_nowait(message)

    async def scenario() -> list[str]:
        server = await WsServer(script=script).start()
        got = Collected()
        tm = manager(got)
        await tm.local_address(server.dest(url=f"ws://127.0.0.1:{server.port}/sip"))
        await asyncio.wait_for(got.gone.wait(), 5)
        await tm.send(b"x\r\n", server.dest())  # no url this time
        await server.next()
        await tm.close()
        await server.close()
        return server.paths

    assert run(scenario()) == ["/sip", "/sip"]


# ------------------------------------------------------------- keep-alives (RFC 7118 §6)


def test_keepalive_is_a_websocket_ping_and_the_pong_is_noted() -> None:
    async def scenario() -> tuple[float, float]:
        server = await WsServer().start()
        tm = manager(Collected())
        dest = server.dest()
        await tm.local_address(dest)
        before = tm.last_pong(dest)
        tm.keepalive(dest)
        for _ in range(50):
            if tm.last_pong(dest) != before:
                break
            await asyncio.sleep(0.02)
        after = tm.last_pong(dest)
        await tm.close()
        await server.close()
        return before, after

    before, after = run(scenario())
    assert before == 0.0
    assert after > 0.0 and after <= time.monotonic()


def test_crlf_keepalive_message_is_answered_with_crlf() -> None:
    """RFC 5626 §4.4.1 style CRLFCRLF sent as a message by some servers: pong CRLF, nothing delivered."""

    async def script(ws: ServerConnection, server: WsServer) -> None:
        await ws.send("\r\n\r\n")
        async for message in ws:
            server.received.put_nowait(message)

    async def scenario() -> tuple[str | bytes, Collected]:
        server = await WsServer(script=script).start()
        got = Collected()
        tm = manager(got)
        await tm.local_address(server.dest())
        pong = await server.next()
        await tm.close()
        await server.close()
        return pong, got

    pong, got = run(scenario())
    assert pong == "\r\n"
    assert got.messages == []


# ------------------------------------------------------------- Via and Contact (RFC 7118 §5.2)


def test_sent_by_is_a_random_invalid_host_without_port() -> None:
    async def scenario() -> tuple[tuple[str, int | None], tuple[str, int]]:
        server = await WsServer().start()
        tm = manager(Collected())
        sent_by = await tm.sent_by(server.dest())
        local = await tm.local_address(server.dest())
        await tm.close()
        await server.close()
        return sent_by, local

    (host, port), local = run(scenario())
    assert host.endswith(".invalid") and len(host) > len(".invalid") + 4
    assert port is None
    assert local[0] == "127.0.0.1"  # the real socket, for media


def test_request_through_the_stack_has_a_ws_via_and_gets_its_response() -> None:
    """RFC 7118 §5.2: Via SIP/2.0/WS <x>.invalid; the answer comes back over the WebSocket."""

    async def script(ws: ServerConnection, server: WsServer) -> None:
        async for message in ws:
            assert isinstance(message, str)
            server.received.put_nowait(message)
            request = parse_message(message.encode())
            assert isinstance(request, Request)
            answer = make_response(request, 200).serialize()
            # RFC 7118 §5.1: Content-Length is optional over a WebSocket.
            await ws.send(answer.decode().replace("Content-Length: 0\r\n", ""))

    async def scenario() -> tuple[int, str | bytes, str]:
        server = await WsServer(script=script).start()
        stack = SipStack()
        await stack.start("127.0.0.1", 0)
        request = parse_message((OPTIONS + "Content-Length: 0\r\n\r\n").encode())
        assert isinstance(request, Request)
        request.headers.remove_first("Via")
        response = await stack.request(request, server.dest())
        sent = await server.next()
        host = stack.transport.ws_host
        await stack.close()
        await server.close()
        return response.status, sent, host

    status, sent, host = run(scenario())
    assert status == 200
    assert isinstance(sent, str)
    via = next(line for line in sent.split("\r\n") if line.startswith("Via:"))
    assert via.startswith(f"Via: SIP/2.0/WS {host};branch=z9hG4bK")


def test_request_in_flight_fails_at_once_when_the_connection_drops() -> None:
    """A lost flow fails its transactions now, not after Timer F (RFC 3261 §8.1.3.1)."""

    async def script(ws: ServerConnection, server: WsServer) -> None:
        await ws.recv()
        await ws.close()

    async def scenario() -> tuple[int, float]:
        server = await WsServer(script=script).start()
        stack = SipStack()
        await stack.start("127.0.0.1", 0)
        request = parse_message((OPTIONS + "Content-Length: 0\r\n\r\n").encode())
        assert isinstance(request, Request)
        request.headers.remove_first("Via")
        started = time.monotonic()
        response = await stack.request(request, server.dest())
        took = time.monotonic() - started
        await stack.close()
        await server.close()
        return response.status, took

    status, took = run(scenario())
    assert status == 503
    assert took < 3.0


# ------------------------------------------------------------- wss


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    from tests.peers.kamailio import _generate_certs

    return _generate_certs(tmp_path_factory.mktemp("wss"), ["127.0.0.1", "localhost"])


def _server_tls(certs: tuple[Path, Path, Path]) -> ssl.SSLContext:
    _, cert, key = certs
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@pytest.mark.parametrize(
    ("settings", "works"),
    [("default", False), ("ca_file", True), ("no_verify", True)],
)
def test_wss_certificate_is_checked_like_tls(
    certs: tuple[Path, Path, Path], settings: str, works: bool
) -> None:
    """wss verifies the server certificate unless told otherwise, with the same TlsSettings as TLS."""
    ca_file = certs[0]
    tls = {
        "default": TlsSettings(),
        "ca_file": TlsSettings(ca_file=str(ca_file)),
        "no_verify": TlsSettings(verify=False),
    }[settings]

    async def scenario() -> TransportError | str | bytes:
        server = await WsServer(ssl_context=_server_tls(certs)).start()
        tm = manager(Collected(), tls)
        try:
            await tm.send(b"x\r\n", server.dest("wss", url=f"wss://127.0.0.1:{server.port}/"))
            return await server.next()
        except TransportError as exc:
            return exc
        finally:
            await tm.close()
            await server.close()

    result = run(scenario())
    if works:
        assert result == "x\r\n"
    else:
        assert isinstance(result, TransportError) and result.certificate
