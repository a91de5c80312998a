"""Calls behind NAT, the way users live (tests/peers/nat.py builds the networks).

::

    softphone (home1, 10.200.1.2) -- nat1 --+          +-- srv (198.18.0.1): Kamailio, coturn (STUN, TURN)
                                            +-- inet --+
    peer      (home2, 10.200.2.2) -- nat2 --+          +-- pub (198.18.3.2): a peer without NAT

Both routers masquerade (Linux conntrack: port-preserving, replies only from where a flow went, nothing
new comes in from outside).  Kamailio's configuration does what a NAT-aware registrar/proxy does
(``force_rport``, ``fix_nated_register``, Contact aliases, tests/peers/kamailio/kamailio.cfg.tmpl) but
does not touch the SDP and relays no media: the phones must get their media through the NATs themselves.

* classic SIP over UDP: the softphone learns its public address from the registrar's ``received``/
  ``rport`` (RFC 3581) and registers that Contact; with a STUN server it puts its server-reflexive
  address in c=/m= (``--stun-server`` turns ICE on; a peer without ICE gets plain RTP from that
  candidate), and it latches onto where the peer's RTP really comes from (symmetric RTP, RFC 4961).
* WebRTC: the softphone registered over WebSocket with Chromium (JsSIP) behind the other NAT, ICE with
  server-reflexive candidates from coturn, then with the softphone relay-only through coturn (TURN).
* the softphone without STUN, calling a peer with a public address: only the peer's latching can give
  two-way audio then.

Audio is checked by content: each side plays speech, what the other side recorded must line up with it
(cross-correlation per 1 s window) and score on PESQ.
"""

from __future__ import annotations

import contextlib
import re
import socket
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
from tests.peers.baresip import Baresip, baresip_available
from tests.peers.browser import BrowserPeer, browser_unavailable_reason
from tests.peers.coturn import TurnServer, coturn_available
from tests.peers.kamailio import KamailioServer, kamailio_available
from tests.peers.nat import NatTopology, nat_unavailable_reason
from tests.peers.netns import Netns
from tests.peers.softphone_cli import CliProcess

pytestmark = [
    pytest.mark.interop,
    pytest.mark.slow,
    pytest.mark.skipif(nat_unavailable_reason() is not None, reason=f"{nat_unavailable_reason()}"),
    pytest.mark.skipif(not kamailio_available(), reason="kamailio not installed"),
    pytest.mark.skipif(not coturn_available(), reason="coturn not installed"),
]

TALK_S = 6.0
TRIM_S = 1.5
"""Seconds cut from the start of a recording: the receiver's start-up (jitter buffer filling, ICE and
latching settling) lives there."""
WEBRTC_TALK_S = 8.0
WEBRTC_TRIM_S = 2.0
"""Chromium's receiver settles more slowly (its NetEq stretches time while the delay settles)."""
MIN_CORRELATION = 0.85
MIN_PESQ_NB = 3.0


# ------------------------------------------------------------------ the lab


@dataclass
class NatLab:
    """The NAT topology with Kamailio and coturn on the public side; peers started by the test."""

    net: NatTopology
    kamailio: KamailioServer
    turn: TurnServer
    workdir: Path
    stoppers: list[Any] = field(default_factory=list)

    @property
    def stun(self) -> str:
        return self.turn.server

    def aor(self, user: str) -> str:
        return self.kamailio.aor(user)

    def softphone_udp(self, user: str, ns: Netns) -> list[str]:
        """Global CLI options: ``user`` registered over UDP from ``ns`` (SIP port 5060 there)."""
        k = self.kamailio
        return [
            "--user", k.aor(user), "--password-env", "SOFTPHONE_TEST_PASSWORD",
            "--proxy", f"sip:{k.host}:{k.udp_port};transport=udp",
            "--listen", f"{ns.address}:5060", "--sip-trace",
        ]  # fmt: skip

    def softphone_ws(self, user: str, ns: Netns) -> list[str]:
        return [
            "--user", self.kamailio.aor(user), "--password-env", "SOFTPHONE_TEST_PASSWORD",
            "--ws-url", self.kamailio.ws_url, "--listen", f"{ns.address}:0", "--sip-trace",
        ]  # fmt: skip

    def baresip(self, ns: Netns, user: str, **kwargs: Any) -> Baresip:
        """baresip started inside ``ns`` (its sockets, ctrl_tcp connection included, live there)."""
        peer = Baresip(self.workdir / f"baresip-{user}", user=user, registrar=self.kamailio, host=ns.address,
                       **kwargs)  # fmt: skip
        self.stoppers.append(peer.stop)
        with ns.entered():
            return peer.start()

    def report(self) -> str:
        net = self.net
        return (
            f"--- nat1 conntrack ---\n{net.conntrack(net.nat1)}"
            f"--- nat2 conntrack ---\n{net.conntrack(net.nat2)}"
            f"--- kamailio log (tail) ---\n{self.kamailio.log_text()[-4000:]}"
        )


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[NatLab]:
    with NatTopology() as net:
        # started from this thread inside inet: kamailio (a child) and the readiness probes live there
        with net.srv.entered():
            kamailio = KamailioServer(host=net.server_ip)
            kamailio.start()
        try:
            with TurnServer(listen_ip=net.server_ip, netns=net.srv) as turn:
                lab = NatLab(net, kamailio, turn, tmp_path)
                try:
                    yield lab
                finally:
                    for stop in reversed(lab.stoppers):
                        stop()
        finally:
            kamailio.stop()


@contextlib.contextmanager
def cli_in(ns: Netns, *args: str, **kwargs: Any) -> Iterator[CliProcess]:
    """softphone-cli inside ``ns`` (``ip netns exec``); its stderr (SIP trace) is printed on failure."""
    saved = softphone_cli.CLI
    softphone_cli.CLI = ns.command(sys.executable, "-m", "softphone.cli")
    try:
        process = CliProcess(*args, **kwargs)
    finally:
        softphone_cli.CLI = saved
    with process:
        try:
            yield process
        except BaseException:
            print(f"softphone in {ns.name}, stderr (SIP trace):\n{process.stderr[-20000:]}")
            raise


# ------------------------------------------------------------------ audio


@dataclass(frozen=True)
class Heard:
    """How well a recording carries the reference speech.

    ``window_correlation``: the median over 1 s windows, each aligned on its own; ``whole``: the recording
    scored as one span; ``steady``: the longest span at one playout delay, scored as a whole.  A receiver's
    jitter buffer may shift the delay by a frame or two mid-call (on a busy machine it does, Chromium's
    NetEq also stretches time), which spoils a single alignment without saying anything about the path;
    PESQ re-aligns per utterance, so the better of the two PESQ scores counts.  Garbage, silence or
    one-way audio fail every measure.
    """

    whole: AudioMatch
    steady: AudioMatch
    steady_s: float
    window_correlation: float

    @property
    def pesq_nb(self) -> float | None:
        scores = [m.pesq_nb for m in (self.whole, self.steady) if m.pesq_nb is not None]
        return max(scores) if scores else None

    def __str__(self) -> str:
        return (
            f"PESQ-NB {self.pesq_nb}; window-corr={self.window_correlation:.3f}; whole: {self.whole}; "
            f"steady {self.steady_s:.1f} s: {self.steady}"
        )


WINDOW = 16000  # 1 s at 16 kHz
SAME_DELAY = 32  # samples at 16 kHz: windows within 2 ms of each other play at the same delay


def heard(reference: Path, recording: Path, start: float = TRIM_S) -> Heard:
    samples, rate = load(recording)
    samples = samples[int(start * rate) :]
    assert len(samples) > 2 * rate, f"{recording}: only {len(samples) / rate:.1f} s from {start} s on"
    ref16, _ = load(reference, 16000)
    rec16 = resample(samples, rate, 16000)
    windows = []  # (first sample, delay against the reference, correlation)
    for first in range(0, len(rec16) - WINDOW + 1, WINDOW // 2):
        window = rec16[first : first + WINDOW]
        if rms(window) > 1e-3:  # a pause between sentences says nothing either way
            offset, correlation = align((ref16, 16000), (window, 16000), 16000)
            windows.append((first, first + offset, correlation))
    assert windows, f"{recording}: silence"
    runs: list[list[tuple[int, int, float]]] = []
    for window_ in windows:
        if runs and abs(window_[1] - runs[-1][0][1]) <= SAME_DELAY and window_[2] > MIN_CORRELATION:
            runs[-1].append(window_)
        else:
            runs.append([window_])
    longest = max(runs, key=lambda run: run[-1][0] - run[0][0])
    first, last = longest[0][0], longest[-1][0] + WINDOW
    span = samples[first * rate // 16000 : last * rate // 16000]
    return Heard(
        whole=compare(reference, (samples, rate)),
        steady=compare(reference, (span, rate)),
        steady_s=(last - first) / 16000,
        window_correlation=float(np.median([w[2] for w in windows])),
    )


def assert_speech(reference: Path, recording: Path, what: str, start: float = TRIM_S) -> None:
    result = heard(reference, recording, start)
    print(f"{what}: {result}")
    assert result.window_correlation > MIN_CORRELATION, f"{what}: {result}"
    assert result.steady_s >= 2.0, f"{what}: no steady playout: {result}"
    if pesq_available():
        assert result.pesq_nb is not None and result.pesq_nb >= MIN_PESQ_NB, f"{what}: {result}"


def sent_sdp_addresses(cli: CliProcess) -> list[str]:
    """The c= addresses of every SDP the softphone sent, from its SIP trace (``--sip-trace``)."""
    addresses = []
    for entry in re.split(r"(?m)^(?=>>> |<<< )", cli.stderr):
        if entry.startswith(">>> "):
            addresses += re.findall(r"(?m)^c=IN IP4 (\S+)", entry)
    return addresses


def sent_invite_contacts(cli: CliProcess) -> list[str]:
    """The Contact of every INVITE the softphone sent, from its SIP trace."""
    contacts = []
    for entry in re.split(r"(?m)^(?=>>> |<<< )", cli.stderr):
        if entry.startswith(">>> ") and re.search(r"(?m)^INVITE ", entry):
            contacts += re.findall(r"(?mi)^(?:Contact|m): *<?([^>\r\n;]+)", entry)
    return contacts


def event(cli: CliProcess, name: str) -> dict[str, Any]:
    found = [e for e in cli.events if e.get("event") == name]
    assert found, f"no {name!r} event in {cli.events}"
    return found[-1]


# ------------------------------------------------------------------ the NATs themselves


def udp_socket(ns: Netns, host: str, port: int) -> socket.socket:
    with ns.entered():
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))
    sock.settimeout(0.5)
    return sock


@pytest.mark.timeout(20)
def test_the_routers_keep_ports_drop_unsolicited_packets_and_let_punched_holes_through() -> None:
    """What the calls below rely on, and what makes them realistic: a home router's NAT maps the source
    port unchanged, lets in only replies to what went out, and two hosts behind two NATs reach each
    other once both sent towards the other's public mapping (hole punching, RFC 5128 §3.3)."""
    with NatTopology() as net, contextlib.ExitStack() as sockets:
        server = sockets.enter_context(udp_socket(net.srv, net.server_ip, 3478))
        a = sockets.enter_context(udp_socket(net.home1, net.home1.address, 40000))
        b = sockets.enter_context(udp_socket(net.home2, net.home2.address, 40000))
        stranger = sockets.enter_context(udp_socket(net.pub, net.pub.address, 5000))
        a.sendto(b"binding", server.getsockname())
        seen_a = server.recvfrom(100)[1]
        b.sendto(b"binding", server.getsockname())
        seen_b = server.recvfrom(100)[1]
        assert (seen_a, seen_b) == ((net.public_ip1, 40000), (net.public_ip2, 40000))

        stranger.sendto(b"unsolicited", seen_a)
        with pytest.raises(TimeoutError):
            a.recvfrom(100)

        a.sendto(b"punch", seen_b)  # dropped by nat2, but opens nat1 for b
        with pytest.raises(TimeoutError):
            b.recvfrom(100)
        b.sendto(b"through", seen_a)
        assert a.recvfrom(100) == (b"through", seen_b)
        a.sendto(b"and back", seen_b)
        assert b.recvfrom(100) == (b"and back", seen_a)


# ------------------------------------------------------------------ classic SIP over UDP


def baresip_behind_nat2(lab: NatLab, user: str, play: Path, **kwargs: Any) -> Baresip:
    """baresip in home2 with STUN for its media address (``medianat=stun``, RFC 8489 Binding to coturn)."""
    return lab.baresip(
        lab.net.home2, user, play_wav=play, codecs=["PCMU"], extra_config=["module\t\t\tstun.so"],
        extra_account_params=f";medianat=stun;stunserver=stun:{lab.stun}", **kwargs,
    )  # fmt: skip


@pytest.mark.timeout(50)
@pytest.mark.skipif(not baresip_available(), reason="baresip not installed")
def test_softphone_behind_nat_calls_baresip_behind_another_nat_speech_both_ways(
    lab: NatLab, speech_8k: Path
) -> None:
    """RFC 3581: the softphone registers the Contact the registrar saw (nat1's address and port); STUN
    (RFC 8489) gives it nat1's mapping for its RTP port, which goes into c=/m=; both NATs let the media
    through once each side has sent towards the other's public address."""
    net = lab.net
    bob = baresip_behind_nat2(lab, "bob", speech_8k)
    record = lab.workdir / "softphone-heard.wav"
    with cli_in(
        net.home1, *lab.softphone_udp("alice", net.home1), "call", lab.aor("bob"), "--codecs", "PCMU",
        "--stun-server", lab.stun, "--play", str(speech_8k), "--record", str(record),
        "--duration", str(TALK_S), password=lab.kamailio.users["alice"],
    ) as alice:  # fmt: skip
        try:
            alice.wait_event("answered", timeout=20)
            contacts = lab.kamailio.ul_dump()
            assert alice.wait(timeout=TALK_S + 15) == 0
        except BaseException:
            print(lab.report())
            print(bob.log_text()[-6000:])
            raise
    bob.wait_event("CALL_CLOSED", timeout=10)
    stats = event(alice, "stats")
    print(f"bindings: {contacts}\nsoftphone: {stats}")
    assert contacts["alice"] == [f"sip:alice@{net.public_ip1}:5060"]  # nat1's mapping, and only that
    # the INVITE's Contact is the registered public one too: in-dialog requests need no proxy NAT fix
    assert set(sent_invite_contacts(alice)) == {f"sip:alice@{net.public_ip1}:5060"}
    assert set(sent_sdp_addresses(alice)) == {net.public_ip1}  # the STUN mapping of the RTP port
    assert stats["remote"].startswith(f"{net.public_ip2}:")  # baresip's STUN mapping
    assert_speech(speech_8k, record, "baresip (nat2) -> softphone (nat1)")
    assert_speech(speech_8k, bob.recordings()[-1], "softphone (nat1) -> baresip (nat2)")


@pytest.mark.timeout(50)
@pytest.mark.skipif(not baresip_available(), reason="baresip not installed")
def test_baresip_behind_nat_calls_softphone_behind_another_nat_speech_both_ways(
    lab: NatLab, speech_8k: Path
) -> None:
    """The INVITE reaches the softphone through nat1 over the mapping its REGISTER opened (the binding
    Kamailio keeps is nat1's address, RFC 3581); the answer carries the STUN mapping of its RTP port."""
    net = lab.net
    record = lab.workdir / "softphone-heard.wav"
    with cli_in(
        net.home1, *lab.softphone_udp("alice", net.home1), "answer", "--calls", "1", "--codecs", "PCMU",
        "--stun-server", lab.stun, "--play", str(speech_8k), "--record", str(record),
        password=lab.kamailio.users["alice"],
    ) as alice:  # fmt: skip
        try:
            alice.wait_event("registered", timeout=15)
            contacts = lab.kamailio.ul_dump()
            bob = baresip_behind_nat2(lab, "bob", speech_8k)
            bob.dial(lab.aor("alice"))
            alice.wait_event("answered", timeout=15)
            bob.wait_event("CALL_ESTABLISHED", timeout=10)
            time.sleep(TALK_S)
            bob.hangup()
            bob.wait_event("CALL_CLOSED", timeout=10)
            assert alice.wait(timeout=15) == 0
        except BaseException:
            print(lab.report())
            raise
    stats = event(alice, "stats")
    print(f"bindings: {contacts}\nsoftphone: {stats}")
    assert contacts["alice"] == [f"sip:alice@{net.public_ip1}:5060"]
    incoming = [e for e in alice.events if e.get("event") == "incoming"]
    assert len(incoming) == 1, f"the INVITE arrived {len(incoming)} times (stale bindings?): {incoming}"
    assert set(sent_sdp_addresses(alice)) == {net.public_ip1}
    assert stats["remote"].startswith(f"{net.public_ip2}:")
    assert_speech(speech_8k, record, "baresip (nat2) -> softphone (nat1)")
    assert_speech(speech_8k, bob.recordings()[-1], "softphone (nat1) -> baresip (nat2)")


# ------------------------------------------------------------------ classic, without STUN


@pytest.mark.timeout(50)
def test_softphone_without_stun_calls_a_public_softphone_which_latches_speech_both_ways(
    lab: NatLab, speech_8k: Path
) -> None:
    """No STUN: the softphone's offer carries its private address, which the public side cannot reach.
    The public peer's symmetric RTP (RFC 4961) latches onto where the caller's packets come from (nat1's
    mapping of its RTP port) and sends there: speech both ways all the same."""
    net = lab.net
    heard_by_bob = lab.workdir / "bob-heard.wav"
    heard_by_alice = lab.workdir / "alice-heard.wav"
    with cli_in(
        net.pub, *lab.softphone_udp("bob", net.pub), "answer", "--calls", "1", "--codecs", "PCMU",
        "--play", str(speech_8k), "--record", str(heard_by_bob), password=lab.kamailio.users["bob"],
    ) as bob:  # fmt: skip
        bob.wait_event("registered", timeout=15)
        with cli_in(
            net.home1, *lab.softphone_udp("alice", net.home1), "call", lab.aor("bob"), "--codecs", "PCMU",
            "--play", str(speech_8k), "--record", str(heard_by_alice), "--duration", str(TALK_S),
            password=lab.kamailio.users["alice"],
        ) as alice:  # fmt: skip
            try:
                assert alice.wait(timeout=TALK_S + 20) == 0
                assert bob.wait(timeout=15) == 0
            except BaseException:
                print(lab.report())
                raise
    print(f"alice: {event(alice, 'stats')}\nbob: {event(bob, 'stats')}")
    assert set(sent_sdp_addresses(alice)) == {net.home1.address}  # private: nothing else to offer
    assert event(bob, "stats")["latched"] is True
    assert event(bob, "stats")["remote"].startswith(f"{net.public_ip1}:")
    assert_speech(speech_8k, heard_by_bob, "softphone (nat1, no STUN) -> public softphone")
    assert_speech(speech_8k, heard_by_alice, "public softphone -> softphone (nat1, no STUN), latched")


@pytest.mark.timeout(50)
@pytest.mark.skipif(not baresip_available(), reason="baresip not installed")
def test_softphone_without_stun_calls_public_baresip_which_does_not_latch(
    lab: NatLab, speech_8k: Path
) -> None:
    """The same call to baresip (1.0) on the public side.  baresip has no symmetric RTP: it keeps sending
    to the unreachable private c= (into the internet's blackhole) and the softphone hears nothing.  The
    test says so (xfail) as long as that is what happens; the softphone's own direction must work."""
    net = lab.net
    bob = lab.baresip(net.pub, "bob", play_wav=speech_8k, codecs=["PCMU"])
    heard_by_alice = lab.workdir / "alice-heard.wav"
    with cli_in(
        net.home1, *lab.softphone_udp("alice", net.home1), "call", lab.aor("bob"), "--codecs", "PCMU",
        "--play", str(speech_8k), "--record", str(heard_by_alice), "--duration", str(TALK_S),
        password=lab.kamailio.users["alice"],
    ) as alice:  # fmt: skip
        try:
            assert alice.wait(timeout=TALK_S + 20) == 0
        except BaseException:
            print(lab.report())
            raise
    bob.wait_event("CALL_CLOSED", timeout=10)
    stats = event(alice, "stats")
    print(f"alice: {stats}")
    assert set(sent_sdp_addresses(alice)) == {net.home1.address}
    assert_speech(speech_8k, bob.recordings()[-1], "softphone (nat1, no STUN) -> public baresip")
    if stats["packets_received"] == 0:
        pytest.xfail("one-way audio: baresip sends to the private c= of an offer made without STUN")
    assert_speech(speech_8k, heard_by_alice, "public baresip -> softphone (nat1, no STUN)")


# ------------------------------------------------------------------ WebRTC: softphone <-> Chromium


def browser_behind_nat2(lab: NatLab, play: Path, user: str = "bob") -> BrowserPeer:
    """Chromium (JsSIP) in home2, registered over WebSocket, with coturn as its STUN server."""
    if (reason := browser_unavailable_reason()) is not None:
        pytest.skip(reason)
    peer = BrowserPeer(
        lab.workdir / user, netns=lab.net.home2, play_wav=play, name=user,
        ice_servers=[{"urls": f"stun:{lab.stun}"}],
    )  # fmt: skip
    lab.stoppers.append(peer.stop)
    peer.start()
    peer.register(user, lab.kamailio.users[user], lab.kamailio.ws_url, domain=lab.kamailio.domain)
    return peer


def assert_webrtc_through_nats(
    lab: NatLab, softphone_stats: dict[str, Any], browser_stats: dict[str, Any]
) -> None:
    """The pair ICE selected goes from nat1's mapping to nat2's: server-reflexive (or peer-reflexive,
    learnt from the checks) on both sides, never a private address."""
    print(f"softphone: {softphone_stats}\nChromium: {browser_stats}")
    assert softphone_stats["ice_state"] == "connected"
    local_type, local_address = softphone_stats["ice_local"].split()
    remote_type, remote_address = softphone_stats["ice_remote"].split()
    assert local_type in ("host", "srflx") and remote_type in ("srflx", "prflx"), softphone_stats
    assert remote_address.startswith(f"{lab.net.public_ip2}:"), softphone_stats
    assert browser_stats["remote"]["address"] == lab.net.public_ip1, browser_stats


@pytest.mark.timeout(55)
def test_softphone_behind_nat_calls_browser_behind_another_nat_over_webrtc(
    lab: NatLab, speech_48k: Path, speech_16k: Path
) -> None:
    """WebRTC profile over a WebSocket registration: ICE (RFC 8445) with server-reflexive candidates from
    coturn on both sides punches through both NATs; DTLS-SRTP and Opus on top, speech both ways."""
    net = lab.net
    bob = browser_behind_nat2(lab, speech_48k)
    record = lab.workdir / "softphone-heard.wav"
    with cli_in(
        net.home1, *lab.softphone_ws("alice", net.home1), "call", lab.aor("bob"), "--media-profile", "webrtc",
        "--stun-server", lab.stun, "--play", str(speech_16k), "--record", str(record),
        "--duration", str(WEBRTC_TALK_S), password=lab.kamailio.users["alice"],
    ) as alice:  # fmt: skip
        try:
            bob.wait_for("incoming", timeout=20)
            bob.answer()
            bob.wait_for("confirmed")
            alice.wait_event("answered", timeout=15)
            time.sleep(WEBRTC_TALK_S / 2)
            browser_stats = bob.stats()
            bob.wait_for("ended", timeout=WEBRTC_TALK_S + 10)
            assert alice.wait(timeout=15) == 0
        except BaseException:
            print(lab.report())
            raise
    assert_webrtc_through_nats(lab, event(alice, "stats"), browser_stats)
    assert_speech(speech_16k, bob.recording(), "softphone (nat1) -> Chromium (nat2), WebRTC", WEBRTC_TRIM_S)
    assert_speech(speech_48k, record, "Chromium (nat2) -> softphone (nat1), WebRTC", WEBRTC_TRIM_S)


@pytest.mark.timeout(55)
def test_browser_behind_nat_calls_softphone_behind_another_nat_over_webrtc(
    lab: NatLab, speech_48k: Path, speech_16k: Path
) -> None:
    """The other way round: Chromium's offer has its host and server-reflexive candidates; the softphone
    answers with its own and the checks find the pair between the two NAT mappings."""
    net = lab.net
    bob = browser_behind_nat2(lab, speech_48k)
    record = lab.workdir / "softphone-heard.wav"
    with cli_in(
        net.home1, *lab.softphone_ws("alice", net.home1), "answer", "--calls", "1",
        "--media-profile", "webrtc",
        "--stun-server", lab.stun, "--play", str(speech_16k), "--record", str(record),
        password=lab.kamailio.users["alice"],
    ) as alice:  # fmt: skip
        try:
            alice.wait_event("registered", timeout=15)
            bob.call(lab.aor("alice"))
            bob.wait_for("confirmed", timeout=20)
            alice.wait_event("answered", timeout=10)
            time.sleep(WEBRTC_TALK_S)
            browser_stats = bob.stats()
            bob.hangup()
            bob.wait_for("ended")
            assert alice.wait(timeout=15) == 0
        except BaseException:
            print(lab.report())
            raise
    assert_webrtc_through_nats(lab, event(alice, "stats"), browser_stats)
    assert_speech(speech_16k, bob.recording(), "softphone (nat1) -> Chromium (nat2), WebRTC", WEBRTC_TRIM_S)
    assert_speech(speech_48k, record, "Chromium (nat2) -> softphone (nat1), WebRTC", WEBRTC_TRIM_S)


@pytest.mark.timeout(55)
def test_softphone_relay_only_behind_nat_talks_to_browser_behind_another_nat_through_turn(
    lab: NatLab, speech_48k: Path, speech_16k: Path
) -> None:
    """Relay-only (RFC 8656 TURN): the softphone offers nothing but its coturn allocation, the selected
    pair's local side is that relayed candidate, and the speech still flows both ways."""
    net, turn = lab.net, lab.turn
    bob = browser_behind_nat2(lab, speech_48k)
    record = lab.workdir / "softphone-heard.wav"
    with cli_in(
        net.home1, *lab.softphone_ws("alice", net.home1), "call", lab.aor("bob"), "--media-profile", "webrtc",
        "--turn-server", turn.server, "--turn-user", turn.username, "--turn-password-env", "TURN_PASSWORD",
        "--ice-relay-only", "--play", str(speech_16k), "--record", str(record),
        "--duration", str(WEBRTC_TALK_S),
        password=lab.kamailio.users["alice"], env={"TURN_PASSWORD": turn.password},
    ) as alice:  # fmt: skip
        try:
            bob.wait_for("incoming", timeout=20)
            offer = bob.sdp("remote", "offer")
            bob.answer()
            bob.wait_for("confirmed")
            alice.wait_event("answered", timeout=15)
            time.sleep(WEBRTC_TALK_S / 2)
            browser_stats = bob.stats()
            bob.wait_for("ended", timeout=WEBRTC_TALK_S + 10)
            assert alice.wait(timeout=15) == 0
        except BaseException:
            print(f"{lab.report()}\n--- coturn log ---\n{turn.log[-6000:]}")
            raise
    stats = event(alice, "stats")
    print(f"softphone: {stats}\nChromium: {browser_stats}")
    candidates = [x for x in offer.splitlines() if x.startswith("a=candidate:")]
    assert candidates and all(" typ relay " in c for c in candidates), candidates
    assert stats["ice_state"] == "connected"
    assert stats["ice_local"].startswith(f"relay {net.server_ip}:"), stats
    assert browser_stats["remote"]["address"] == net.server_ip, browser_stats  # Chromium sends to coturn
    assert_speech(
        speech_16k, bob.recording(), "softphone (nat1, TURN) -> Chromium (nat2), WebRTC", WEBRTC_TRIM_S
    )
    assert_speech(speech_48k, record, "Chromium (nat2) -> softphone (nat1, TURN), WebRTC", WEBRTC_TRIM_S)
