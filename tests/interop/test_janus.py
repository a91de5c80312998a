"""A browser that speaks no SIP reaches SIP users through Janus (Debian's ``janus``, its SIP plugin).

Chromium runs janus.js (tests/peers/janus_browser.py) and talks only the Janus API and WebRTC to Janus
(tests/peers/janus.py); Janus's SIP plugin registers at the tests' Kamailio on the browser's behalf and
calls the softphone with plain RTP/AVP (or SDES-SRTP) media, which Janus relays to and from the
browser's DTLS-SRTP PeerConnection.

Three namespaces (tests/peers/netns.py), so that each leg has its own link::

    web: browser 10.200.51.2 --- 10.200.51.1 gw: Janus API and ICE
                                 10.200.50.1 gw: Kamailio, Janus's SIP and RTP --- 10.200.50.2 sip: softphone

Audio is checked by content both ways: each side plays a speech WAV as its microphone and the other
side's recording must line up with it (median windowed correlation) and score on PESQ, as in
test_browser.py.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.interop.test_browser import assert_speech, heard
from tests.peers import softphone_cli
from tests.peers.browser import BrowserError
from tests.peers.janus import JanusServer, janus_unavailable_reason
from tests.peers.janus_browser import JanusBrowserPeer, janus_browser_unavailable_reason
from tests.peers.kamailio import KamailioServer, kamailio_available
from tests.peers.netns import Netns, Topology, netns_unavailable_reason
from tests.peers.softphone_cli import CliProcess

pytestmark = [
    pytest.mark.interop,
    pytest.mark.slow,
    pytest.mark.skipif(netns_unavailable_reason() is not None, reason=f"{netns_unavailable_reason()}"),
    pytest.mark.skipif(janus_unavailable_reason() is not None, reason=f"{janus_unavailable_reason()}"),
    pytest.mark.skipif(
        janus_browser_unavailable_reason() is not None, reason=f"{janus_browser_unavailable_reason()}"
    ),
    pytest.mark.skipif(not kamailio_available(), reason="kamailio not installed"),
]

TALK_S = 8.0
WEB_GW, WEB_BROWSER = "10.200.51.1", "10.200.51.2"
SIP_GW, SIP_SOFTPHONE = "10.200.50.1", "10.200.50.2"


@dataclass
class Gateway:
    """The namespaces, Kamailio and Janus of one test, and its browsers (all stopped at teardown)."""

    web: Netns
    gw: Netns
    sip: Netns
    kamailio: KamailioServer
    janus: JanusServer
    workdir: Path
    browsers: list[JanusBrowserPeer] = field(default_factory=list)

    def browser(self, name: str, play_wav: Path) -> JanusBrowserPeer:
        peer = JanusBrowserPeer(self.workdir / name, netns=self.web, play_wav=play_wav, name=name)
        self.browsers.append(peer)
        peer.start()
        return peer

    def register(self, peer: JanusBrowserPeer, user: str) -> None:
        peer.register(
            user,
            self.kamailio.users[user],
            self.janus.api_url,
            domain=self.kamailio.domain,
            proxy=self.kamailio.uri("udp"),
        )

    def aor(self, user: str) -> str:
        return self.kamailio.aor(user)

    def softphone(self, user: str, *args: str) -> CliProcess:
        """softphone-cli as ``user`` in the ``sip`` namespace, registered over UDP, classic media."""
        account = [
            "--user", self.aor(user), "--password-env", "SOFTPHONE_TEST_PASSWORD",
            "--proxy", f"{self.kamailio.uri('udp')};transport=udp", "--listen", f"{SIP_SOFTPHONE}:0",
            "--sip-trace",
        ]  # fmt: skip
        saved = softphone_cli.CLI
        softphone_cli.CLI = self.sip.command(sys.executable, "-m", "softphone.cli")
        try:
            return CliProcess(*account, *args, password=self.kamailio.users[user])
        finally:
            softphone_cli.CLI = saved

    def explain(self, cli: CliProcess | None = None) -> str:
        """Everything useful when a call fails: the softphone's SIP trace, Janus's and Kamailio's logs."""
        text = ""
        if cli is not None:
            text += f"--- softphone events ---\n{cli.events}\n"
            text += f"--- softphone stderr ---\n{cli.stderr[-12000:]}\n"
        text += f"--- janus ({self.janus.log_path}) ---\n{self.janus.log_tail(6000)}\n"
        text += f"--- kamailio ---\n{self.kamailio.log_text()[-3000:]}\n"
        return text


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    with Topology() as topo:
        web, gw, sip = topo.namespace("web"), topo.namespace("gw"), topo.namespace("sip")
        topo.link(gw, f"{WEB_GW}/24", web, f"{WEB_BROWSER}/24")
        topo.link(gw, f"{SIP_GW}/24", sip, f"{SIP_SOFTPHONE}/24")
        # started from a thread inside gw: kamailio (a child) and its readiness probes live there
        with gw.entered():
            kamailio = KamailioServer(host=SIP_GW)
            kamailio.start()
        try:
            with JanusServer(
                tmp_path / "janus", api_ip=WEB_GW, ice_ip=WEB_GW, sip_ip=SIP_GW, netns=gw
            ) as janus:
                lab = Gateway(web, gw, sip, kamailio, janus, tmp_path)
                try:
                    yield lab
                finally:
                    for peer in lab.browsers:
                        peer.stop()
        finally:
            kamailio.stop()


@contextlib.contextmanager
def explained(lab: Gateway, cli: CliProcess | None = None) -> Iterator[None]:
    try:
        yield
    except BaseException:
        print(lab.explain(cli))
        raise


def sip_leg(answered: dict[str, Any]) -> dict[str, Any]:
    return {key: answered.get(key) for key in ("codec", "srtp", "transport_profile", "ice")}


@pytest.mark.timeout(40)
def test_janus_browser_registers_through_the_sip_plugin_and_kamailio_binds_janus(
    gateway: Gateway, speech_48k: Path
) -> None:
    """The page only asks Janus's SIP plugin to register (RFC 3261 §10, digest auth by the plugin):
    Kamailio's binding for alice is a UDP contact at Janus's SIP address, not the browser's."""
    alice = gateway.browser("alice", speech_48k)
    with explained(gateway):
        gateway.register(alice, "alice")
        alice.wait_for("registered")
        contacts = gateway.kamailio.ul_dump().get("alice", [])
    print(f"alice's bindings: {contacts}")
    assert len(contacts) == 1
    assert f"@{SIP_GW}:" in contacts[0] and "transport=ws" not in contacts[0]


@pytest.mark.timeout(40)
def test_janus_browser_with_a_wrong_password_is_told_registration_failed(
    gateway: Gateway, speech_48k: Path
) -> None:
    """Kamailio challenges the plugin's digest again (RFC 3261 §22.2): the page hears
    ``registration_failed`` and nothing is bound.  The status is Sofia-SIP's own 904 ("Operation has no
    matching challenge": it does not retry credentials the server just refused), not the 401."""
    alice = gateway.browser("alice", speech_48k)
    with pytest.raises(BrowserError, match="registration_failed"):
        alice.register(
            "alice",
            "not-" + gateway.kamailio.users["alice"],
            gateway.janus.api_url,
            domain=gateway.kamailio.domain,
            proxy=gateway.kamailio.uri("udp"),
        )
    failed = alice.wait_for("registration-failed", timeout=5)
    assert failed["status"] == 904, failed
    assert "alice" not in gateway.kamailio.ul_dump()


@pytest.mark.timeout(55)
@pytest.mark.parametrize(
    ("srtp", "profile"),
    [(None, "RTP/AVP"), ("sdes_mandatory", "RTP/SAVP")],
    ids=["plain-rtp", "sdes-srtp"],
)
def test_janus_browser_calls_softphone_speech_both_ways(
    gateway: Gateway, tmp_path: Path, speech_48k: Path, speech_16k: Path, srtp: str | None, profile: str
) -> None:
    """janus.js -> Janus (WebRTC) -> SIP plugin INVITE through Kamailio -> softphone (UDP): the SIP leg
    is what the page asked the plugin for, plain RTP/AVP or SDES-SRTP (RFC 4568, RTP/SAVP), and the
    speech each side plays arrives at the other."""
    alice = gateway.browser("alice", speech_48k)
    gateway.register(alice, "alice")
    record = tmp_path / "softphone-heard.wav"
    with (
        gateway.softphone(
            "carol", "answer", "--calls", "1", "--play", str(speech_16k), "--record", str(record)
        ) as carol,
        explained(gateway, carol),
    ):
        carol.wait_event("registered", timeout=15)
        started = time.monotonic()
        alice.call(gateway.aor("carol"), srtp=srtp)
        answered = carol.wait_event("answered", timeout=20)
        answered_s = time.monotonic() - started
        alice.wait_for("confirmed", timeout=15)
        confirmed_s = time.monotonic() - started
        time.sleep(TALK_S)
        stats = alice.stats()
        alice.hangup()
        alice.wait_for("ended")
        assert carol.wait(timeout=15) == 0
    print(f"set-up: softphone answered {answered_s:.2f} s, page confirmed {confirmed_s:.2f} s after call()")
    print(f"SIP leg (softphone's view): {sip_leg(answered)}; browser's WebRTC stats: {stats}")
    expected = {"codec": "opus", "srtp": srtp is not None, "transport_profile": profile, "ice": None}
    assert sip_leg(answered) == expected
    assert (stats["remote"]["type"], stats["remote"]["address"]) == ("host", WEB_GW)
    assert_speech(heard(speech_16k, alice.recording()), f"softphone -> Janus -> janus.js ({profile})")
    assert_speech(heard(speech_48k, record), f"janus.js -> Janus -> softphone ({profile})")


@pytest.mark.timeout(55)
def test_softphone_calls_janus_browser_speech_both_ways(
    gateway: Gateway, tmp_path: Path, speech_48k: Path, speech_16k: Path
) -> None:
    """softphone (UDP) -> Kamailio -> Janus's registered contact -> incomingcall on the page, which
    accepts with a WebRTC answer.  The softphone offers RTP/AVP with a=crypto (best-effort SDES,
    RFC 4568) and Janus takes the keys up; the speech each side plays arrives at the other."""
    alice = gateway.browser("alice", speech_48k)
    gateway.register(alice, "alice")
    record = tmp_path / "softphone-heard.wav"
    with gateway.softphone(
        "carol", "call", gateway.aor("alice"), "--play", str(speech_16k), "--record", str(record),
        "--duration", str(TALK_S),
    ) as carol, explained(gateway, carol):  # fmt: skip
        carol.wait_event("calling", timeout=15)
        started = time.monotonic()
        alice.wait_for("incoming", timeout=15)
        incoming_s = time.monotonic() - started
        alice.answer()
        answered = carol.wait_event("answered", timeout=15)
        answered_s = time.monotonic() - started
        alice.wait_for("confirmed", timeout=15)
        confirmed_s = time.monotonic() - started
        time.sleep(TALK_S - 2.0)
        stats = alice.stats()
        alice.wait_for("ended", timeout=10)
        assert carol.wait(timeout=15) == 0
    print(
        f"set-up after the softphone's INVITE: page told {incoming_s:.2f} s, softphone answered"
        f" {answered_s:.2f} s, page confirmed {confirmed_s:.2f} s"
    )
    print(f"SIP leg (softphone's view): {sip_leg(answered)}; browser's WebRTC stats: {stats}")
    assert sip_leg(answered) == {"codec": "opus", "srtp": True, "transport_profile": "RTP/AVP", "ice": None}
    assert_speech(heard(speech_16k, alice.recording()), "softphone -> Janus -> janus.js (SDES)")
    assert_speech(heard(speech_48k, record), "janus.js -> Janus -> softphone (SDES)")


@pytest.mark.timeout(40)
def test_janus_browser_rfc4733_digits_reach_the_softphone_in_order(
    gateway: Gateway, speech_48k: Path
) -> None:
    """Chromium's RTCDTMFSender (janus.js ``dtmf``) sends RFC 4733 telephone-events to Janus, which relays
    them onto the SIP leg's RTP with the payload type negotiated there: each digit is reported once, in
    order, as received over RTP."""
    alice = gateway.browser("alice", speech_48k)
    gateway.register(alice, "alice")
    with gateway.softphone("carol", "answer", "--calls", "1") as carol, explained(gateway, carol):
        carol.wait_event("registered", timeout=15)
        alice.call(gateway.aor("carol"))
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
