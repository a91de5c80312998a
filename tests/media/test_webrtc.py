"""The WebRTC media profile: DTLS-SRTP keying (softphone.media.webrtc) and AudioCallMedia calls with it.

The DTLS tests run over an in-memory datagram pipe.  Calls run between throw-away network namespaces
(tests.peers.netns) because aioice never gathers loopback candidates and ICE is mandatory for WebRTC;
they are skipped where namespaces cannot be created.  The audio of a call is checked by content
(tests.peers.audio: alignment by cross-correlation, PESQ), and is decoded by our own receive path
(jitter buffer, concealment, playout clock) -- aiortc's is never involved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from softphone.media.ice import IceError
from softphone.media.session import AudioCallMedia, MediaError, MediaOptions
from softphone.media.srtp import SrtpContext
from softphone.media.webrtc import DtlsCertificate, DtlsError, DtlsSrtpTransport, certificate_fingerprint
from tests.peers.audio import audio_tools_available, compare, speech_wav
from tests.peers.netns import Netns, Topology, netns_unavailable_reason, two_hosts

T = TypeVar("T")

needs_netns = pytest.mark.skipif(
    netns_unavailable_reason() is not None,
    reason=f"ICE needs network namespaces: {netns_unavailable_reason()}",
)
needs_audio_tools = pytest.mark.skipif(
    not audio_tools_available(), reason="espeak-ng and sox are needed (apt-get install espeak-ng sox)"
)


def rtp(seq: int) -> bytes:
    return bytes([0x80, 0x00]) + seq.to_bytes(2, "big") + bytes(8) + b"payload"


RTP = rtp(1)


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Pipe:
    """Two DtlsSrtpTransports joined by an in-memory datagram link that can lose datagrams."""

    def __init__(self, drop: Callable[[str, int], bool] = lambda side, index: False) -> None:
        self.drop = drop
        self.sent = {"a": 0, "b": 0}
        self.rtp: dict[str, list[bytes]] = {"a": [], "b": []}
        self.a = DtlsSrtpTransport(
            DtlsCertificate.generate(), send=lambda d: self._carry("a", d), on_rtp=self._rtp("a")
        )
        self.b = DtlsSrtpTransport(
            DtlsCertificate.generate(), send=lambda d: self._carry("b", d), on_rtp=self._rtp("b")
        )

    def _rtp(self, side: str) -> Callable[[bytes, tuple[str, int], float | None], None]:
        return lambda data, source, arrival: self.rtp[side].append(data)

    def _carry(self, side: str, data: bytes) -> None:
        index = self.sent[side]
        self.sent[side] += 1
        if self.drop(side, index):
            return
        peer = self.b if side == "a" else self.a
        asyncio.get_running_loop().call_soon(peer.receive_datagram, data, (side, 1))

    async def handshake(self, **kwargs: Any) -> tuple[SrtpContext, SrtpContext]:
        return await asyncio.gather(
            self.a.start("client", [self.b.fingerprint], **kwargs),
            self.b.start("server", [self.a.fingerprint], **kwargs),
        )

    async def close(self) -> None:
        await self.a.close()
        await self.b.close()


# ------------------------------------------------------------------ DTLS-SRTP keying


def test_certificate_fingerprint_is_colon_separated_upper_hex() -> None:
    """RFC 8122 §5: the a=fingerprint value."""
    certificate = DtlsCertificate.generate()
    value = certificate.fingerprint("sha-256")
    assert len(value.split(":")) == 32 and value == value.upper()
    assert certificate_fingerprint(certificate.certificate, "SHA-1").count(":") == 19


def test_handshake_gives_both_sides_matching_srtp_keys() -> None:
    """RFC 5764 §4.2: the client's write key is the server's read key and vice versa."""

    async def main() -> None:
        pipe = Pipe()
        try:
            client, server = await pipe.handshake()
            protected = client.protect_rtp(RTP)
            assert protected != RTP and server.unprotect_rtp(protected) == RTP
            assert client.unprotect_rtp(server.protect_rtp(rtp(2))) == rtp(2)
            assert pipe.a.state == pipe.b.state == "connected"
            assert pipe.a.srtp_profile == "AES_CM_128_HMAC_SHA1_80"
        finally:
            await pipe.close()

    run(main())


def test_srtp_flows_only_after_the_handshake() -> None:
    """Nothing RTP leaves or is delivered before the keys exist: no plaintext media, ever."""

    async def main() -> None:
        pipe = Pipe()
        try:
            pipe.a.send_rtp(RTP)
            pipe.b.receive_datagram(RTP, ("a", 1))
            assert pipe.sent["a"] == 0 and pipe.rtp["b"] == []
            assert pipe.a.packets_dropped == pipe.b.packets_dropped == 1
            client, _ = await pipe.handshake()
            pipe.a.send_rtp(client.protect_rtp(RTP))
            await asyncio.sleep(0.01)
            assert len(pipe.rtp["b"]) == 1
        finally:
            await pipe.close()

    run(main())


def test_wrong_fingerprint_fails_the_handshake() -> None:
    """RFC 8122 §5: a certificate that does not match the SDP fingerprint is refused."""

    async def main() -> None:
        pipe = Pipe()
        try:
            wrong = [("sha-256", DtlsCertificate.generate().fingerprint())]
            results = await asyncio.gather(
                pipe.a.start("client", wrong, timeout=5),
                pipe.b.start("server", [pipe.a.fingerprint], timeout=5),
                return_exceptions=True,
            )
            assert isinstance(results[0], DtlsError) and "fingerprint" in str(results[0])
            assert pipe.a.state == "failed"
        finally:
            await pipe.close()

    run(main())


def test_lost_flights_are_retransmitted() -> None:
    """RFC 6347 §4.2.4: the first ClientHello and the server's first flight are lost; timers resend them."""

    async def main() -> None:
        pipe = Pipe(drop=lambda side, index: index == 0)
        try:
            client, server = await pipe.handshake(timeout=10)
            assert server.unprotect_rtp(client.protect_rtp(RTP)) == RTP
        finally:
            await pipe.close()

    run(main())


def test_records_that_arrive_before_start_are_kept() -> None:
    """The peer's ICE may finish first: its ClientHello reaches us before our handshake starts."""

    async def main() -> None:
        pipe = Pipe()
        try:
            client = asyncio.ensure_future(pipe.a.start("client", [pipe.b.fingerprint]))
            await asyncio.sleep(0.05)  # the ClientHello is buffered by b, not lost
            server = await pipe.b.start("server", [pipe.a.fingerprint], timeout=0.5)
            assert (await client).unprotect_rtp(server.protect_rtp(RTP)) == RTP
        finally:
            await pipe.close()

    run(main())


async def stray_client_hello() -> bytes:
    """The first flight of some other DTLS client: one ClientHello record."""
    sent: list[bytes] = []
    stray = DtlsSrtpTransport(DtlsCertificate.generate(), send=sent.append)
    task = asyncio.ensure_future(stray.start("client", [], timeout=5))
    while not sent:
        await asyncio.sleep(0.001)
    await stray.close()
    task.cancel()
    return sent[0]


@pytest.mark.parametrize("when", ["before our start", "during our handshake"])
def test_client_ignores_a_clienthello_from_its_peer(when: str) -> None:
    """A peer answering a=setup:passive may have said ClientHello before it chose the server role (rtpengine
    does when its ICE checks finish before the answer); as the client we drop it, as browsers do."""

    async def main() -> None:
        pipe = Pipe()
        try:
            hello = await stray_client_hello()
            if when == "before our start":
                pipe.a.receive_datagram(hello, ("b", 1))
            client = asyncio.ensure_future(pipe.a.start("client", [pipe.b.fingerprint], timeout=5))
            if when == "during our handshake":
                await asyncio.sleep(0.01)
                pipe.a.receive_datagram(hello, ("b", 1))
            server = await pipe.b.start("server", [pipe.a.fingerprint], timeout=5)
            assert (await client).unprotect_rtp(server.protect_rtp(RTP)) == RTP
        finally:
            await pipe.close()

    run(main())


def test_close_notify_closes_the_peer() -> None:
    async def main() -> None:
        pipe = Pipe()
        await pipe.handshake()
        await pipe.a.close()
        await asyncio.sleep(0.01)
        assert pipe.b.state == "closed"
        await pipe.b.close()

    run(main())


# ------------------------------------------------------------------ calls between namespaces


def webrtc_options(**kwargs: Any) -> MediaOptions:
    kwargs.setdefault("profile", "webrtc")
    return MediaOptions(**kwargs)


async def media_call(
    a: Netns, b: Netns, options_a: MediaOptions, options_b: MediaOptions, *, seconds: float
) -> tuple[AudioCallMedia, AudioCallMedia, bytes, bytes]:
    """Offer from a, answer from b: each side's sockets in its namespace, b's profile from the offer."""
    caller, callee = AudioCallMedia(options_a), AudioCallMedia(options_b)
    with a.entered():
        await caller.open(a.address)
    offer = caller.offer()
    with b.entered():
        await callee.open(b.address, offer=offer)
    answer = callee.answer(offer)
    caller.accept(answer)
    await callee.start()
    await caller.start()
    await asyncio.sleep(seconds)
    return caller, callee, offer, answer


@needs_netns
@needs_audio_tools
@pytest.mark.slow
@pytest.mark.timeout(50)
@pytest.mark.parametrize("codec", ["opus", "PCMU"])
def test_webrtc_call_carries_speech_both_ways(tmp_path: Path, codec: str) -> None:
    """Offer/answer in UDP/TLS/RTP/SAVPF, ICE, DTLS handshake, then speech through our own receive path.

    The callee is configured classic: it answers in the offer's profile all the same.
    """
    rate = 48000 if codec == "opus" else 8000
    speech = speech_wav(rate=rate, seconds=30)
    heard_a, heard_b = tmp_path / "a.wav", tmp_path / "b.wav"
    call_stats: list[dict[str, Any]] = []

    async def main(a: Netns, b: Netns) -> None:
        caller, callee, offer, answer = await media_call(
            a,
            b,
            webrtc_options(codecs=[codec], play=str(speech), record=str(heard_a)),
            MediaOptions(codecs=[codec], play=str(speech), record=str(heard_b), profile="classic"),
            seconds=6,
        )
        try:
            assert b"UDP/TLS/RTP/SAVPF" in offer and b"a=setup:actpass" in offer
            assert b"a=setup:active" in answer and b"a=crypto" not in answer
            for media in (caller, callee):
                info = media.info()
                assert (info["profile"], info["srtp"], info["ice"]) == ("webrtc", "dtls", True)
                stats = media.stats()
                assert stats["dtls_state"] == "connected" and stats["ice_state"] == "connected"
                assert stats["srtp_failures"] == 0 and stats["packets_received"] > 200
            assert caller.stats()["dtls_role"] == "server" and callee.stats()["dtls_role"] == "client"
            call_stats.extend([caller.stats(), callee.stats()])
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (_, a, b):
        run(main(a, b), timeout=45)
    matches = [compare(speech, heard) for heard in (heard_a, heard_b)]
    print(f"WebRTC {codec}: caller heard {matches[0]}; callee heard {matches[1]}")
    for match in matches:
        # Typically corr 0.93-0.999, PESQ-NB 3.6-3.8; on a loaded 2-core machine (both ends share one event
        # loop here) playout re-anchoring mid-call drops the whole-file correlation to ~0.5 and PESQ to
        # 2.3-2.7.  Garbage or silence scores PESQ < 1.5 and correlation ~0.
        assert 0.5 < match.rms_ratio < 2.0, (match, call_stats)
        if match.pesq_nb is not None:
            assert match.pesq_nb > 2.0, (match, call_stats)
        else:
            assert match.correlation > 0.8, (match, call_stats)


@needs_netns
@pytest.mark.timeout(40)
def test_refused_webrtc_offer_falls_back_to_classic() -> None:
    """A peer that cannot do DTLS-SRTP answers 488 (here: srtp off); a classic offer then works."""

    async def main(a: Netns, b: Netns) -> None:
        caller = AudioCallMedia(webrtc_options(codecs=["PCMU"]))
        callee = AudioCallMedia(MediaOptions(codecs=["PCMU"], srtp="off"))
        try:
            with a.entered():
                await caller.open(a.address)
                offer = caller.offer()
                await callee.open("127.0.0.1", offer=offer)
                with pytest.raises(MediaError) as refused:
                    callee.answer(offer)
                assert refused.value.status == 488
                assert await caller.fallback_to_classic()
                assert caller.ice is None and caller.dtls is None
                classic = caller.offer()
                assert b"m=audio" in classic and b"RTP/AVP" in classic and b"a=fingerprint" not in classic
                caller.accept(callee.answer(classic))
                await callee.start()
                await caller.start()
                await asyncio.sleep(1)
            assert caller.info()["profile"] == "RTP/AVP" and caller.info()["media_profile"] == "classic"
            assert caller.stats()["packets_received"] > 20
            assert not await caller.fallback_to_classic(), "only once, and not once media runs"
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
@pytest.mark.timeout(40)
def test_classic_media_refuses_a_webrtc_reoffer() -> None:
    """A call keeps its profile: a re-INVITE switching to DTLS-SRTP gets 488 (Warning 301)."""

    async def main(a: Netns, b: Netns) -> None:
        caller = AudioCallMedia(webrtc_options(codecs=["PCMU"]))
        callee = AudioCallMedia(MediaOptions(codecs=["PCMU"]))
        try:
            with a.entered():
                await caller.open(a.address)
                await callee.open(a.address)  # classic: no offer to follow yet
            with pytest.raises(MediaError) as refused:
                callee.answer(caller.offer())
            assert refused.value.status == 488 and "301" in refused.value.warning
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
@pytest.mark.timeout(40)
def test_hold_reoffer_keeps_the_dtls_association() -> None:
    """A re-INVITE (hold) with the same fingerprints changes direction only; SRTP keeps its keys."""

    async def main(a: Netns, b: Netns) -> None:
        caller, callee, _, _ = await media_call(
            a, b, webrtc_options(codecs=["PCMU"]), MediaOptions(codecs=["PCMU"]), seconds=1.5
        )
        try:
            assert caller.dtls is not None and callee.dtls is not None
            keys = caller.rtp.srtp
            caller.set_hold(True)
            caller.accept(callee.answer(caller.offer()))
            assert callee.remote_held and caller.rtp.srtp is keys
            caller.set_hold(False)
            caller.accept(callee.answer(caller.offer()))
            before = callee.stats()["packets_received"]
            await asyncio.sleep(0.5)
            assert callee.stats()["packets_received"] > before + 10
            assert caller.dtls.state == callee.dtls.state == "connected"
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
@pytest.mark.timeout(30)
def test_no_ice_candidate_means_no_webrtc() -> None:
    """ICE is mandatory for WebRTC media: with only loopback, a WebRTC offer is answered 488 (the caller
    may fall back to classic RTP) and our own WebRTC offer cannot be made (IceError, an OSError)."""
    offer = (Path(__file__).parent / "data" / "chromium_offer.sdp").read_bytes()

    async def main(lonely: Netns) -> None:
        callee = AudioCallMedia(MediaOptions(codecs=["opus"]))
        caller = AudioCallMedia(webrtc_options(codecs=["opus"]))
        try:
            with lonely.entered():
                with pytest.raises(MediaError) as refused:
                    await callee.open("127.0.0.1", offer=offer)
                assert refused.value.status == 488
                with pytest.raises(IceError):
                    await caller.open("127.0.0.1")
        finally:
            await callee.stop()
            await caller.stop()

    with Topology() as topo:
        run(main(topo.namespace("lonely")))
