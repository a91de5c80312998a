"""Resource limits against hostile peers, on a real Engine listening on 127.0.0.1 (UDP and TCP).

After each attack the engine must still answer OPTIONS, its memory must not have grown with the
size of the attack (tracemalloc), no file descriptor may be left behind, and every transaction must
end (``engine.stack.layer.transactions`` back to 0 once the RFC 3261 timers have run - they are
shortened here: T1 = 20 ms, so Timer J is 1.28 s).

Known bugs are pinned with ``xfail(strict=True)`` (they start failing once fixed, so that the
marker gets removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import socket
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from softphone.core.engine import Engine
from softphone.sip.incoming import Drop, classify
from softphone.sip.message import MAX_HEADERS, MAX_MESSAGE_SIZE
from softphone.sip.transaction import Timers
from softphone.transport.manager import MAX_INBOUND_PER_ADDRESS

HOST = "127.0.0.1"
TIMERS = Timers(t1=0.02, t2=0.16, t4=0.1, d=0.2)
MAX_UDP_PAYLOAD = 65_507  # IPv4: 65,535 - 20 (IP header) - 8 (UDP header)
MB = 1024 * 1024


# ------------------------------------------------------------------------------------------------
# helpers


def options(transport: str, port: int, extra: str = "", *, pad: int = 0) -> bytes:
    branch = "z9hG4bK" + secrets.token_hex(8)
    text = (
        f"OPTIONS sip:robustness@{HOST} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {HOST}:{port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:attacker@{HOST}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:robustness@{HOST}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}@{HOST}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"{extra}" + (f"X-Pad: {'a' * pad}\r\n" if pad else "") + "Content-Length: 0\r\n\r\n"
    )
    return text.encode()


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)


@contextlib.asynccontextmanager
async def udp_peer() -> AsyncIterator[tuple[asyncio.DatagramTransport, _Collector, int]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Collector, local_addr=(HOST, 0))
    try:
        yield transport, protocol, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


async def udp_options(engine: Engine, extra: str = "", *, timeout: float = 2.0) -> bytes | None:
    """Send one OPTIONS over UDP; the first line of the answer, or None."""
    assert engine.local is not None
    async with udp_peer() as (transport, protocol, port):
        transport.sendto(options("UDP", port, extra), engine.local)
        try:
            return (await asyncio.wait_for(protocol.queue.get(), timeout)).split(b"\r\n", 1)[0]
        except TimeoutError:
            return None


async def read_response(reader: asyncio.StreamReader, timeout: float = 2.0) -> bytes | None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        return None
    for line in head.split(b"\r\n"):
        if line.lower().startswith((b"content-length:", b"l:")):
            await reader.readexactly(int(line.split(b":", 1)[1]))
    return head.split(b"\r\n", 1)[0]


async def tcp_options(
    tcp: tuple[str, int], *, timeout: float = 2.0, source: str | None = None
) -> bytes | None:
    reader, writer = await asyncio.open_connection(*tcp, local_addr=(source, 0) if source else None)
    try:
        writer.write(options("TCP", writer.get_extra_info("sockname")[1]))
        await writer.drain()
        return await read_response(reader, timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


class Memory:
    """Python heap growth (tracemalloc) of everything in between: peak and what stays."""

    def __enter__(self) -> Memory:
        self._started = not tracemalloc.is_tracing()
        if self._started:
            tracemalloc.start()
        tracemalloc.reset_peak()
        self.baseline = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        current, peak = tracemalloc.get_traced_memory()
        self.peak = peak - self.baseline
        self.kept = current - self.baseline
        if self._started:
            tracemalloc.stop()


class Target:
    """An Engine on 127.0.0.1 with a UDP socket and a TCP listener."""

    def __init__(self, engine: Engine, tcp: tuple[str, int]) -> None:
        self.engine = engine
        self.tcp = tcp

    @property
    def connections(self) -> int:
        return len(self.engine.stack.transport._connections)

    async def still_answers(self) -> None:
        assert await udp_options(self.engine) == b"SIP/2.0 200 OK"
        assert await tcp_options(self.tcp) == b"SIP/2.0 200 OK"

    async def settles(self, timeout: float = 5.0) -> None:
        """Every transaction ends and every inbound connection is gone."""
        layer = self.engine.stack.layer
        assert await wait_until(lambda: layer.transactions == 0, timeout), (
            f"{layer.transactions} transactions left"
        )
        assert await wait_until(lambda: self.connections == 0, timeout), (
            f"{self.connections} connections left"
        )


def run_against_engine(
    scenario: Callable[[Target], Awaitable[None]],
    timeout: float = 60.0,
    *,
    serves_invite: bool = False,
    rate_limit: bool = False,
) -> None:
    """``serves_invite``: the engine takes INVITEs (with a media factory that is never reached).
    ``rate_limit``: keep a per-source limiter (``stack.limiter``) if the stack has one; the other
    tests send far more than one peer should, on purpose, so they switch it off."""

    async def main() -> None:
        fds = open_fds()
        engine = Engine(
            listen=(HOST, 0), timers=TIMERS, media_factory=(lambda: None) if serves_invite else None
        )  # type: ignore[arg-type,return-value]
        if not rate_limit and getattr(engine.stack, "limiter", None) is not None:
            engine.stack.limiter = None  # type: ignore[attr-defined]
        await engine.start()
        try:
            tcp = await engine.stack.transport.start_tcp_listener(HOST, 0)
            target = Target(engine, tcp)
            await target.still_answers()
            await scenario(target)
            await target.still_answers()
            await target.settles()
        finally:
            await engine.stop()
        await asyncio.sleep(0.05)
        assert open_fds() <= fds, "file descriptors leaked"

    asyncio.run(asyncio.wait_for(main(), timeout))


async def stream_until_closed(
    tcp: tuple[str, int], chunks: Callable[[int], bytes], limit: int
) -> tuple[int, bool]:
    """Write chunks until the engine closes the connection or ``limit`` bytes went out.

    Returns (bytes sent, whether the engine closed the connection).
    """
    reader, writer = await asyncio.open_connection(*tcp)
    sent = 0
    closed = False
    try:
        while sent < limit:
            chunk = chunks(sent)
            writer.write(chunk)
            try:
                await asyncio.wait_for(writer.drain(), 5)
            except (ConnectionError, TimeoutError):
                closed = True
                break
            sent += len(chunk)
            if reader.at_eof() or writer.transport.is_closing():
                closed = True
                break
            if sent % (16 * 65536) == 0:
                await asyncio.sleep(0)  # let the engine's side read
        if not closed:
            try:
                closed = await asyncio.wait_for(reader.read(1), 3) == b""
            except ConnectionError:
                closed = True
            except TimeoutError:
                closed = False
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return sent, closed


# ------------------------------------------------------------------------------------------------
# message size


def test_70_kb_datagram_is_dropped_unparsed() -> None:
    """docs/ARCHITECTURE.md: above MAX_MESSAGE_SIZE nothing is parsed (513 would need a parse)."""
    data = options("UDP", 5060, pad=70_000)
    assert len(data) > MAX_MESSAGE_SIZE
    assert isinstance(classify(data), Drop)


def test_largest_udp_datagrams_do_not_hurt_the_engine() -> None:
    """70 kB cannot even be sent over IPv4 UDP; the largest datagrams that can are parsed or
    dropped, answered when valid, and leave nothing behind."""

    async def scenario(target: Target) -> None:
        engine = target.engine
        assert engine.local is not None
        async with udp_peer() as (transport, protocol, port):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(OSError):
                sock.sendto(b"x" * 70_000, engine.local)  # EMSGSIZE: the kernel refuses
            valid = options("UDP", port, pad=MAX_UDP_PAYLOAD - len(options("UDP", port, pad=1)) + 1)
            assert len(valid) == MAX_UDP_PAYLOAD
            dropped = engine.stack.dropped
            with Memory() as memory:
                transport.sendto(valid, engine.local)
                answer = await asyncio.wait_for(protocol.queue.get(), 3)
                for n in range(20):  # paced: a burst would only overflow the kernel's buffer
                    transport.sendto(random.Random(n).randbytes(MAX_UDP_PAYLOAD), engine.local)
                    transport.sendto(b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: " * 21_000, engine.local)
                    await wait_until(lambda n=n: engine.stack.dropped >= dropped + 2 * n + 2, 1)
            assert answer.startswith(b"SIP/2.0 200 OK")
            assert engine.stack.dropped >= dropped + 40
            assert memory.kept < 1 * MB, memory.kept

    run_against_engine(scenario)


def test_too_many_headers_are_not_processed() -> None:
    """docs/ARCHITECTURE.md: at most MAX_HEADERS header fields; 1000 are refused over UDP and TCP,
    and the TCP connection stays usable for the next message."""
    many = "".join(f"X-H{i}: {i}\r\n" for i in range(1000))
    assert len(many.splitlines()) > MAX_HEADERS

    async def scenario(target: Target) -> None:
        engine = target.engine
        dropped = engine.stack.dropped
        assert await udp_options(engine, many, timeout=0.5) is None
        reader, writer = await asyncio.open_connection(*target.tcp)
        port = writer.get_extra_info("sockname")[1]
        writer.write(options("TCP", port, many))
        writer.write(options("TCP", port))
        await writer.drain()
        assert await read_response(reader) == b"SIP/2.0 200 OK"  # the second one
        writer.close()
        await writer.wait_closed()
        assert engine.stack.dropped == dropped + 2

    run_against_engine(scenario)


# ------------------------------------------------------------------------------------------------
# hostile streams


def _header_lines(sent: int) -> bytes:
    if sent == 0:
        return b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
    return b"X-Pad: " + b"a" * 65_000 + b"\r\n"


@pytest.mark.slow
def test_10_mb_header_section_is_cut_off_at_the_message_size_limit() -> None:
    async def scenario(target: Target) -> None:
        with Memory() as memory:
            sent, closed = await stream_until_closed(target.tcp, _header_lines, 10 * MB)
        assert closed, "the engine kept reading a 10 MB header section"
        assert memory.peak < 4 * MB, f"peak {memory.peak / MB:.1f} MB while reading {sent / MB:.1f} MB"

    run_against_engine(scenario)


GARBAGE: dict[str, Callable[[int], bytes]] = {
    "random bytes": lambda sent: random.Random(sent).randbytes(8192),
    "text without line ends": lambda sent: b"garbage " * 1024,
    "lines without a blank line": lambda sent: b"garbage: line\r\n" * 512,
    "NULs": lambda sent: b"\x00" * 8192,
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_tcp_garbage_without_end_gets_the_connection_closed(kind: str) -> None:
    """RFC 3261 §18.3: a stream that cannot be framed is closed; memory stays at one message."""

    async def scenario(target: Target) -> None:
        with Memory() as memory:
            sent, closed = await stream_until_closed(target.tcp, GARBAGE[kind], 20 * MB)
        assert closed, f"still open after {sent / MB:.1f} MB of {kind}"
        assert memory.peak < 4 * MB, f"peak {memory.peak / MB:.1f} MB"

    run_against_engine(scenario)


def test_tcp_garbage_after_cr_lf_cr_gets_the_connection_closed() -> None:
    """A stream that starts with CR LF CR and goes on with anything but LF is neither a keep-alive
    nor a message: today the framer waits for more, forever, and buffers all of it."""

    def chunks(sent: int) -> bytes:
        return (b"\r\n\r" if sent == 0 else b"") + b"x" * 65_536

    async def scenario(target: Target) -> None:
        with Memory() as memory:
            sent, closed = await stream_until_closed(target.tcp, chunks, 8 * MB)
        assert closed, f"still open after {sent / MB:.1f} MB; the engine buffered {memory.peak / MB:.1f} MB"

    run_against_engine(scenario)


def test_framed_garbage_is_dropped_message_by_message() -> None:
    """Garbage that frames (blank lines in it) is dropped one frame at a time; the connection
    stays open (nothing says it must not) but nothing accumulates."""

    async def scenario(target: Target) -> None:
        engine = target.engine
        dropped = engine.stack.dropped
        reader, writer = await asyncio.open_connection(*target.tcp)
        with Memory() as memory:
            for n in range(2000):
                writer.write(random.Random(n).randbytes(200).replace(b"\r\n\r\n", b"") + b"\r\n\r\n")
            await writer.drain()
            assert await wait_until(lambda: engine.stack.dropped >= dropped + 1900, 10)
        port = writer.get_extra_info("sockname")[1]
        writer.write(options("TCP", port))
        await writer.drain()
        assert await read_response(reader) == b"SIP/2.0 200 OK"
        writer.close()
        await writer.wait_closed()
        assert memory.kept < 1 * MB, memory.kept

    run_against_engine(scenario)


@pytest.mark.slow
def test_200_tcp_connections_from_one_peer() -> None:
    """200 connections at once from one address: the first MAX_INBOUND_PER_ADDRESS are served, the
    rest closed at once; the engine keeps serving others, and when the peer goes every connection
    and file descriptor is released."""

    async def scenario(target: Target) -> None:
        assert await wait_until(lambda: target.connections == 0, 2)
        with Memory() as memory:
            streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
            for _ in range(4):  # in batches: the listen backlog is 100
                streams += await asyncio.gather(*(asyncio.open_connection(*target.tcp) for _ in range(50)))
            await asyncio.sleep(0.3)
            served = 0
            for _reader, writer in streams:
                port = writer.get_extra_info("sockname")[1]
                try:
                    writer.write(options("TCP", port))
                    await writer.drain()
                except (ConnectionError, OSError):
                    pass
            answers = await asyncio.gather(*(read_response(r, 3) for r, _ in streams), return_exceptions=True)
            served = sum(1 for a in answers if a == b"SIP/2.0 200 OK")
            assert served == MAX_INBOUND_PER_ADDRESS, served
            assert target.connections <= MAX_INBOUND_PER_ADDRESS, target.connections
            # another peer (another loopback address) is still served over TCP meanwhile
            assert await tcp_options(target.tcp, source="127.0.0.2") == b"SIP/2.0 200 OK"
            for _, writer in streams:
                writer.close()
            await asyncio.gather(*(w.wait_closed() for _, w in streams), return_exceptions=True)
            assert await wait_until(lambda: target.connections == 0, 5), target.connections
        assert memory.kept < 2 * MB, memory.kept

    run_against_engine(scenario)


# ------------------------------------------------------------------------------------------------
# floods, leaks and rate


@pytest.mark.slow
def test_options_flood_leaves_nothing_behind() -> None:
    """2000 OPTIONS with distinct branches: each makes a server transaction that lives for Timer J
    (hundreds alive at once); all of them end, and the memory they held is given back."""

    async def scenario(target: Target) -> None:
        engine = target.engine
        assert engine.local is not None
        layer = engine.stack.layer
        peak = 0
        with Memory() as memory:
            async with udp_peer() as (transport, protocol, port):
                sent = answered = 0
                while answered < 2000:
                    # at most 100 unanswered: more would only overflow the kernel's socket buffer
                    while sent < 2000 and sent - answered < 100:
                        transport.sendto(options("UDP", port), engine.local)
                        sent += 1
                    try:
                        await asyncio.wait_for(protocol.queue.get(), 2)
                    except TimeoutError:
                        break
                    answered += 1
                    peak = max(peak, layer.transactions)
            assert answered == 2000, answered
            assert await wait_until(lambda: layer.transactions == 0, 10), layer.transactions
        assert peak > 200, peak
        assert memory.kept < 1 * MB, f"{memory.kept / 1024:.0f} kB kept after {peak} transactions"

    run_against_engine(scenario)


@pytest.mark.parametrize(
    ("method", "header"),
    [("OPTIONS", "Require: a,,b\r\n"), ("OPTIONS", "Require: ,\r\n"), ("INVITE", "Accept: ,\r\n")],
)
def test_malformed_list_header_is_answered_and_its_transaction_ends(method: str, header: str) -> None:
    """inspect_request raises ParseError on an empty Require or Accept value; Engine._on_request
    lets it out, the transport logs it, and the server transaction is never answered and never
    freed (no timer runs in Trying / Proceeding, RFC 3261 §17.2): one leaked transaction per
    datagram, from anyone, with no authentication. Expected: a 400 and no transaction left."""

    async def scenario(target: Target) -> None:
        engine = target.engine
        assert engine.local is not None
        async with udp_peer() as (transport, protocol, port):
            transport.sendto(options("UDP", port, header).replace(b"OPTIONS", method.encode()), engine.local)
            answer: bytes | None = None
            while answer is None or answer.startswith(b"SIP/2.0 1"):  # past 100 Trying
                try:
                    answer = await asyncio.wait_for(protocol.queue.get(), 2)
                except TimeoutError:
                    break
        assert answer is not None and answer.startswith(b"SIP/2.0 4"), answer
        await target.settles()

    run_against_engine(scenario, serves_invite=method == "INVITE")


def test_one_source_is_rate_limited() -> None:
    """1000 OPTIONS in a burst from one address: a limiter should answer the first ones (burst)
    and drop or 503 the rest, so one peer cannot make the engine work without bound."""

    async def scenario(target: Target) -> None:
        engine = target.engine
        assert engine.local is not None
        async with udp_peer() as (transport, protocol, port):
            for n in range(1000):  # within about a second, paced so that the kernel drops nothing
                transport.sendto(options("UDP", port), engine.local)
                if n % 10 == 0:
                    await asyncio.sleep(0.008)
            ok = 0
            while True:
                try:
                    answer = await asyncio.wait_for(protocol.queue.get(), 0.5)
                except TimeoutError:
                    break
                ok += answer.startswith(b"SIP/2.0 200")
        assert ok < 500, f"{ok} of 1000 answered with 200 within a second"

    run_against_engine(scenario, rate_limit=True)
