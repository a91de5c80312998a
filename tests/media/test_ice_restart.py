"""ICE restart (RFC 8445 §9, RFC 8839 §4.4.1.1.1 and §4.4.3.1.1) in AudioCallMedia.

A re-offer with a new a=ice-ufrag or a=ice-pwd restarts ICE; the answerer restarts too and answers with new
credentials.  Both sides run the checks again on new agents and move the media to the new pair; a WebRTC
call keeps its DTLS association and SRTP keys (RFC 8842 §4), and the RTP stream keeps its SSRC and sequence.

The calls run between throw-away network namespaces (tests.peers.netns): aioice gathers no loopback
candidates.  Whole calls with a changing address, signalling included, are in
tests/interop/test_ice_restart.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from softphone.media.ice import is_ice_restart, offered_ice
from softphone.media.sdp import parse_sdp
from softphone.media.session import AudioCallMedia, MediaOptions
from tests.peers.netns import Netns, netns_unavailable_reason, two_hosts

T = TypeVar("T")

needs_netns = pytest.mark.skipif(
    netns_unavailable_reason() is not None,
    reason=f"ICE needs network namespaces: {netns_unavailable_reason()}",
)


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


# ------------------------------------------------------------------ detecting a restart in SDP


def offer_with(ufrag: str, pwd: str, *, session_level: bool = False) -> bytes:
    ice = f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n"
    return (
        "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        + (ice if session_level else "")
        + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        + ("" if session_level else ice)
        + "a=candidate:1 1 udp 2130706431 10.0.0.1 4000 typ host\r\n"
    ).encode()


PREVIOUS = ("abcd", "p" * 22)


@pytest.mark.parametrize(
    ("ufrag", "pwd", "restart"),
    [
        ("abcd", "p" * 22, False),
        ("wxyz", "p" * 22, True),
        ("abcd", "q" * 22, True),
        ("wxyz", "q" * 22, True),
    ],
    ids=["unchanged", "new-ufrag", "new-pwd", "both-new"],
)
def test_a_reoffer_restarts_ice_when_ufrag_or_pwd_changed(ufrag: str, pwd: str, restart: bool) -> None:
    """RFC 8839 §4.4.3.1.1: a change of either credential compared with the peer's previous SDP."""
    assert is_ice_restart(PREVIOUS, offered_ice(parse_sdp(offer_with(ufrag, pwd)))) is restart


def test_session_level_credentials_count_as_the_streams_own() -> None:
    """RFC 8839 §5.4: a=ice-ufrag/pwd at session level apply to every stream without its own."""
    assert not is_ice_restart(PREVIOUS, offered_ice(parse_sdp(offer_with(*PREVIOUS, session_level=True))))
    assert is_ice_restart(PREVIOUS, offered_ice(parse_sdp(offer_with("new1", "p" * 22, session_level=True))))


def test_no_restart_without_ice_on_either_side() -> None:
    no_ice = (
        b"v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    )
    assert not is_ice_restart(PREVIOUS, offered_ice(parse_sdp(no_ice)))
    assert not is_ice_restart(None, offered_ice(parse_sdp(offer_with(*PREVIOUS))))


def ice_credentials(sdp: bytes) -> tuple[str, str]:
    parameters = offered_ice(parse_sdp(sdp))
    assert parameters is not None
    return parameters.ufrag, parameters.pwd


# ------------------------------------------------------------------ restarts between namespaces


async def call(
    a: Netns, b: Netns, options_a: MediaOptions, options_b: MediaOptions
) -> tuple[AudioCallMedia, AudioCallMedia, bytes, bytes]:
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
    return caller, callee, offer, answer


async def flowing(media: AudioCallMedia, packets: int = 25, timeout: float = 10.0) -> None:
    """Waits until ``media`` received ``packets`` more RTP packets (0.5 s of audio)."""
    start = media.rtp.stats().packets_received
    deadline = asyncio.get_running_loop().time() + timeout
    while media.rtp.stats().packets_received < start + packets:
        assert asyncio.get_running_loop().time() < deadline, f"no RTP: {media.stats()}"
        await asyncio.sleep(0.05)


async def restarted(*media: AudioCallMedia, count: int = 1, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while any(m.ice_restarts < count for m in media):
        assert asyncio.get_running_loop().time() < deadline, [m.stats() for m in media]
        await asyncio.sleep(0.02)


def remote_ssrc(media: AudioCallMedia) -> int | None:
    return media.rtp._rx_ssrc  # noqa: SLF001 - the SSRC whose packets we play


@needs_netns
@pytest.mark.timeout(40)
def test_new_address_restarts_ice_and_keeps_the_dtls_association() -> None:
    """WebRTC call; the caller's address changes (RFC 8445 §9): it gathers on the new one and re-offers new
    credentials, the callee restarts and answers with new ones; the media moves to the new pair with the
    same DTLS association, SRTP keys, SSRC and RTP sequence (RFC 8842 §4)."""

    async def main(a: Netns, b: Netns, a_if: str) -> None:
        options = MediaOptions(codecs=["PCMU"], profile="webrtc")
        caller, callee, offer, answer = await call(a, b, options, options)
        try:
            await flowing(callee)
            await flowing(caller)
            assert caller.dtls is not None and callee.dtls is not None
            keys = (caller.rtp.srtp, callee.rtp.srtp)
            ssrcs = (remote_ssrc(caller), remote_ssrc(callee))
            old_agents = (caller.ice, callee.ice)
            a.run("ip", "addr", "add", "10.200.0.3/24", "dev", a_if)
            a.run("ip", "addr", "del", "10.200.0.1/24", "dev", a_if)
            sent_before = callee.rtp.stats().packets_received

            with a.entered():
                assert await caller.restart_ice("10.200.0.3")
            reoffer = caller.offer()
            # o= keeps its address (RFC 3264 §8: only the version changes); c= and the candidates move
            body = reoffer.split(b"\r\ns=", 1)[1]
            assert b"c=IN IP4 10.200.0.3" in body and b"10.200.0.1" not in body
            assert callee.ice_restart_offered(reoffer)
            with b.entered():
                assert await callee.restart_ice()
            reanswer = callee.answer(reoffer)
            caller.accept(reanswer)
            assert ice_credentials(reoffer) != ice_credentials(offer)
            assert ice_credentials(reanswer) != ice_credentials(answer)

            await restarted(caller, callee)
            await flowing(callee)
            await flowing(caller)
            stats = caller.stats(), callee.stats()
            assert "10.200.0.3" in stats[0]["ice_local"] and "10.200.0.3" in stats[1]["ice_remote"]
            for s in stats:
                assert s["ice_restarts"] == 1 and s["ice_state"] == "connected"
                assert s["dtls_state"] == "connected" and s["dtls_handshakes"] == 1
                assert s["srtp_failures"] == 0
            assert (caller.rtp.srtp, callee.rtp.srtp) == keys, "the SRTP keys of the one association"
            assert (remote_ssrc(caller), remote_ssrc(callee)) == ssrcs
            assert all(agent is not None and agent.state == "closed" for agent in old_agents)
            # the sequence carries on: what went missing is the gap while the address was gone, no reset
            assert callee.rtp.stats().packets_received > sent_before
            assert stats[1]["packets_lost"] < 200
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (topo, a, b):
        a_if = "veth0a"
        a.set_sysctl(f"net.ipv4.conf.{a_if}.promote_secondaries", "1")
        run(main(a, b, a_if))


@needs_netns
@pytest.mark.timeout(40)
def test_the_answerer_of_the_call_may_restart_and_later_reoffers_do_not() -> None:
    """Classic RTP with ICE; the callee restarts (a browser whose network changed does this): the caller
    sees the new credentials, restarts its side as the answerer, and the media moves.  A later re-offer
    with the same credentials (hold) is not a restart."""

    async def main(a: Netns, b: Netns) -> None:
        options = MediaOptions(codecs=["PCMU"], ice=True, srtp="off")
        caller, callee, _, _ = await call(a, b, options, options)
        try:
            await flowing(caller)
            with b.entered():
                assert await callee.restart_ice()
            reoffer = callee.offer()
            assert caller.ice_restart_offered(reoffer)
            with a.entered():
                assert await caller.restart_ice()
            callee.accept(caller.answer(reoffer))
            await restarted(caller, callee)
            await flowing(caller)
            await flowing(callee)

            callee.set_hold(True)
            hold = callee.offer()
            assert not caller.ice_restart_offered(hold)
            callee.accept(caller.answer(hold))
            assert caller.remote_held
            await asyncio.sleep(0.3)
            for media in (caller, callee):
                stats = media.stats()
                assert stats["ice_restarts"] == 1 and stats["ice_state"] == "connected", stats
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (_, a, b):
        run(main(a, b))


@needs_netns
@pytest.mark.timeout(40)
def test_a_restart_offer_that_is_refused_leaves_the_media_where_it_is() -> None:
    """Our restarting re-INVITE failed (no answer): the new agent is dropped, the old pair keeps the media,
    and the next offer (a hold) has the credentials of the agent in use again: it restarts nothing."""

    async def main(a: Netns, b: Netns) -> None:
        options = MediaOptions(codecs=["PCMU"], profile="webrtc")
        caller, callee, offer, _ = await call(a, b, options, options)
        try:
            await flowing(callee)
            before = caller.ice
            with a.entered():
                assert await caller.restart_ice()
            assert ice_credentials(caller.offer()) != ice_credentials(offer)
            await caller.abandon_ice_restart()
            caller.set_hold(True)
            hold = caller.offer()
            assert ice_credentials(hold) == ice_credentials(offer)
            assert not callee.ice_restart_offered(hold)
            caller.accept(callee.answer(hold))
            caller.set_hold(False)
            caller.accept(callee.answer(caller.offer()))
            await flowing(callee)
            assert caller.ice is before and caller.ice_restarts == callee.ice_restarts == 0
        finally:
            await caller.stop()
            await callee.stop()

    with two_hosts() as (_, a, b):
        run(main(a, b))
