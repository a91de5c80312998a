"""Calls with a real browser: headless Chromium running JsSIP (tests/peers/browser.py), registered over
SIP-over-WebSocket (RFC 7118) to Kamailio, media over WebRTC (ICE, DTLS-SRTP, Opus).

Chromium gathers no loopback candidates, so every test builds network namespaces (tests/peers/netns.py):
``a`` (10.200.40.1) runs Kamailio and the first browser, ``b`` (10.200.40.2) the other browser or the
softphone.  Audio is checked by content: each side plays a speech WAV as its microphone and what the
other side recorded must line up with it (cross-correlation) and score on PESQ.

Set ``SOFTPHONE_CAPTURE_SDP=1`` to (re)write tests/media/data/chromium_offer_real.sdp from the offer a
real Chromium sends.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.peers import softphone_cli
from tests.peers.audio import AudioMatch, align, compare, load, pesq_available, resample, rms
from tests.peers.browser import BrowserPeer, browser_unavailable_reason
from tests.peers.coturn import TurnServer, coturn_available
from tests.peers.kamailio import KamailioServer, kamailio_available
from tests.peers.netns import Netns, Topology, netns_unavailable_reason, two_hosts
from tests.peers.softphone_cli import CliProcess

pytestmark = [
    pytest.mark.interop,
    pytest.mark.slow,
    pytest.mark.skipif(netns_unavailable_reason() is not None, reason=f"{netns_unavailable_reason()}"),
    pytest.mark.skipif(browser_unavailable_reason() is not None, reason=f"{browser_unavailable_reason()}"),
    pytest.mark.skipif(not kamailio_available(), reason="kamailio not installed"),
]

SDP_CAPTURE = Path(__file__).resolve().parents[1] / "media" / "data" / "chromium_offer_real.sdp"
TALK_S = 8.0
TRIM_S = 2.0
"""Seconds cut from the start of a recording before comparing: the receiver's start-up (jitter buffer
filling, time stretching while it settles) lives in the first second or so."""
MIN_CORRELATION = 0.85
MIN_PESQ_NB = 3.0


@dataclass
class Lab:
    """Namespaces, Kamailio (in ``a``) and the browsers of one test; all stopped at teardown."""

    a: Netns
    b: Netns
    kamailio: KamailioServer
    workdir: Path
    browsers: list[BrowserPeer] = field(default_factory=list)

    def browser(self, name: str, netns: Netns, play_wav: Path, **kwargs: Any) -> BrowserPeer:
        peer = BrowserPeer(self.workdir / name, netns=netns, play_wav=play_wav, name=name, **kwargs)
        self.browsers.append(peer)
        return peer.start()

    def register(self, peer: BrowserPeer, user: str) -> None:
        peer.register(user, self.kamailio.users[user], self.kamailio.ws_url, domain=self.kamailio.domain)

    def aor(self, user: str) -> str:
        return self.kamailio.aor(user)


@contextlib.contextmanager
def kamailio_in(ns: Netns, host: str) -> Iterator[KamailioServer]:
    # started from a thread inside the namespace: kamailio (a child) and the readiness probes live there
    with ns.entered():
        server = KamailioServer(host=host)
        server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with two_hosts("10.200.40") as (_, a, b), kamailio_in(a, a.address) as kamailio:
        lab = Lab(a, b, kamailio, tmp_path)
        try:
            yield lab
        finally:
            for peer in lab.browsers:
                peer.stop()


@dataclass(frozen=True)
class Heard:
    """How well a recording carries the reference speech: ``match`` over the whole span (PESQ aligns
    each utterance itself), ``window_correlation`` the median over 1 s windows, each aligned on its own:
    a receiver's jitter buffer may legitimately shift the delay by a frame or two mid-call, which a single
    alignment of the whole span reads as a collapse of the correlation."""

    match: AudioMatch
    window_correlation: float

    def __str__(self) -> str:
        return f"{self.match} window-corr={self.window_correlation:.3f}"


def heard(reference: Path, recording: Path, start: float = TRIM_S) -> Heard:
    """Compare ``recording`` from ``start`` seconds on (by default all but its first TRIM_S seconds)
    with ``reference``."""
    samples, rate = load(recording)
    samples = samples[int(start * rate) :]
    assert len(samples) > 2 * rate, f"{recording}: only {len(samples) / rate:.1f} s from {start} s on"
    match = compare(reference, (samples, rate))
    ref16, _ = load(reference, 16000)
    rec16 = resample(samples, rate, 16000)
    correlations = []
    for first in range(0, len(rec16) - 16000 + 1, 16000):
        window = rec16[first : first + 16000]
        if rms(window) > 1e-3:  # a pause between sentences says nothing either way
            correlations.append(align((ref16, 16000), (window, 16000), 16000)[1])
    assert correlations, f"{recording}: silence"
    return Heard(match, float(np.median(correlations)))


def assert_speech(result: Heard, what: str) -> None:
    print(f"{what}: {result}")
    assert result.window_correlation > MIN_CORRELATION, f"{what}: {result}"
    if pesq_available():
        assert result.match.pesq_nb is not None and result.match.pesq_nb >= MIN_PESQ_NB, f"{what}: {result}"


# ---------------------------------------------------------------- browser <-> browser


@pytest.mark.timeout(50)
def test_browser_calls_browser_through_kamailio_over_websocket_speech_both_ways(
    lab: Lab, speech_48k: Path, speech_16k: Path
) -> None:
    """RFC 7118 registration and INVITE through Kamailio; the media goes straight between the namespaces
    (ICE host candidates, DTLS-SRTP, Opus) and the speech each side plays arrives at the other."""
    alice = lab.browser("alice", lab.a, speech_48k)
    bob = lab.browser("bob", lab.b, speech_16k)  # a 16 kHz WAV: Chromium's fake microphone resamples
    lab.register(alice, "alice")
    lab.register(bob, "bob")
    assert {"alice", "bob"} <= set(lab.kamailio.ul_dump())

    alice.call(lab.aor("bob"))
    bob.wait_for("incoming")
    bob.answer()
    alice.wait_for("confirmed")
    bob.wait_for("confirmed")
    time.sleep(TALK_S)
    stats = alice.stats()
    alice.hangup()
    alice.wait_for("ended")
    bob.wait_for("ended")

    print(f"alice's WebRTC stats: {stats}")
    assert stats["codec"]["mimeType"].lower() == "audio/opus"
    assert (stats["local"]["type"], stats["local"]["address"]) == ("host", lab.a.address)
    assert (stats["remote"]["type"], stats["remote"]["address"]) == ("host", lab.b.address)
    assert_speech(heard(speech_16k, alice.recording()), "Chromium -> Chromium (bob to alice), Opus")
    assert_speech(heard(speech_48k, bob.recording()), "Chromium -> Chromium (alice to bob), Opus")


@pytest.mark.timeout(40)
def test_chromium_offer_arrives_intact_through_kamailio_and_is_a_webrtc_offer(
    lab: Lab, speech_48k: Path
) -> None:
    """The offer a real Chromium sends (JSEP, RFC 8829): ICE (RFC 8839) with real host candidates, DTLS
    fingerprint and actpass (RFC 8842), rtcp-mux, Opus; Kamailio relays it unchanged.  A CANCEL
    (RFC 3261 §9) then ends the unanswered call on both sides."""
    alice = lab.browser("alice", lab.a, speech_48k)
    bob = lab.browser("bob", lab.b, speech_48k)
    lab.register(alice, "alice")
    lab.register(bob, "bob")
    alice.call(lab.aor("bob"))
    bob.wait_for("incoming")
    offer = alice.sdp("local", "offer")
    assert bob.sdp("remote", "offer") == offer
    alice.hangup()
    alice.wait_for("failed")
    assert bob.wait_for("failed")["cause"] == "Canceled"

    if os.environ.get("SOFTPHONE_CAPTURE_SDP") == "1":
        SDP_CAPTURE.parent.mkdir(parents=True, exist_ok=True)
        SDP_CAPTURE.write_bytes(offer.encode())
    lines = offer.splitlines()
    assert re.match(
        r"m=audio \d+ UDP/TLS/RTP/SAVPF( \d+)+$", next(x for x in lines if x.startswith("m=audio"))
    )
    assert any(re.match(r"a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$", x) for x in lines)
    assert "a=setup:actpass" in lines
    assert "a=rtcp-mux" in lines
    assert any(re.match(r"a=rtpmap:\d+ opus/48000/2$", x) for x in lines)
    assert any(x.startswith("a=ice-ufrag:") for x in lines) and any(x.startswith("a=ice-pwd:") for x in lines)
    candidates = [x for x in lines if x.startswith("a=candidate:")]
    assert candidates and all(".local" not in c for c in candidates)
    assert any(f" {lab.a.address} " in c and " typ host" in c for c in candidates)


def spki_sha256(cert_file: Path) -> str:
    """Base64 SHA-256 of a certificate's public key, as --ignore-certificate-errors-spki-list takes it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(cert_file.read_bytes()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.mark.timeout(40)
def test_browser_registers_and_calls_over_secure_websocket(lab: Lab, speech_48k: Path) -> None:
    """SIP over WSS (RFC 7118 §5): Chromium trusts exactly the test server's key, registers, and its
    call reaches a browser registered over plain WS."""
    assert lab.kamailio.cert_file is not None
    trust = f"--ignore-certificate-errors-spki-list={spki_sha256(lab.kamailio.cert_file)}"
    alice = lab.browser("alice", lab.a, speech_48k, extra_args=(trust,))
    bob = lab.browser("bob", lab.b, speech_48k)
    alice.register("alice", "alice-secret", lab.kamailio.wss_url, domain=lab.kamailio.domain)
    lab.register(bob, "bob")
    assert any("transport=ws" in c for c in lab.kamailio.ul_dump()["alice"])
    alice.call(lab.aor("bob"))
    bob.wait_for("incoming")
    bob.answer()
    alice.wait_for("confirmed")
    bob.hangup()
    alice.wait_for("ended")
    assert "Via: SIP/2.0/WSS " in (lab.workdir / "alice" / "console.log").read_text()


# ---------------------------------------------------------------- browser <-> TURN relay <-> browser


@contextlib.contextmanager
def relay_lab(workdir: Path) -> Iterator[tuple[Lab, TurnServer]]:
    """a - t - b, plus a direct a-b link for SIP: a's browser may only use its TURN allocation (policy
    relay); t listens on a's side (10.200.41.1) and relays from b's side (10.200.42.1)."""
    with Topology() as topo:
        a, b, t = topo.namespace("a"), topo.namespace("b"), topo.namespace("t")
        topo.link(t, "10.200.41.1/24", a, "10.200.41.2/24")
        topo.link(t, "10.200.42.1/24", b, "10.200.42.2/24")
        topo.link(a, "10.200.43.1/24", b, "10.200.43.2/24")
        # coturn closes the whole allocation when a send to a peer fails with "network unreachable", and
        # the caller probes every candidate of b through it, 10.200.43.2 too: give t a way there.
        topo.route(t, "default", "10.200.42.2")
        with (
            TurnServer(listen_ip="10.200.41.1", relay_ip="10.200.42.1", netns=t) as turn,
            kamailio_in(a, "10.200.43.1") as kamailio,
        ):
            lab = Lab(a, b, kamailio, workdir)
            try:
                yield lab, turn
            finally:
                for peer in lab.browsers:
                    peer.stop()


@pytest.mark.timeout(50)
@pytest.mark.skipif(not coturn_available(), reason="coturn not installed")
def test_browser_with_relay_only_policy_talks_through_turn(tmp_path: Path, speech_48k: Path) -> None:
    """iceTransportPolicy "relay" (W3C WebRTC §4.2.1): the caller offers only its TURN candidate and the
    speech still flows both ways, through coturn."""
    with relay_lab(tmp_path) as (lab, turn):
        ice_servers = [
            {"urls": f"turn:{turn.server}", "username": turn.username, "credential": turn.password}
        ]
        alice = lab.browser("alice", lab.a, speech_48k, ice_servers=ice_servers, ice_transport_policy="relay")
        bob = lab.browser("bob", lab.b, speech_48k)
        lab.register(alice, "alice")
        lab.register(bob, "bob")
        alice.call(lab.aor("bob"))
        bob.wait_for("incoming")
        offer = alice.sdp("local", "offer")
        bob.answer()
        alice.wait_for("confirmed")
        time.sleep(TALK_S)
        stats, bob_stats = alice.stats(), bob.stats()
        alice.hangup()
        bob.wait_for("ended")
        print(f"alice's WebRTC stats: {stats}\nbob's: {bob_stats}")
        try:
            candidates = [x for x in offer.splitlines() if x.startswith("a=candidate:")]
            assert candidates and all(" typ relay " in c for c in candidates), candidates
            assert (stats["local"]["type"], stats["local"]["address"]) == ("relay", "10.200.42.1")
            assert_speech(heard(speech_48k, alice.recording()), "Chromium -> TURN -> Chromium (to alice)")
            assert_speech(heard(speech_48k, bob.recording()), "Chromium -> TURN -> Chromium (to bob)")
        except BaseException:
            print(f"coturn log:\n{turn.log[-8000:]}")
            raise


# ---------------------------------------------------------------- softphone <-> browser


@functools.cache
def cli_lacks_webrtc() -> str | None:
    """Why softphone-cli cannot take part yet (None when it has WebSocket and the WebRTC profile)."""
    out = subprocess.run(
        [sys.executable, "-m", "softphone.cli", "call", "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    top = subprocess.run(
        [sys.executable, "-m", "softphone.cli", "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    missing = [opt for opt, text in (("--ws-url", top), ("--media-profile", out)) if opt not in text]
    return f"softphone-cli has no {', '.join(missing)} yet" if missing else None


@pytest.fixture
def webrtc_cli() -> None:
    # a fixture, not a skipif mark: asking the CLI costs two interpreter starts, only worth it when run
    reason = cli_lacks_webrtc()
    if reason is not None:
        pytest.skip(reason)


needs_cli_webrtc = pytest.mark.usefixtures("webrtc_cli")


@contextlib.contextmanager
def cli_in(ns: Netns, *args: str, **kwargs: Any) -> Iterator[CliProcess]:
    """softphone-cli inside ``ns`` (``ip netns exec``)."""
    saved = softphone_cli.CLI
    softphone_cli.CLI = ns.command(sys.executable, "-m", "softphone.cli")
    try:
        process = CliProcess(*args, **kwargs)
    finally:
        softphone_cli.CLI = saved
    with process:
        yield process


def softphone_account(lab: Lab, user: str) -> list[str]:
    return [
        "--user", lab.aor(user), "--password-env", "SOFTPHONE_TEST_PASSWORD",
        "--ws-url", lab.kamailio.ws_url, "--listen", f"{lab.b.address}:0", "--sip-trace",
    ]  # fmt: skip


def assert_webrtc_call(answered: dict[str, Any], contacts: list[str]) -> None:
    """The softphone's "answered" event: Opus over DTLS-SRTP with ICE; and it registered over WebSocket
    (``contacts``: its bindings at Kamailio during the call)."""
    print(f"softphone answered event: {answered}")
    expected = {"codec": "opus", "srtp": "dtls", "transport_profile": "UDP/TLS/RTP/SAVPF", "ice": True}
    assert {key: answered.get(key) for key in expected} == expected
    assert contacts and all("transport=ws" in contact for contact in contacts), contacts


@needs_cli_webrtc
@pytest.mark.timeout(50)
def test_softphone_calls_browser_over_websocket_with_webrtc_media(
    lab: Lab, tmp_path: Path, speech_48k: Path, speech_16k: Path
) -> None:
    """The softphone, registered over WebSocket with the WebRTC media profile, calls Chromium; speech
    arrives both ways."""
    alice = lab.browser("alice", lab.a, speech_48k)
    lab.register(alice, "alice")
    record = tmp_path / "softphone-heard.wav"
    with cli_in(
        lab.b, *softphone_account(lab, "carol"), "call", lab.aor("alice"), "--media-profile", "webrtc",
        "--play", str(speech_16k), "--record", str(record), "--duration", str(TALK_S),
        password=lab.kamailio.users["carol"],
    ) as carol:  # fmt: skip
        try:
            alice.wait_for("incoming", timeout=20)
            alice.answer()
            alice.wait_for("confirmed")
            answered = carol.wait_event("answered", timeout=15)
            contacts = lab.kamailio.ul_dump().get("carol", [])
            alice.wait_for("ended", timeout=TALK_S + 10)
            assert carol.wait(timeout=15) == 0
        except BaseException:
            print(f"softphone stderr (SIP trace):\n{carol.stderr[-20000:]}")
            raise
    assert_webrtc_call(answered, contacts)
    assert_speech(heard(speech_16k, alice.recording()), "softphone -> Chromium")
    assert_speech(heard(speech_48k, record), "Chromium -> softphone")


@needs_cli_webrtc
@pytest.mark.timeout(50)
def test_softphone_holds_and_resumes_the_browser_which_renegotiates(
    lab: Lab, tmp_path: Path, speech_48k: Path, speech_16k: Path
) -> None:
    """The softphone's hold and resume re-offers (RFC 3264 §8.4) carry what JSEP needs to keep the same
    ICE and DTLS session (RFC 8829 §5.2.2): Chromium accepts both, and the speech flows again after."""
    alice = lab.browser("alice", lab.a, speech_48k)
    lab.register(alice, "alice")
    record = tmp_path / "softphone-heard.wav"
    with cli_in(
        lab.b, *softphone_account(lab, "carol"), "call", lab.aor("alice"), "--media-profile", "webrtc",
        "--play", str(speech_16k), "--record", str(record), "--interactive",
        password=lab.kamailio.users["carol"], stdin=True,
    ) as carol:  # fmt: skip
        try:
            alice.wait_for("incoming", timeout=20)
            alice.answer()
            alice.wait_for("confirmed")
            carol.wait_event("answered", timeout=15)
            time.sleep(2.0)
            carol.send('{"command": "hold"}')
            alice.wait_event("hold", originator="remote", held=True)
            time.sleep(3.0)
            carol.send('{"command": "resume"}')
            alice.wait_event("hold", originator="remote", held=False)
            resumed_at = alice.recorded_seconds()
            time.sleep(6.0)
            alice.hangup()
            alice.wait_for("ended")
            assert carol.wait(timeout=15) == 0
        except BaseException:
            print(f"softphone stderr (SIP trace):\n{carol.stderr[-20000:]}")
            raise
    assert_speech(
        heard(speech_16k, alice.recording(), start=resumed_at + 1.5), "softphone -> Chromium, resumed"
    )
    samples, rate = load(record)
    assert_speech(
        heard(speech_48k, record, start=len(samples) / rate - 4.0), "Chromium -> softphone, resumed"
    )


@contextlib.contextmanager
def softphone_answering(lab: Lab, *options: str) -> Iterator[CliProcess]:
    """softphone-cli as carol in ``b``, registered over WebSocket, answering one call with the WebRTC
    media profile; its SIP trace is printed when the block fails."""
    with cli_in(
        lab.b, *softphone_account(lab, "carol"), "answer", "--calls", "1", "--media-profile", "webrtc",
        *options, password=lab.kamailio.users["carol"],
    ) as carol:  # fmt: skip
        try:
            carol.wait_event("registered", timeout=15)
            yield carol
        except BaseException:
            print(f"softphone stderr (SIP trace):\n{carol.stderr[-20000:]}")
            raise


@needs_cli_webrtc
@pytest.mark.timeout(50)
def test_browser_calls_softphone_over_websocket_with_webrtc_media(
    lab: Lab, tmp_path: Path, speech_48k: Path, speech_16k: Path
) -> None:
    """Chromium calls the softphone, registered over WebSocket with the WebRTC media profile (it answers
    a JSEP offer); speech arrives both ways."""
    alice = lab.browser("alice", lab.a, speech_48k)
    lab.register(alice, "alice")
    record = tmp_path / "softphone-heard.wav"
    with softphone_answering(lab, "--play", str(speech_16k), "--record", str(record)) as carol:
        alice.call(lab.aor("carol"))
        alice.wait_for("confirmed", timeout=20)
        answered = carol.wait_event("answered", timeout=10)
        contacts = lab.kamailio.ul_dump().get("carol", [])
        time.sleep(TALK_S)
        alice.hangup()
        alice.wait_for("ended")
        assert carol.wait(timeout=15) == 0
    assert_webrtc_call(answered, contacts)
    assert_speech(heard(speech_16k, alice.recording()), "softphone -> Chromium")
    assert_speech(heard(speech_48k, record), "Chromium -> softphone")


@needs_cli_webrtc
@pytest.mark.timeout(40)
def test_browser_rfc4733_digits_reach_the_softphone_in_order(lab: Lab, speech_48k: Path) -> None:
    """RFC 4733 telephone-events from Chromium's RTCDTMFSender, inside DTLS-SRTP: each digit is reported
    once, in order, as received over RTP."""
    alice = lab.browser("alice", lab.a, speech_48k)
    lab.register(alice, "alice")
    with softphone_answering(lab) as carol:
        alice.call(lab.aor("carol"))
        alice.wait_for("confirmed", timeout=20)
        carol.wait_event("answered", timeout=10)
        time.sleep(1.0)
        alice.send_dtmf("159#")
        received = [carol.wait_event("dtmf", timeout=10) for _ in range(4)]
        alice.hangup()
        alice.wait_for("ended")
        assert carol.wait(timeout=15) == 0
    assert [(e["digit"], e["via"]) for e in received] == [(d, "rtp") for d in "159#"]
    assert [e for e in carol.events if e.get("event") == "dtmf"] == received


@needs_cli_webrtc
@pytest.mark.timeout(50)
def test_browser_holds_and_resumes_the_softphone_which_is_silent_meanwhile(
    lab: Lab, speech_48k: Path, speech_16k: Path
) -> None:
    """Chromium's hold is a re-INVITE with a=sendonly (RFC 3264 §8.4): the softphone reports it, answers
    recvonly and sends no audio; after the resuming re-INVITE its speech is back."""
    alice = lab.browser("alice", lab.a, speech_48k)
    lab.register(alice, "alice")
    with softphone_answering(lab, "--play", str(speech_16k)) as carol:
        alice.call(lab.aor("carol"))
        alice.wait_for("confirmed", timeout=20)
        carol.wait_event("answered", timeout=10)
        time.sleep(2.0)
        alice.hold()
        carol.wait_event("held", by="remote", timeout=10)
        held_from = alice.recorded_seconds() + 1.0  # what was on its way still plays out
        time.sleep(4.0)
        held_until = alice.recorded_seconds()
        alice.resume()
        carol.wait_event("resumed", by="remote", timeout=10)
        resumed_at = alice.recorded_seconds()
        time.sleep(6.0)
        alice.hangup()
        alice.wait_for("ended")
        assert carol.wait(timeout=15) == 0
    recording = alice.recording()
    samples, rate = load(recording)
    on_hold = samples[int(held_from * rate) : int(held_until * rate)]
    print(f"on hold {held_from:.1f}-{held_until:.1f} s of the recording: rms {rms(on_hold):.5f}")
    assert len(on_hold) > 2 * rate and rms(on_hold) < 1e-3
    assert_speech(heard(speech_16k, recording, start=resumed_at + 1.5), "softphone -> Chromium after resume")
