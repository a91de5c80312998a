"""RtpSession over real UDP sockets on 127.0.0.1 (softphone.media.rtp)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar, cast

import pytest
from aiortc.rtp import AnyRtcpPacket, RtcpByePacket, RtcpPacket, RtcpSdesPacket, RtcpSrPacket, RtpPacket

from softphone.media.rtp import RtpSession, is_rtcp_packet, parse_rtp
from softphone.media.srtp import SrtpContext, SrtpKey

HOST = "127.0.0.1"
SUITES = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
    """Run one test coroutine on a fresh loop (pytest-asyncio is not used here)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


class Received:
    """on_packet sink."""

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []
        self.arrivals: list[float] = []

    def __call__(self, packet: RtpPacket, arrival: float) -> None:
        self.packets.append(packet)
        self.arrivals.append(arrival)


class RawPeer(asyncio.DatagramProtocol):
    """A bare UDP socket that records what it receives (to see where a session sends)."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[bytes, tuple[str, int]]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.datagrams.append((data, (addr[0], addr[1])))

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def raw_peer(port: int = 0) -> RawPeer:
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_datagram_endpoint(RawPeer, local_addr=(HOST, port))
    return peer


@contextlib.asynccontextmanager
async def sessions(
    count: int = 2, *, rtcp_mux: bool = False, connect: bool = True, **kwargs: Any
) -> AsyncIterator[list[RtpSession]]:
    """Open ``count`` sessions on 127.0.0.1; with connect, the first two send to each other."""
    opened = [RtpSession(**kwargs) for _ in range(count)]
    try:
        for session in opened:
            await session.open(HOST, rtcp_mux=rtcp_mux)
        if connect and count >= 2:
            a, b = opened[0], opened[1]
            assert a.local_address and b.local_address
            a.set_remote(*b.local_address, rtcp_mux=rtcp_mux)
            b.set_remote(*a.local_address, rtcp_mux=rtcp_mux)
        yield opened
    finally:
        for session in opened:
            await session.close()


async def send_stream(session: RtpSession, count: int, *, start_ts: int = 0, pause: float = 0.0) -> None:
    for index in range(count):
        session.send(bytes([index % 256]) * 160, payload_type=0, timestamp=start_ts + 160 * index)
        await asyncio.sleep(pause)


def rtp_bytes(
    seq: int, *, ssrc: int = 0xCAFEBABE, ts: int | None = None, payload: bytes = b"x" * 160
) -> bytes:
    timestamp = seq * 160 if ts is None else ts
    return RtpPacket(
        payload_type=8, sequence_number=seq, timestamp=timestamp, ssrc=ssrc, payload=payload
    ).serialize()


def keyed_pair(suite: str) -> tuple[SrtpContext, SrtpContext]:
    a, b = SrtpKey.generate(suite), SrtpKey.generate(suite)
    return SrtpContext(tx=a, rx=b), SrtpContext(tx=b, rx=a)


# ---------------------------------------------------------------- basics


def test_exchange_50_packets() -> None:
    async def main() -> None:
        got_a, got_b = Received(), Received()
        async with sessions() as (a, b):
            a.on_packet, b.on_packet = got_a, got_b
            payloads = [bytes([i]) * (20 + i) for i in range(50)]
            for index, payload in enumerate(payloads):
                a.send(payload, payload_type=0, timestamp=1000 + 160 * index, marker=index == 0)
                b.send(payload[::-1], payload_type=8, timestamp=160 * index)
            await wait_for(lambda: len(got_b.packets) == 50 and len(got_a.packets) == 50)

            assert [p.payload for p in got_b.packets] == payloads
            assert [p.payload for p in got_a.packets] == [p[::-1] for p in payloads]
            first = got_b.packets[0].sequence_number
            assert [p.sequence_number for p in got_b.packets] == [(first + i) & 0xFFFF for i in range(50)]
            assert [p.timestamp for p in got_b.packets] == [1000 + 160 * i for i in range(50)]
            assert {p.ssrc for p in got_b.packets} == {a.ssrc}
            assert [p.marker for p in got_b.packets[:2]] == [1, 0]
            assert {p.payload_type for p in got_b.packets} == {0}
            assert {p.payload_type for p in got_a.packets} == {8}
            assert got_b.arrivals == sorted(got_b.arrivals)
            assert b.last_received == got_b.arrivals[-1]

            sa, sb = a.stats(), b.stats()
            assert sa.packets_sent == sb.packets_received == 50
            assert sa.octets_sent == sb.octets_received == sum(map(len, payloads))
            assert sb.packets_lost == 0 and sb.invalid == 0 and sb.srtp_failures == 0
            assert sb.remote_ssrc == a.ssrc
            assert sb.remote == a.local_address and not sb.latched

    run(main())


def test_open_binds_even_rtp_and_rtcp_port_plus_one() -> None:
    async def main() -> None:
        async with sessions(3, connect=False) as opened:
            for session in opened:
                assert session.local_address is not None and session.local_rtcp_address is not None
                host, port = session.local_address
                assert host == HOST and port % 2 == 0
                assert session.local_rtcp_address == (HOST, port + 1)
        async with sessions(1, rtcp_mux=True, connect=False) as (muxed,):
            assert muxed.local_address is not None and muxed.local_rtcp_address is None

    run(main())


def free_even_block(size: int) -> int:
    """An even port p such that p .. p+size-1 are free right now."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            base = int(probe.getsockname()[1]) & ~1
        if base + size >= 65536:
            continue
        socks = []
        try:
            for port in range(base, base + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((HOST, port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


def test_port_range_skips_ports_in_use() -> None:
    async def main() -> None:
        base = free_even_block(6)
        blockers = []
        try:
            # base: RTP taken; base+2 free but base+3 (its RTCP) taken -> only base+4 works
            for port in (base, base + 3):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((HOST, port))
                blockers.append(s)
            session = RtpSession()
            try:
                assert await session.open(HOST, port_range=(base, base + 5)) == (HOST, base + 4)
                assert session.local_rtcp_address == (HOST, base + 5)
            finally:
                await session.close()
            # nothing left in a range that is all taken
            full = RtpSession()
            with pytest.raises(OSError) as info:
                await full.open(HOST, port_range=(base, base + 3))
            assert info.value.errno == errno.EADDRINUSE
            await full.close()
        finally:
            for s in blockers:
                s.close()

    run(main())


def test_explicit_port_in_use() -> None:
    async def main() -> None:
        async with sessions(1, connect=False) as (first,):
            assert first.local_address is not None
            second = RtpSession()
            with pytest.raises(OSError):
                await second.open(HOST, first.local_address[1])
            await second.close()

    run(main())


def test_send_before_remote_is_dropped_and_bad_payload_type_refused() -> None:
    async def main() -> None:
        async with sessions(1, connect=False) as (a,):
            a.send(b"abc", payload_type=0, timestamp=0)
            assert a.stats().packets_sent == 0
            for pt in (-1, 64, 72, 95, 128):
                with pytest.raises(ValueError):
                    a.send(b"abc", payload_type=pt, timestamp=0)

    run(main())


def test_unspecified_remote_address_means_send_nothing() -> None:
    async def main() -> None:
        got = Received()
        async with sessions() as (a, b):
            assert b.local_address is not None
            b.on_packet = got
            a.set_remote("0.0.0.0", b.local_address[1], rtcp_mux=False)  # hold, RFC 2543 style
            a.send(b"held", payload_type=0, timestamp=0)
            a.send_rtcp_report()
            assert a.remote is None and a.stats().packets_sent == 0
            a.set_remote(*b.local_address, rtcp_mux=False)  # resumed
            a.send(b"resumed", payload_type=0, timestamp=160)
            await wait_for(lambda: len(got.packets) == 1)
            assert got.packets[0].payload == b"resumed"

    run(main())


# ---------------------------------------------------------------- SRTP


@pytest.mark.parametrize("suite", SUITES)
def test_srtp_end_to_end(suite: str) -> None:
    async def main() -> None:
        got_a, got_b = Received(), Received()
        async with sessions(rtcp_interval=0.05) as (a, b):
            ctx_a, ctx_b = keyed_pair(suite)
            a.set_srtp(ctx_a)
            b.set_srtp(ctx_b.tx_key, ctx_b.rx_key)  # the two-key form
            a.on_packet, b.on_packet = got_a, got_b
            # a sniffer sees only ciphertext
            sniffer = await raw_peer()
            a.set_remote(*sniffer.address, rtcp_mux=False)
            a.send(b"secret audio" * 10, payload_type=0, timestamp=0)
            await wait_for(lambda: len(sniffer.datagrams) == 1)
            wire = sniffer.datagrams[0][0]
            assert b"secret audio" not in wire
            assert len(wire) == 12 + 120 + (10 if suite.endswith("80") else 4)
            sniffer.close()

            assert b.local_address is not None
            a.set_remote(*b.local_address, rtcp_mux=False)
            await asyncio.gather(
                send_stream(a, 20, start_ts=160, pause=0.005), send_stream(b, 20, pause=0.005)
            )
            await wait_for(lambda: len(got_b.packets) == 20 and len(got_a.packets) == 20)
            assert [p.payload for p in got_b.packets] == [bytes([i]) * 160 for i in range(20)]
            # SRTCP works too: reports arrive and give an RTT
            await wait_for(lambda: a.stats().rtt_ms is not None and b.stats().rtt_ms is not None)
            assert a.stats().srtp_failures == 0 and b.stats().srtp_failures == 0
            assert a.stats().invalid == 0 and b.stats().invalid == 0

    run(main())


def test_srtp_wrong_key_delivers_nothing() -> None:
    async def main() -> None:
        got = Received()
        async with sessions(rtcp_interval=0.05) as (a, b):
            a.set_srtp(
                SrtpKey.generate("AES_CM_128_HMAC_SHA1_80"), SrtpKey.generate("AES_CM_128_HMAC_SHA1_80")
            )
            b.set_srtp(
                SrtpKey.generate("AES_CM_128_HMAC_SHA1_80"), SrtpKey.generate("AES_CM_128_HMAC_SHA1_80")
            )
            b.on_packet = got
            await send_stream(a, 10)
            await wait_for(lambda: b.stats().srtp_failures >= 10)
            await asyncio.sleep(0.15)  # some SRTCP from a arrives too, and fails
            stats = b.stats()
            assert got.packets == [] and stats.packets_received == 0 and b.last_received is None
            assert stats.srtp_failures > 10  # RTP and RTCP
            assert stats.rtt_ms is None and stats.remote_ssrc is None

    run(main())


def test_srtp_can_be_turned_off() -> None:
    async def main() -> None:
        got = Received()
        async with sessions() as (a, b):
            ctx_a, ctx_b = keyed_pair("AES_CM_128_HMAC_SHA1_80")
            a.set_srtp(ctx_a)
            b.set_srtp(ctx_b)
            b.on_packet = got
            a.send(b"one", payload_type=0, timestamp=0)
            await wait_for(lambda: len(got.packets) == 1)
            a.set_srtp(None)
            b.set_srtp(None)
            a.send(b"two", payload_type=0, timestamp=160)
            await wait_for(lambda: len(got.packets) == 2)
            assert [p.payload for p in got.packets] == [b"one", b"two"]
            with pytest.raises(ValueError):
                a.set_srtp(ctx_a, SrtpKey.generate())

    run(main())


# ---------------------------------------------------------------- latching


def test_latching_to_real_source() -> None:
    async def main() -> None:
        got_b = Received()
        trap = await raw_peer()  # the (wrong) address the SDP gave
        try:
            async with sessions(connect=False) as (a, b):
                assert a.local_address is not None
                b.on_packet = got_b
                a.set_remote(*trap.address, rtcp_mux=False)
                b.set_remote(*a.local_address, rtcp_mux=False)
                a.send(b"before", payload_type=0, timestamp=0)
                await wait_for(lambda: len(trap.datagrams) == 1)
                assert not a.latched

                b.send(b"hello", payload_type=0, timestamp=0)
                await wait_for(lambda: a.latched)
                assert a.remote == b.local_address
                assert a.stats().latched and a.stats().remote == b.local_address

                a.send(b"after", payload_type=0, timestamp=160)
                await wait_for(lambda: len(got_b.packets) == 1)
                assert got_b.packets[0].payload == b"after"
                assert len(trap.datagrams) == 1
                # RTCP latches too (separate port): b's report comes from its RTCP port
                b.send_rtcp_report()
                await wait_for(lambda: a.remote_rtcp == b.local_rtcp_address)
                # same SDP again (re-INVITE) keeps the latch
                a.set_remote(*trap.address, rtcp_mux=False)
                assert a.latched and a.remote == b.local_address
        finally:
            trap.close()

    run(main())


def test_no_relatch_for_same_ssrc_from_elsewhere() -> None:
    async def main() -> None:
        intruder = await raw_peer()
        try:
            async with sessions() as (a, b):
                b.send(b"legit", payload_type=0, timestamp=0)
                await wait_for(lambda: a.stats().packets_received == 1)
                assert a.local_address is not None
                # b's SSRC but from another address: the destination was decided for this SSRC already
                intruder.send(rtp_bytes(1, ssrc=b.ssrc), a.local_address)
                await wait_for(lambda: a.stats().packets_received == 2)
                assert a.remote == b.local_address and not a.latched
        finally:
            intruder.close()

    run(main())


def test_no_latching_to_unauthenticated_packets() -> None:
    async def main() -> None:
        got_b = Received()
        attacker = await raw_peer()
        try:
            async with sessions() as (a, b):
                assert a.local_address is not None
                ctx_a, ctx_b = keyed_pair("AES_CM_128_HMAC_SHA1_80")
                a.set_srtp(ctx_a)
                b.set_srtp(ctx_b)
                b.on_packet = got_b
                # plain RTP, SRTP under another key, and SRTCP under another key, from a new address
                eve = SrtpContext(tx=SrtpKey.generate(), rx=SrtpKey.generate())
                attacker.send(rtp_bytes(1), a.local_address)
                attacker.send(eve.protect_rtp(rtp_bytes(2)), a.local_address)
                rr = bytes.fromhex("81c90007") + b.ssrc.to_bytes(4, "big") + bytes(24)
                attacker.send(eve.protect_rtcp(rr), a.local_address)
                await wait_for(lambda: a.stats().srtp_failures == 3)
                assert not a.latched and a.remote == b.local_address and a.stats().packets_received == 0
                a.send(b"still to b", payload_type=0, timestamp=0)
                await wait_for(lambda: len(got_b.packets) == 1)
                assert attacker.datagrams == []
        finally:
            attacker.close()

    run(main())


def test_srtp_latches_to_authenticated_source() -> None:
    async def main() -> None:
        trap = await raw_peer()
        try:
            async with sessions(connect=False) as (a, b):
                assert a.local_address is not None
                ctx_a, ctx_b = keyed_pair("AES_CM_128_HMAC_SHA1_32")
                a.set_srtp(ctx_a)
                b.set_srtp(ctx_b)
                a.set_remote(*trap.address, rtcp_mux=False)
                b.set_remote(*a.local_address, rtcp_mux=False)
                b.send(b"hi", payload_type=0, timestamp=0)
                await wait_for(lambda: a.latched)
                assert a.remote == b.local_address
        finally:
            trap.close()

    run(main())


def test_ssrc_change_is_accepted_and_relatches_once() -> None:
    async def main() -> None:
        got = Received()
        first, second = await raw_peer(), await raw_peer()
        try:
            async with sessions(1, connect=False) as (a,):
                assert a.local_address is not None
                a.on_packet = got
                a.set_remote(*first.address, rtcp_mux=False)
                for seq in range(100, 105):
                    first.send(rtp_bytes(seq, ssrc=1), a.local_address)
                await wait_for(lambda: len(got.packets) == 5)
                assert not a.latched
                # the far end moved (transfer behind a B2BUA): new SSRC from a new address
                for seq in (7000, 7001, 7003):
                    second.send(rtp_bytes(seq, ssrc=2), a.local_address)
                await wait_for(lambda: len(got.packets) == 8)
                stats = a.stats()
                assert a.latched and a.remote == second.address
                assert stats.remote_ssrc == 2
                assert stats.packets_lost == 1  # statistics restarted with the new SSRC (7002 missing)
                assert stats.packets_received == 8
        finally:
            first.close()
            second.close()

    run(main())


# ---------------------------------------------------------------- receive robustness


def test_garbage_is_counted_not_raised() -> None:
    async def main() -> None:
        got = Received()
        sender = await raw_peer()
        try:
            async with sessions(1, connect=False) as (a,):
                assert a.local_address is not None and a.local_rtcp_address is not None
                a.on_packet = got
                a.set_remote(*sender.address, rtcp_mux=False)
                garbage = [
                    b"\x00",
                    b"hello world, this is not RTP",
                    bytes(11) + b"\x80",
                    b"\x80\x00\x00",  # short RTP
                    b"\x40" + bytes(30),  # version 1
                    b"\x8f" + bytes(11),  # 15 CSRCs announced, none present
                    b"\x90" + bytes(11),  # extension announced, none present
                    b"\xa0" + bytes(11) + b"\xff",  # padding longer than the packet
                    b"\x81\xc8\x00\x10" + bytes(8),  # RTCP SR, truncated
                    b"\x80\xc9\x00\x05" + bytes(4),  # RTCP RR, length beyond the datagram
                    b"\x81\xc9\x00\x01" + bytes(4),  # RTCP RR announcing a block it lacks
                ]
                for data in garbage:
                    sender.send(data, a.local_address)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
                    raw.sendto(b"", a.local_address)  # asyncio's sendto() would skip an empty datagram
                rtcp_garbage = [b"\x01\x02", rtp_bytes(3), b"\x80\xc8\xff\xff" + bytes(20)]
                for data in rtcp_garbage:
                    sender.send(data, a.local_rtcp_address)
                await wait_for(lambda: a.stats().invalid == len(garbage) + 1 + len(rtcp_garbage))
                assert got.packets == [] and not a.latched
                sender.send(rtp_bytes(5), a.local_address)
                await wait_for(lambda: len(got.packets) == 1)
                assert a.stats().invalid == len(garbage) + 1 + len(rtcp_garbage)
        finally:
            sender.close()

    run(main())


def test_callback_exception_does_not_break_session() -> None:
    async def main() -> None:
        calls: list[int] = []

        def broken(packet: RtpPacket, arrival: float) -> None:
            calls.append(packet.sequence_number)
            raise RuntimeError("consumer bug")

        async with sessions() as (a, b):
            b.on_packet = broken
            await send_stream(a, 3)
            await wait_for(lambda: len(calls) == 3)
            assert b.stats().invalid == 0 and b.stats().packets_received == 3

    run(main())


def test_loss_and_reorder_statistics() -> None:
    async def main() -> None:
        sender = await raw_peer()
        try:
            async with sessions(1, connect=False) as (a,):
                assert a.local_address is not None
                a.set_remote(*sender.address, rtcp=sender.address, rtcp_mux=False)
                for seq in (65530, 65531, 65533, 65535, 0, 2, 1, 4):  # wraps; 65532, 65534, 3 lost
                    sender.send(rtp_bytes(seq, ts=seq * 160 & 0xFFFFFFFF), a.local_address)
                await wait_for(lambda: a.stats().packets_received == 8)
                assert a.stats().packets_lost == 3
                a.send_rtcp_report()  # computes the interval's fraction lost
                await wait_for(lambda: any(is_rtcp_packet(d) for d, _ in sender.datagrams))
                assert a.stats().fraction_lost == pytest.approx(3 / 11, abs=1 / 256)
        finally:
            sender.close()

    run(main())


# ---------------------------------------------------------------- RTCP


def test_rtcp_reports_rtt_and_jitter() -> None:
    async def main() -> None:
        seen: list[AnyRtcpPacket] = []
        async with sessions(rtcp_interval=0.05) as (a, b):
            a.on_rtcp = seen.append
            task_a = asyncio.create_task(send_stream(a, 1000, pause=0.01))
            task_b = asyncio.create_task(send_stream(b, 1000, pause=0.01))
            try:
                await wait_for(
                    lambda: (
                        a.stats().rtt_ms is not None
                        and b.stats().rtt_ms is not None
                        and a.stats().remote_jitter_ms is not None
                    ),
                    timeout=5,
                )
            finally:
                task_a.cancel()
                task_b.cancel()
            for stats in (a.stats(), b.stats()):
                assert stats.rtt_ms is not None and 0 <= stats.rtt_ms < 100
                assert stats.remote_jitter_ms is not None and 0 <= stats.remote_jitter_ms < 100
                assert stats.remote_packets_lost == 0 and stats.remote_fraction_lost == 0
                assert stats.packets_lost == 0 and 0 <= stats.jitter_ms < 100
            srs = [p for p in seen if isinstance(p, RtcpSrPacket)]
            assert srs and srs[-1].ssrc == b.ssrc
            assert srs[-1].sender_info.packet_count <= b.stats().packets_sent
            sdes = [p for p in seen if isinstance(p, RtcpSdesPacket)]
            assert sdes and sdes[0].chunks[0].items == [(1, b.cname.encode())]
            assert a.last_rtcp_received is not None

    run(main())


def test_rtcp_rr_from_receive_only_peer_gives_rtt() -> None:
    async def main() -> None:
        async with sessions(rtcp_interval=0.05) as (a, b):
            task = asyncio.create_task(send_stream(a, 1000, pause=0.01))
            try:
                await wait_for(lambda: a.stats().rtt_ms is not None, timeout=5)
            finally:
                task.cancel()
            assert b.stats().packets_sent == 0 and b.stats().rtt_ms is None  # b sends only RR
            rtt = a.stats().rtt_ms
            assert rtt is not None and 0 <= rtt < 100

    run(main())


def test_rtcp_mux_single_port() -> None:
    async def main() -> None:
        got_a, got_b = Received(), Received()
        async with sessions(rtcp_mux=True, rtcp_interval=0.05) as (a, b):
            a.on_packet, b.on_packet = got_a, got_b
            assert a.local_rtcp_address is None and a.remote_rtcp == a.remote == b.local_address
            task_a = asyncio.create_task(send_stream(a, 1000, pause=0.01))
            task_b = asyncio.create_task(send_stream(b, 1000, pause=0.01))
            try:
                await wait_for(lambda: a.stats().rtt_ms is not None and b.stats().rtt_ms is not None)
            finally:
                task_a.cancel()
                task_b.cancel()
            await asyncio.sleep(0.05)
            for session, got in ((a, got_a), (b, got_b)):
                stats = session.stats()
                assert stats.invalid == 0
                assert stats.packets_received == len(got.packets) > 0  # RTCP never taken for RTP
                assert all(p.payload_type == 0 for p in got.packets)

    run(main())


def test_rtcp_mux_with_srtp_latches_on_rtcp() -> None:
    async def main() -> None:
        trap = await raw_peer()
        try:
            async with sessions(rtcp_mux=True, connect=False, rtcp_interval=0.05) as (a, b):
                assert a.local_address is not None
                ctx_a, ctx_b = keyed_pair("AES_CM_128_HMAC_SHA1_80")
                a.set_srtp(ctx_a)
                b.set_srtp(ctx_b)
                a.set_remote(*trap.address, rtcp_mux=True)
                b.set_remote(*a.local_address, rtcp_mux=True)
                # b is receive-only: only its SRTCP reports reach a, and they are enough to latch
                await wait_for(lambda: a.latched)
                assert a.remote == a.remote_rtcp == b.local_address
        finally:
            trap.close()

    run(main())


def test_close_sends_bye() -> None:
    async def main() -> None:
        rtp_peer, rtcp_peer = await raw_peer(), await raw_peer()
        try:
            session = RtpSession()
            await session.open(HOST)
            session.set_remote(*rtp_peer.address, rtcp=rtcp_peer.address, rtcp_mux=False)
            session.send(b"x", payload_type=0, timestamp=0)
            await session.close()
            await session.close()  # idempotent
            await wait_for(lambda: len(rtcp_peer.datagrams) == 1)
            data, source = rtcp_peer.datagrams[0]
            assert source == session.local_rtcp_address
            packets = RtcpPacket.parse(data)
            assert isinstance(packets[0], RtcpSrPacket) and packets[0].ssrc == session.ssrc
            assert isinstance(packets[1], RtcpSdesPacket)
            assert isinstance(packets[2], RtcpByePacket) and packets[2].sources == [session.ssrc]
            session.send(b"late", payload_type=0, timestamp=160)  # after close: dropped quietly
            assert len(rtp_peer.datagrams) == 1
        finally:
            rtp_peer.close()
            rtcp_peer.close()

    run(main())


def test_bye_received_between_sessions() -> None:
    async def main() -> None:
        async with sessions(rtcp_mux=True) as (a, b):
            ctx_a, ctx_b = keyed_pair("AES_CM_128_HMAC_SHA1_80")
            a.set_srtp(ctx_a)
            b.set_srtp(ctx_b)
            await a.close()
            await wait_for(lambda: b.bye_received)
            assert b.stats().bye_received and b.stats().srtp_failures == 0

    run(main())


# ---------------------------------------------------------------- deferred reads (the audio clock reads RTP)


def deferred_reads_supported() -> bool:
    async def probe() -> bool:
        async with sessions(1, connect=False) as (session,):
            return session.defer_reads(True)

    return run(probe())


needs_deferred_reads = pytest.mark.skipif(
    not deferred_reads_supported(), reason="deferred reads need Linux (SO_TIMESTAMPNS)"
)


@needs_deferred_reads
def test_deferred_reads_keep_the_kernel_arrival_time() -> None:
    async def main() -> None:
        got = Received()
        async with sessions() as (a, b):
            ctx_a, ctx_b = keyed_pair("AES_CM_128_HMAC_SHA1_80")
            a.set_srtp(ctx_a)
            b.set_srtp(ctx_b)
            b.on_packet = got
            assert b.defer_reads(True) and b.defer_reads(True)  # idempotent
            # the kernel switches timestamping on with deferred work when the first socket asks
            # (at open): in a call media starts later, here give it a moment
            await asyncio.sleep(0.05)
            loop = asyncio.get_running_loop()
            sent: list[tuple[float, float]] = []
            for index in range(5):
                before = loop.time()
                a.send(bytes([index]) * 160, payload_type=0, timestamp=160 * index)
                sent.append((before, loop.time()))  # on loopback, sendto() delivers the datagram
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.05)
            assert got.packets == []  # nothing is read until the owner asks
            read_at = loop.time()
            b.read_deferred()
            assert [p.payload[0] for p in got.packets] == [0, 1, 2, 3, 4]
            for (before, after), arrival in zip(sent, got.arrivals, strict=True):
                assert before - 0.001 <= arrival <= after + 0.001
                assert arrival < read_at - 0.04
            assert b.last_received == got.arrivals[-1]
            stats = b.stats()
            assert stats.packets_received == 5 and stats.srtp_failures == 0 and stats.invalid == 0
            # the RTCP jitter is computed on arrival times too (stamped at the read, the five packets
            # would differ by 20 ms each from their timestamps: 4.5 ms of jitter)
            assert stats.jitter_ms < 3.5

            b.read_deferred()  # nothing waiting: nothing happens
            assert len(got.packets) == 5
            assert b.defer_reads(False)
            a.send(b"z" * 160, payload_type=0, timestamp=800)
            await wait_for(lambda: len(got.packets) == 6)  # read by the event loop again

    run(main())


@needs_deferred_reads
def test_deferred_reads_handle_rtcp_on_the_rtp_port_and_latching() -> None:
    async def main() -> None:
        got = Received()
        rtcp: list[AnyRtcpPacket] = []
        async with sessions(rtcp_mux=True) as (a, b):
            peer = await raw_peer()
            try:
                assert a.local_address is not None
                a.on_packet = got
                a.on_rtcp = rtcp.append
                assert a.defer_reads(True)
                peer.send(rtp_bytes(1), a.local_address)
                await asyncio.sleep(0.05)
                assert got.packets == []
                a.read_deferred()
                assert len(got.packets) == 1
                assert a.latched and a.remote == peer.address  # new SSRC from elsewhere: latched
                b.send_rtcp_report()  # muxed RTCP comes in on the RTP socket: read on the clock too
                await asyncio.sleep(0.05)
                assert rtcp == []
                a.read_deferred()
                assert any(getattr(packet, "ssrc", None) == b.ssrc for packet in rtcp)
            finally:
                peer.close()

    run(main())


@needs_deferred_reads
def test_deferred_reads_stop_at_close() -> None:
    async def main() -> None:
        async with sessions() as (a, b):
            assert b.defer_reads(True)
            a.send(b"x" * 160, payload_type=0, timestamp=0)
            await b.close()
            b.read_deferred()  # closed: nothing read, no error
            assert b.stats().packets_received == 0
            assert not b.defer_reads(True)

    run(main())


def test_deferred_reads_refused_with_an_attached_transport() -> None:
    async def main() -> None:
        async with sessions(1, connect=False) as (session,):
            session.attach_transport(lambda data: None)
            assert not session.defer_reads(True)
            session.read_deferred()  # not deferred: nothing to do

    run(main())


def test_reception_statistics_match_aiortc() -> None:
    """The statistics behind the RTCP report blocks compute what aiortc's StreamStatistics does."""
    import random
    from unittest import mock

    from aiortc.rtcrtpreceiver import StreamStatistics

    from softphone.media.rtp import _ReceptionStatistics

    for trial in range(20):
        rng = random.Random(trial)
        ours, theirs = _ReceptionStatistics(8000), StreamStatistics(8000)
        seq, ts, wall = rng.randrange(65536), rng.randrange(1 << 32), 1.7e9
        for index in range(300):
            if rng.random() < 0.05:
                continue  # lost
            jump = rng.randrange(-3, 4) if rng.random() < 0.1 else 0  # reordered
            packet = RtpPacket(
                payload_type=0,
                sequence_number=(seq + index + jump) & 0xFFFF,
                timestamp=(ts + 160 * index) & 0xFFFFFFFF,
                ssrc=1,
            )
            arrival = wall + 0.02 * index + rng.expovariate(100.0)
            with mock.patch("aiortc.rtcrtpreceiver.time.time", return_value=arrival):
                theirs.add(packet)
            ours.add(packet, arrival)
            if rng.random() < 0.05:
                assert ours.fraction_lost == theirs.fraction_lost
        assert (ours.base_seq, ours.max_seq, ours.cycles, ours.packets_received) == (
            theirs.base_seq,
            theirs.max_seq,
            theirs.cycles,
            theirs.packets_received,
        )
        assert (ours.jitter, ours.packets_lost) == (theirs.jitter, theirs.packets_lost)


# -- the receive path's RTP parser -------------------------------------------------------------------


def _fields(packet: RtpPacket) -> tuple[Any, ...]:
    return (
        packet.version,
        packet.marker,
        packet.payload_type,
        packet.sequence_number,
        packet.timestamp,
        packet.ssrc,
        packet.csrc,
        packet.extensions,
        packet.payload,
        packet.padding_size,
    )


@pytest.mark.parametrize(
    "packet",
    [
        RtpPacket(payload_type=0, sequence_number=1, timestamp=160, ssrc=0xDEADBEEF, payload=b"\xff" * 160),
        RtpPacket(
            payload_type=111, marker=1, sequence_number=65535, timestamp=0xFFFFFFFF, ssrc=1, payload=b"x"
        ),
        RtpPacket(payload_type=101, sequence_number=7, timestamp=8, ssrc=9, payload=b""),
    ],
)
def test_the_rtp_parser_reads_plain_packets_as_aiortc_does(packet: RtpPacket) -> None:
    data = packet.serialize()
    assert _fields(parse_rtp(data)) == _fields(RtpPacket.parse(data))


def test_the_rtp_parser_leaves_csrc_padding_and_extensions_to_aiortc() -> None:
    packet = RtpPacket(payload_type=0, sequence_number=3, timestamp=480, ssrc=5, payload=b"abc")
    packet.csrc = [1, 2]
    packet.padding_size = 4
    data = packet.serialize()
    parsed = parse_rtp(data)
    assert parsed.csrc == [1, 2] and parsed.padding_size == 4 and parsed.payload == b"abc"
    for bad in (b"\x80\x00\x00", b"\x40" + bytes(20), b"\x81" + bytes(11)):  # short, version 1, CSRC cut
        with pytest.raises(ValueError):
            parse_rtp(bad)
