"""ICE for classic SIP calls (softphone.media.ice, RtpSession.attach_transport, AudioCallMedia with ice=True).

aioice never gathers loopback addresses, so everything that connects runs between throw-away network
namespaces (tests.peers.netns: 10.200.x.y addresses that exist only inside them); those tests are skipped
when namespaces cannot be created (not root, no iproute2).  TURN tests also need coturn's ``turnserver``,
the CLI call with audio needs espeak-ng and sox.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pytest
from aiortc.rtp import RtpPacket

from softphone.media.audio import FRAME_SAMPLES, RATE
from softphone.media.ice import IceError, IceTransport, parse_server, to_aioice_candidate, to_sdp_candidate
from softphone.media.rtp import RtpSession
from softphone.media.sdp import Candidate, parse_sdp
from softphone.media.session import AudioCallMedia, MediaOptions
from softphone.media.srtp import SrtpContext, SrtpKey
from tests.peers import softphone_cli
from tests.peers.audio import audio_tools_available, compare, speech_wav
from tests.peers.coturn import TurnServer, coturn_available
from tests.peers.netns import Netns, Topology, netns_unavailable_reason, two_hosts
from tests.peers.softphone_cli import CliProcess

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


needs_netns = pytest.mark.skipif(
    netns_unavailable_reason() is not None,
    reason=f"ICE needs network namespaces: {netns_unavailable_reason()}",
)
needs_coturn = pytest.mark.skipif(
    not coturn_available(), reason="turnserver not found (apt-get install coturn)"
)


class Datagrams:
    """on_datagram sink."""

    def __init__(self) -> None:
        self.items: list[tuple[bytes, tuple[str, int]]] = []
        self.arrivals: list[float | None] = []

    def __call__(self, data: bytes, source: tuple[str, int], arrival: float | None = None) -> None:
        self.items.append((data, source))
        self.arrivals.append(arrival)

    @property
    def data(self) -> list[bytes]:
        return [d for d, _ in self.items]


class Tone:
    """A 440 Hz source (AudioSource)."""

    def __init__(self) -> None:
        self._n = 0

    def read(self) -> np.ndarray:
        t = (np.arange(FRAME_SAMPLES) + self._n) / RATE
        self._n += FRAME_SAMPLES
        return (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- no network needed


def test_parse_server_forms() -> None:
    assert parse_server(None) is None and parse_server("") is None
    assert parse_server("stun.example.com") == (("stun.example.com", 3478), "udp", False)
    assert parse_server("10.0.0.1:3479") == (("10.0.0.1", 3479), "udp", False)
    assert parse_server("stun:[2001:db8::1]:5000") == (("2001:db8::1", 5000), "udp", False)
    assert parse_server("turn:turn.example.com?transport=tcp", turn=True) == (
        ("turn.example.com", 3478),
        "tcp",
        False,
    )
    assert parse_server("turns:turn.example.com", turn=True) == (("turn.example.com", 5349), "tcp", True)
    with pytest.raises(ValueError):
        parse_server("host:notaport")
    with pytest.raises(ValueError):
        parse_server("turns:x.example.com")  # TLS is for TURN only


def test_candidate_conversion_round_trip() -> None:
    text = "4242 1 UDP 16777215 203.0.113.7 40000 typ relay raddr 198.51.100.2 rport 5000 generation 0"
    ours = Candidate.parse(text)
    theirs = to_aioice_candidate(ours)
    assert (theirs.host, theirs.port, theirs.type, theirs.priority) == (
        "203.0.113.7",
        40000,
        "relay",
        16777215,
    )
    assert (theirs.related_address, theirs.related_port, theirs.generation) == ("198.51.100.2", 5000, 0)
    assert str(to_sdp_candidate(theirs)) == text


def test_unused_transport_is_safe() -> None:
    async def main() -> None:
        ice = IceTransport()
        assert ice.selected_pair() is None
        ice.send(b"x")
        assert ice.packets_dropped == 1
        with pytest.raises(RuntimeError):
            ice.local_parameters()
        await ice.close()
        await ice.close()
        with pytest.raises(IceError):
            await IceTransport().gather(relay_only=True)  # no TURN server

    run(main())


def test_rtp_session_over_an_attached_transport() -> None:
    """RtpSession.attach_transport: RTP, muxed RTCP and SRTP go through the hook, the socket is closed."""

    async def main() -> None:
        a, b = RtpSession(rtcp_interval=0.1), RtpSession(rtcp_interval=0.1)
        got: list[RtpPacket] = []
        b.on_packet = lambda packet, arrival: got.append(packet)
        wire_ab: list[bytes] = []
        wire_ba: list[bytes] = []

        def a_to_b(data: bytes) -> None:
            wire_ab.append(data)
            b.receive_datagram(data, ("192.0.2.1", 1000))

        def b_to_a(data: bytes) -> None:
            wire_ba.append(data)
            a.receive_datagram(data, ("192.0.2.2", 2000))

        await a.open("127.0.0.1", rtcp_mux=True)
        await b.open("127.0.0.1", rtcp_mux=True)
        try:
            a.attach_transport(a_to_b)
            b.attach_transport(b_to_a)
            # the SDP address is irrelevant to the transport, but a remote must be set
            a.set_remote("192.0.2.2", 2000, rtcp_mux=True)
            b.set_remote("192.0.2.1", 1000, rtcp_mux=True)
            tx, rx = SrtpKey.generate("AES_CM_128_HMAC_SHA1_80"), SrtpKey.generate("AES_CM_128_HMAC_SHA1_80")
            a.set_srtp(SrtpContext(tx=tx, rx=rx))
            b.set_srtp(SrtpContext(tx=rx, rx=tx))
            for index in range(20):
                a.send(b"payload%d" % index, payload_type=0, timestamp=160 * index)
            await wait_for(lambda: len(got) == 20 and a.last_rtcp_received is not None, timeout=5)
            assert [p.payload for p in got] == [b"payload%d" % i for i in range(20)]
            assert all(b"payload" not in d for d in wire_ab)  # encrypted on the wire
            assert wire_ba  # b's RTCP reports reached a through the hook
            assert b.stats().packets_received == 20 and b.stats().srtp_failures == 0
            assert a.is_open
            before_close = len(wire_ab)
        finally:
            await a.close()
            await b.close()
        assert len(wire_ab) == before_close + 1  # the RTCP BYE went through the hook too

    run(main())


def test_ice_off_keeps_the_offer_free_of_ice() -> None:
    async def main() -> None:
        media = AudioCallMedia(MediaOptions(codecs=["PCMU"], srtp="off"))
        await media.open("127.0.0.1")
        try:
            offer = media.offer()
            assert b"a=ice-" not in offer and b"a=candidate" not in offer
            assert media.ice is None
            assert "ice" not in media.info()
        finally:
            await media.stop()

    run(main())


# ---------------------------------------------------------------- between namespaces


@needs_netns
def test_two_transports_connect_and_exchange_datagrams() -> None:
    async def main(a: Netns, b: Netns) -> None:
        got_a, got_b = Datagrams(), Datagrams()
        ice_a, ice_b = IceTransport(on_datagram=got_a), IceTransport(on_datagram=got_b)
        try:
            with a.entered():
                await ice_a.gather()
            with b.entered():
                await ice_b.gather()
            params_a, params_b = ice_a.local_parameters(), ice_b.local_parameters()
            assert [c.address for c in params_a.candidates] == [a.address]
            assert [c.type for c in params_b.candidates] == ["host"]
            assert re.fullmatch(r"[A-Za-z0-9+/]{4,}", params_a.ufrag) and len(params_a.pwd) >= 22
            assert params_a.options == ["ice2"]
            assert ice_a.default_candidate().address == a.address

            pair_a, pair_b = await asyncio.gather(
                ice_a.connect(params_b, controlling=True), ice_b.connect(params_a, controlling=False)
            )
            assert (pair_a.local.address, pair_a.remote.address) == (a.address, b.address)
            assert (pair_b.local.address, pair_b.remote.address) == (b.address, a.address)
            assert pair_a.local_type == pair_a.remote_type == "host"
            assert ice_a.state == ice_b.state == "connected"
            assert ice_a.controlling is True and ice_b.controlling is False

            for index in range(10):
                ice_a.send(b"a%d" % index)
                ice_b.send(b"b%d" % index)
            await wait_for(lambda: len(got_a.items) == 10 and len(got_b.items) == 10)
            assert got_b.data == [b"a%d" % i for i in range(10)]
            assert got_a.data == [b"b%d" % i for i in range(10)]
            assert got_b.items[0][1] == (a.address, pair_a.local.port)
            assert ice_a.stats()["ice_local"] == f"host {a.address}:{pair_a.local.port}"
        finally:
            await ice_a.close()
            await ice_b.close()
        assert ice_a.state == "closed" and ice_a.selected_pair() is None

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
def test_arrival_times_are_the_kernels_not_the_event_loops() -> None:
    """A receiver whose event loop is busy must not take the wait for network jitter: each datagram comes
    with the time it reached the host (the jitter buffer's delay estimate is built from these)."""

    async def main(a: Netns, b: Netns) -> None:
        got_b = Datagrams()
        ice_a, ice_b = IceTransport(), IceTransport(on_datagram=got_b)
        try:
            with a.entered():
                await ice_a.gather()
            with b.entered():
                await ice_b.gather()
            await asyncio.gather(
                ice_a.connect(ice_b.local_parameters(), controlling=True),
                ice_b.connect(ice_a.local_parameters(), controlling=False),
            )
            loop = asyncio.get_running_loop()
            sent = []
            for index in range(5):  # the loop is blocked all along: nothing is read until the end
                sent.append(loop.time())
                ice_a.send(b"\x80%d" % index)
                time.sleep(0.02)
            await wait_for(lambda: len(got_b.items) == 5)
            arrivals = got_b.arrivals
            assert all(isinstance(t, float) for t in arrivals), arrivals
            for t_sent, t_arrived in zip(sent, arrivals, strict=True):
                assert 0 <= cast(float, t_arrived) - t_sent < 0.005, (sent, arrivals)
        finally:
            await ice_a.close()
            await ice_b.close()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
def test_media_before_the_checks_end_is_delivered_with_its_arrival_time() -> None:
    """RTP from a peer that finished its checks first is kept until our pair is selected, stamped with when
    it came (RFC 8445 §7.3: a controlled agent may receive media before it nominates)."""

    async def main(a: Netns, b: Netns) -> None:
        got_b = Datagrams()
        ice_a, ice_b = IceTransport(), IceTransport(on_datagram=got_b)
        try:
            with a.entered():
                await ice_a.gather()
                early = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            with b.entered():
                await ice_b.gather()
            target = ice_b.local_parameters().candidates[0]
            loop = asyncio.get_running_loop()
            sent = []
            with early:
                for index in range(3):
                    sent.append(loop.time())
                    early.sendto(b"\x80early%d" % index, (target.address, target.port))
                    time.sleep(0.02)
            await asyncio.sleep(0.05)
            assert got_b.items == []  # no pair yet
            await asyncio.gather(
                ice_a.connect(ice_b.local_parameters(), controlling=True),
                ice_b.connect(ice_a.local_parameters(), controlling=False),
            )
            ice_a.send(b"\x80late")
            await wait_for(lambda: len(got_b.items) == 4)
            assert got_b.data == [b"\x80early0", b"\x80early1", b"\x80early2", b"\x80late"]
            for t_sent, t_arrived in zip(sent, got_b.arrivals, strict=False):
                assert 0 <= cast(float, t_arrived) - t_sent < 0.005, (sent, got_b.arrivals)
        finally:
            await ice_a.close()
            await ice_b.close()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
def test_checks_fail_with_wrong_credentials() -> None:
    async def main(a: Netns, b: Netns) -> None:
        ice_a, ice_b = IceTransport(), IceTransport()
        try:
            with a.entered():
                await ice_a.gather()
            with b.entered():
                await ice_b.gather()
            wrong = ice_b.local_parameters()
            wrong.pwd = "x" * 22
            results = await asyncio.gather(
                ice_a.connect(wrong, controlling=True, timeout=3),
                ice_b.connect(ice_a.local_parameters(), controlling=False, timeout=3),
                return_exceptions=True,
            )
            assert isinstance(results[0], IceError)
            assert ice_a.state == "failed" and ice_a.selected_pair() is None
        finally:
            await ice_a.close()
            await ice_b.close()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
def test_plain_peer_without_ice() -> None:
    """connect_plain: a peer without ICE gets media at its c=/m= address, from our default candidate."""

    class Plain(asyncio.DatagramProtocol):
        def __init__(self) -> None:
            self.got: list[tuple[bytes, tuple[str, int]]] = []
            self.transport: asyncio.DatagramTransport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.DatagramTransport, transport)

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            self.got.append((data, addr))

    async def main(a: Netns, b: Netns) -> None:
        got = Datagrams()
        ice = IceTransport(on_datagram=got)
        loop = asyncio.get_running_loop()
        with b.entered():
            transport, plain = await loop.create_datagram_endpoint(Plain, local_addr=(b.address, 0))
        try:
            with a.entered():
                await ice.gather()
            port = transport.get_extra_info("sockname")[1]
            pair = await ice.connect_plain(b.address, port)
            assert ice.state == "plain" and pair.remote.address == b.address and pair.remote.port == port
            ice.send(b"to-plain")
            await wait_for(lambda: bool(plain.got))
            data, source = plain.got[0]
            assert data == b"to-plain" and source == (a.address, ice.default_candidate().port)
            transport.sendto(b"from-plain", source)  # symmetric: answer where it came from
            await wait_for(lambda: bool(got.items))
            assert got.data == [b"from-plain"]
        finally:
            transport.close()
            await ice.close()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
def test_no_candidate_means_no_ice() -> None:
    """Only loopback (no ICE candidate): the call goes on with plain RTP, unless only a relay would do."""

    async def main(lonely: Netns) -> None:
        media = AudioCallMedia(_media_options(ice=True))
        with lonely.entered():
            await media.open("127.0.0.1")
        try:
            assert media.ice is None
            offer = media.offer()
            assert b"a=ice-ufrag" not in offer and b"c=IN IP4 127.0.0.1" in offer
        finally:
            await media.stop()
        strict = AudioCallMedia(_media_options(ice=True, ice_relay_only=True))
        with lonely.entered(), pytest.raises(IceError):
            await strict.open("127.0.0.1")
        await strict.stop()

    with Topology() as topo:
        run(main(topo.namespace("lonely")))


async def _media_call(
    a: Netns, b: Netns, options_a: MediaOptions, options_b: MediaOptions, *, seconds: float = 1.5
) -> tuple[AudioCallMedia, AudioCallMedia, bytes, bytes]:
    """Offer from a, answer from b (in-process, each side's sockets in its namespace), audio both ways."""
    caller, callee = AudioCallMedia(options_a), AudioCallMedia(options_b)
    with a.entered():
        await caller.open(a.address)
    with b.entered():
        await callee.open(b.address)
    offer = caller.offer()
    answer = callee.answer(offer)
    caller.accept(answer)
    await callee.start()
    await caller.start()
    await asyncio.sleep(seconds)
    return caller, callee, offer, answer


def _media_options(**kwargs: Any) -> MediaOptions:
    return MediaOptions(codecs=["PCMU"], srtp="optional", source_factory=Tone, **kwargs)


@needs_netns
def test_calls_media_with_ice_on_both_sides() -> None:
    async def main(a: Netns, b: Netns) -> None:
        caller, callee, offer, answer = await _media_call(
            a, b, _media_options(ice=True), _media_options(ice=True)
        )
        try:
            sdp_offer, sdp_answer = parse_sdp(offer), parse_sdp(answer)
            for sdp, ns in ((sdp_offer, a), (sdp_answer, b)):
                m = sdp.media[0]
                assert m.ice_ufrag and m.ice_pwd and m.ice_options == ["ice2"]
                assert [(c.address, c.port) for c in m.candidates] == [(ns.address, m.port)]
                assert sdp.connection == ns.address and m.rtcp_mux
            assert caller.ice is not None and callee.ice is not None
            assert caller.ice.controlling is True and callee.ice.controlling is False
            assert caller.info()["ice"] is True
            for media in (caller, callee):
                stats = media.stats()
                assert stats["ice_state"] == "connected"
                assert stats["packets_received"] > 30 and stats["packets_lost"] == 0
            assert caller.negotiated is not None and caller.negotiated.srtp  # SDES-SRTP over ICE
            # a re-offer with the same credentials (hold) does not restart anything
            caller.set_hold(True)
            caller.accept(callee.answer(caller.offer()))
            assert caller.ice.state == callee.ice.state == "connected"
        finally:
            await caller.stop()
            await callee.stop()
        assert caller.ice.state == "closed"

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
@pytest.mark.parametrize("ice_side", ["caller", "callee"])
def test_ice_side_falls_back_to_plain_addresses(ice_side: str) -> None:
    """One side with ICE, the other without: no ICE in the answer, media over the c=/m= addresses."""

    async def main(a: Netns, b: Netns) -> None:
        options_a = _media_options(ice=ice_side == "caller")
        options_b = _media_options(ice=ice_side == "callee")
        caller, callee, offer, answer = await _media_call(a, b, options_a, options_b)
        try:
            assert b"a=ice-ufrag" not in answer
            assert (b"a=ice-ufrag" in offer) == (ice_side == "caller")
            ice_media = caller if ice_side == "caller" else callee
            assert ice_media.ice is not None and ice_media.ice.state == "plain"
            assert ice_media.info()["ice"] is False
            for media in (caller, callee):
                assert media.stats()["packets_received"] > 30
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (_, a, b):
        run(main(a, b))


# ---------------------------------------------------------------- TURN


@contextlib.contextmanager
def relay_topology(*, signalling: bool = False) -> Iterator[tuple[Netns, Netns, TurnServer]]:
    """a - t - b: a reaches only t (10.200.1.0/24), b only t (10.200.2.0/24), t forwards nothing.

    coturn in t listens on 10.200.1.1 (a's side) and relays from 10.200.2.1 (b's side): the only media
    path between a and b is through the TURN allocation.  With ``signalling``, a direct a-b link
    (10.200.3.1 - 10.200.3.2) carries SIP; the TURN server cannot reach it.
    """
    with Topology() as topo:
        a, b, t = topo.namespace("a"), topo.namespace("b"), topo.namespace("t")
        topo.link(t, "10.200.1.1/24", a, "10.200.1.2/24")
        topo.link(t, "10.200.2.1/24", b, "10.200.2.2/24")
        if signalling:
            topo.link(a, "10.200.3.1/24", b, "10.200.3.2/24")
        topo.route(a, "default", "10.200.1.1")
        topo.route(b, "default", "10.200.2.1")
        with TurnServer(listen_ip="10.200.1.1", relay_ip="10.200.2.1", netns=t) as turn:
            yield a, b, turn


@needs_netns
@needs_coturn
def test_relay_only_goes_through_turn() -> None:
    async def main(a: Netns, b: Netns, turn: TurnServer) -> None:
        got_a, got_b = Datagrams(), Datagrams()
        ice_a, ice_b = IceTransport(on_datagram=got_a), IceTransport(on_datagram=got_b)
        try:
            with a.entered():
                await ice_a.gather(
                    turn_server=turn.server,
                    turn_username=turn.username,
                    turn_password=turn.password,
                    relay_only=True,
                )
            with b.entered():
                await ice_b.gather()
            candidates = ice_a.local_parameters().candidates
            assert [(c.type, c.address) for c in candidates] == [("relay", "10.200.2.1")]
            assert candidates[0].related_address == "0.0.0.0"  # our address stays hidden
            assert ice_a.default_candidate().type == "relay"
            pair_a, pair_b = await asyncio.gather(
                ice_a.connect(ice_b.local_parameters(), controlling=True),
                ice_b.connect(ice_a.local_parameters(), controlling=False),
            )
            assert pair_a.local_type == "relay" and pair_a.remote_type == "host"
            assert pair_b.remote_type == "relay"
            for index in range(5):
                ice_a.send(b"a%d" % index)
                ice_b.send(b"b%d" % index)
            await wait_for(lambda: len(got_a.items) == 5 and len(got_b.items) == 5)
            assert got_b.data == [b"a%d" % i for i in range(5)]
            assert got_a.data == [b"b%d" % i for i in range(5)]
        finally:
            await ice_a.close()
            await ice_b.close()

    with relay_topology() as (a, b, turn):
        run(main(a, b, turn))


@needs_netns
@needs_coturn
def test_wrong_turn_password_gives_no_candidate() -> None:
    async def main(a: Netns, turn: TurnServer) -> None:
        ice = IceTransport()
        try:
            with a.entered(), pytest.raises(IceError):
                await ice.gather(
                    turn_server=turn.server,
                    turn_username=turn.username,
                    turn_password="wrong",
                    relay_only=True,
                )
        finally:
            await ice.close()

    with relay_topology() as (a, _, turn):
        run(main(a, turn))


# ---------------------------------------------------------------- softphone-cli in namespaces


@contextlib.contextmanager
def cli_in(ns: Netns, *args: str, **kwargs: Any) -> Iterator[CliProcess]:
    """A CliProcess running inside ``ns`` (``ip netns exec``; the pid is the CLI's own)."""
    saved = softphone_cli.CLI
    softphone_cli.CLI = ns.command(sys.executable, "-m", "softphone.cli")
    try:
        process = CliProcess(*args, **kwargs)
    finally:
        softphone_cli.CLI = saved
    with process:
        yield process


needs_audio_tools = pytest.mark.skipif(
    not audio_tools_available(), reason="espeak-ng and sox are needed (apt-get install espeak-ng sox)"
)


@needs_netns
@needs_audio_tools
@pytest.mark.slow
def test_cli_call_with_ice_carries_speech(tmp_path: Path) -> None:
    speech = speech_wav(rate=16000, seconds=60)
    record = tmp_path / "heard.wav"
    with (
        two_hosts() as (_, a, b),
        cli_in(
            b, "--listen", f"{b.address}:5060", "answer", "--ice", "--record", str(record), "--codecs", "G722"
        ) as callee,
    ):
        callee.wait_event("started")
        with cli_in(
            a, "--listen", f"{a.address}:0", "call", f"sip:bob@{b.address}:5060", "--ice",
            "--play", str(speech), "--duration", "5", "--codecs", "G722",
        ) as caller:  # fmt: skip
            answered = caller.wait_event("answered", timeout=15)
            assert answered["ice"] is True
            stats = caller.wait_event("stats", timeout=20)
            assert caller.wait(timeout=20) == 0
        assert callee.wait(timeout=15) == 0
    assert stats["ice_state"] == "connected"
    assert stats["ice_local"].startswith(f"host {a.address}:")
    assert stats["ice_remote"].startswith(f"host {b.address}:")
    match = compare(speech, record)
    print(f"engine->engine over ICE, G722: {match}")
    assert match.correlation > 0.85


@needs_netns
@needs_coturn
@pytest.mark.slow
def test_cli_call_relay_only_through_turn(tmp_path: Path) -> None:
    """The caller offers only its TURN relayed candidate; the callee answers ICE with host candidates.
    SIP goes over a direct a-b link; the media can only use the relay (a offers nothing else, and the
    TURN server cannot reach b's address on that link)."""
    with relay_topology(signalling=True) as (a, b, turn):
        sip_a, sip_b = a.addresses[-1], b.addresses[-1]
        with cli_in(b, "--listen", f"{sip_b}:5060", "answer", "--ice", "--codecs", "PCMU") as callee:
            callee.wait_event("started")
            with cli_in(
                a, "--listen", f"{sip_a}:0", "call", f"sip:bob@{sip_b}:5060", "--duration", "3",
                "--codecs", "PCMU", "--ice-relay-only", "--turn-server", turn.server,
                "--turn-user", turn.username, "--turn-password-env", "TURN_PASSWORD",
                env={"TURN_PASSWORD": turn.password},
            ) as caller:  # fmt: skip
                caller.wait_event("answered", timeout=15)
                caller_stats = caller.wait_event("stats", timeout=20)
                assert caller.wait(timeout=20) == 0
            callee_stats = callee.wait_event("stats", timeout=15)
            assert callee.wait(timeout=15) == 0
    assert caller_stats["ice_state"] == "connected"
    assert caller_stats["ice_local"].startswith("relay 10.200.2.1:")
    assert callee_stats["ice_remote"].startswith("relay 10.200.2.1:")
    for stats in (caller_stats, callee_stats):
        assert stats["packets_received"] > 50, stats
