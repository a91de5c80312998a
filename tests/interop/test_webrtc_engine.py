"""WebRTC media profile (UDP/TLS/RTP/SAVPF, DTLS-SRTP, ICE) between real SIP peers.

Everything runs between throw-away network namespaces (tests.peers.netns): ICE is mandatory for WebRTC
media and aioice never gathers loopback candidates.  Namespace ``a`` holds Kamailio and the caller,
``b`` the callee; the peers are started with their thread inside the namespace, so their sockets live
there.  Audio is checked by content (tests.peers.audio).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from softphone.core.engine import Engine, MediaOptions
from softphone.core.events import EngineEvent
from softphone.media.audio import FRAME_SAMPLES, RATE
from tests.peers import softphone_cli
from tests.peers.audio import compare, pesq_available
from tests.peers.baresip import Baresip, baresip_available
from tests.peers.kamailio import KamailioServer, kamailio_available
from tests.peers.netns import Netns, netns_unavailable_reason, two_hosts
from tests.peers.softphone_cli import CliProcess

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        netns_unavailable_reason() is not None,
        reason=f"WebRTC media needs ICE, ICE needs network namespaces: {netns_unavailable_reason()}",
    ),
]
needs_kamailio = pytest.mark.skipif(not kamailio_available(), reason="kamailio/kamcmd not installed")
needs_baresip = pytest.mark.skipif(not baresip_available(), reason="baresip not installed")


@contextlib.contextmanager
def cli_in(ns: Netns, *args: str, **kwargs: Any) -> Iterator[CliProcess]:
    """softphone-cli running inside ``ns`` (``ip netns exec``; the pid is the CLI's own)."""
    saved = softphone_cli.CLI
    softphone_cli.CLI = ns.command(sys.executable, "-m", "softphone.cli")
    try:
        process = CliProcess(*args, **kwargs)
    finally:
        softphone_cli.CLI = saved
    with process:
        yield process


@contextlib.contextmanager
def kamailio_in(ns: Netns) -> Iterator[KamailioServer]:
    with ns.entered():  # kamailio (a child of this thread) and the readiness probe live in ns
        server = KamailioServer(host=ns.address).start()
    try:
        yield server
    finally:
        server.stop()


def account(k: KamailioServer, user: str, ns: Netns) -> list[str]:
    return [
        "--user", f"sip:{user}@{k.domain}",
        "--password-env", "SOFTPHONE_TEST_PASSWORD",
        "--proxy", f"sip:{k.host}:{k.udp_port};transport=udp",
        "--listen", f"{ns.address}:0",
    ]  # fmt: skip


@needs_kamailio
@pytest.mark.slow
@pytest.mark.timeout(55)
def test_webrtc_call_through_kamailio_carries_speech(speech_48k: Path, tmp_path: Path) -> None:
    """Both engines registered over UDP, the caller offers WebRTC media: DTLS-SRTP, ICE, speech intact."""
    record = tmp_path / "heard.wav"
    with (
        two_hosts() as (_, a, b),
        kamailio_in(a) as k,
        cli_in(
            b, *account(k, "bob", b), "answer", "--record", str(record), "--codecs", "opus",
            password=k.users["bob"],
        ) as bob,
    ):  # fmt: skip
        bob.wait_event("registered", timeout=15)
        with cli_in(
            a, *account(k, "alice", a), "--media-profile", "webrtc", "call", k.aor("bob"),
            "--play", str(speech_48k), "--duration", "6", "--codecs", "opus",
            password=k.users["alice"],
        ) as alice:  # fmt: skip
            answered = alice.wait_event("answered", timeout=20)
            stats = alice.wait_event("stats", timeout=25)
            assert alice.wait(timeout=20) == 0
        bob_answered = bob.wait_event("answered", timeout=5)
        assert bob.wait(timeout=15) == 0
    assert (answered["profile"], answered["srtp"], answered["ice"]) == ("webrtc", "dtls", True)
    assert answered["transport_profile"] == "UDP/TLS/RTP/SAVPF"
    assert bob_answered["profile"] == "webrtc", "the callee answers in the offer's profile"
    assert stats["dtls_state"] == "connected" and stats["srtp_failures"] == 0
    match = compare(speech_48k, record)
    print(f"engine->engine WebRTC through Kamailio, opus: {match}")
    assert 0.5 < match.rms_ratio < 2.0
    if pesq_available() and match.pesq_nb is not None:
        assert match.pesq_nb > 2.5, match
    else:
        assert match.correlation > 0.8, match


@contextlib.contextmanager
def baresip_in(ns: Netns, tmp_path: Path, **kwargs: Any) -> Iterator[Baresip]:
    peer = Baresip(tmp_path / "baresip", host=ns.address, **kwargs)
    with ns.entered():  # baresip and our control connection to it live in ns
        peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@needs_baresip
@pytest.mark.slow
@pytest.mark.timeout(50)
def test_refused_webrtc_offer_is_retried_once_as_classic(tmp_path: Path, speech_8k: Path) -> None:
    """baresip without DTLS-SRTP refuses UDP/TLS/RTP/SAVPF (488); the INVITE is retried with RTP/AVP."""
    with (
        two_hosts() as (_, a, b),
        baresip_in(b, tmp_path, codecs=["PCMU"], play_wav=speech_8k) as peer,
        cli_in(
            a, "--listen", f"{a.address}:0", "--sip-trace", "--media-profile", "webrtc", "call",
            peer.contact_uri, "--duration", "3", "--codecs", "PCMU",
        ) as caller,
    ):  # fmt: skip
        answered = caller.wait_event("answered", timeout=20)
        stats = caller.wait_event("stats", timeout=20)
        assert caller.wait(timeout=20) == 0
        trace = caller.stderr
    invites = [line for line in trace.splitlines() if line.startswith("INVITE sip:")]
    assert len(invites) == 2, trace[-4000:]
    assert "SIP/2.0 488" in trace and "UDP/TLS/RTP/SAVPF" in trace
    assert answered["profile"] == "RTP/AVP" and answered["media_profile"] == "classic"
    assert stats["packets_received"] > 100


@needs_baresip
@pytest.mark.slow
@pytest.mark.timeout(50)
def test_webrtc_offer_to_baresip_with_dtls_srtp(tmp_path: Path, speech_8k: Path) -> None:
    """A third-party DTLS-SRTP stack (baresip's dtls_srtp, libre/OpenSSL) answers our WebRTC offer.

    baresip does no ICE here: our side sends from its default candidate to baresip's c=/m= address and
    runs the DTLS handshake over that (RFC 8842 does not need ICE)."""
    record = tmp_path / "heard.wav"
    with (
        two_hosts() as (_, a, b),
        baresip_in(b, tmp_path, codecs=["PCMU"], play_wav=speech_8k, srtp="dtls_srtp") as peer,
        cli_in(
            a, "--listen", f"{a.address}:0", "--media-profile", "webrtc", "call", peer.contact_uri,
            "--duration", "5", "--codecs", "PCMU", "--record", str(record),
        ) as caller,
    ):  # fmt: skip
        answered = caller.wait_event("answered", timeout=20)
        stats = caller.wait_event("stats", timeout=20)
        assert caller.wait(timeout=20) == 0
    assert (answered["profile"], answered["srtp"], answered["ice"]) == ("webrtc", "dtls", False)
    assert stats["dtls_state"] == "connected" and stats["srtp_failures"] == 0, stats
    match = compare(speech_8k, record)
    print(f"baresip (dtls_srtp) -> engine, PCMU: {match}")
    assert 0.5 < match.rms_ratio < 2.0, match
    if pesq_available() and match.pesq_nb is not None:
        assert match.pesq_nb > 2.5, match


# ------------------------------------------------------------------ call set-up time


class Tone:
    """440 Hz from the callee: the caller's first loud frame is the first one decoded from its RTP."""

    def __init__(self) -> None:
        self._n = 0

    def read(self) -> np.ndarray:
        t = (np.arange(FRAME_SAMPLES) + self._n) / RATE
        self._n += FRAME_SAMPLES
        return (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)

    def close(self) -> None:
        pass


class FirstSound:
    """A sink noting when the first frame with sound was played."""

    def __init__(self) -> None:
        self.at: float | None = None

    def write(self, frame: np.ndarray) -> None:
        if self.at is None and np.abs(frame.astype(np.int32)).mean() > 1000:
            self.at = time.monotonic()

    def close(self) -> None:
        pass


def _in_namespace(ns: Netns, coro_factory: Any) -> threading.Thread:
    def target() -> None:
        with ns.entered():
            asyncio.run(coro_factory())

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def measure_setup(a: Netns, b: Netns, profile: str, codec: str) -> float:
    """Seconds from the INVITE going out (the ``calling`` event) to the first decoded frame with sound."""
    port = 5062
    ready, done = threading.Event(), threading.Event()
    result: dict[str, float] = {}

    async def callee() -> None:
        engine = Engine(listen=(b.address, port), media=MediaOptions(codecs=[codec], source_factory=Tone))
        engine.auto_answer = True
        await engine.start()
        ready.set()
        while not done.is_set():
            await asyncio.sleep(0.05)
        await engine.stop()

    async def caller() -> None:
        sink = FirstSound()
        options = MediaOptions(codecs=[codec], sink_factory=lambda: sink, profile=profile)
        engine = Engine(listen=(a.address, 0), media=options)
        sent: list[float] = []

        def watch(event: EngineEvent) -> None:
            if event.name == "calling":
                sent.append(time.monotonic())

        engine.subscribe(watch)
        await engine.start()
        call = await engine.call(f"sip:bob@{b.address}:{port}")
        deadline = time.monotonic() + 15
        while sink.at is None and time.monotonic() < deadline and not call.ended:
            await asyncio.sleep(0.005)
        info = call.media.info()
        await call.hangup()
        await engine.stop()
        assert sink.at is not None and sent, f"no audio ({profile})"
        assert info["media_profile"] == profile
        result["setup"] = sink.at - sent[0]

    callee_thread = _in_namespace(b, callee)
    assert ready.wait(10)
    try:
        caller_thread = _in_namespace(a, caller)
        caller_thread.join(30)
    finally:
        done.set()
        callee_thread.join(15)
    assert "setup" in result, f"the {profile} call did not complete"
    return result["setup"]


@pytest.mark.slow
@pytest.mark.timeout(55)
def test_call_setup_time_classic_and_webrtc() -> None:
    """INVITE sent to first decoded audio frame, median of 3 calls each (direct, no proxy, opus)."""
    times: dict[str, list[float]] = {"classic": [], "webrtc": []}
    with two_hosts() as (_, a, b):
        for _ in range(3):
            for profile in times:
                times[profile].append(measure_setup(a, b, profile, "opus"))
    medians = {profile: statistics.median(values) for profile, values in times.items()}
    print(
        "call set-up, INVITE to first decoded frame (median of 3): "
        + ", ".join(
            f"{p} {m * 1000:.0f} ms {[round(v * 1000) for v in times[p]]}" for p, m in medians.items()
        )
    )
    assert medians["classic"] < 1.0
    assert medians["webrtc"] < 2.0  # ICE checks and a DTLS handshake on top of the classic path
