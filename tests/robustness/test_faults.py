"""Network faults during calls: lost signalling, lost RTP, a TCP flow reset, a new local IP address.

The impairment comes from relays in tests/peers/impair.py (there is no netem here); the outcome of
each test is in docs/ROBUSTNESS.md.  Audio is checked by content (alignment and correlation with the
speech that was sent).  A peer that stops sending RTP is covered by tests/interop/test_calls_sipp.py.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.peers.audio import audio_tools_available, compare, load, speech_wav
from tests.peers.baresip import BaresipFactory, baresip_available
from tests.peers.impair import Impairment, SipRelay, TcpRelay, UdpRelay
from tests.peers.kamailio import KamailioServer, kamailio_available
from tests.peers.softphone_cli import CliProcess, free_udp_port

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]

CALL_SECONDS = 4


@pytest.fixture(scope="module")
def speech() -> Path:
    if not audio_tools_available():
        pytest.skip("espeak-ng and sox are needed (apt-get install espeak-ng sox)")
    return speech_wav(rate=8000, seconds=60)


@pytest.fixture
def baresips(tmp_path: Path) -> Iterator[BaresipFactory]:
    if not baresip_available():
        pytest.skip("baresip not installed (apt-get install baresip-core)")
    factory = BaresipFactory(tmp_path / "baresip")
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def kamailio() -> Iterator[KamailioServer]:
    if not kamailio_available():
        pytest.skip("kamailio not installed (apt-get install kamailio)")
    with KamailioServer() as server:
        yield server


def event(cli: CliProcess, name: str) -> dict[str, Any] | None:
    return next((e for e in reversed(cli.events) if e.get("event") == name), None)


def nth_event(cli: CliProcess, name: str, n: int, timeout: float = 20.0, **fields: Any) -> dict[str, Any]:
    """The n-th (from 1) event of this name and fields, whenever it came: unlike ``wait_event`` this does
    not depend on the order of events that race (the re-REGISTER and the re-INVITE after a fault)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            e
            for e in list(cli.events)
            if e.get("event") == name and all(e.get(k) == v for k, v in fields.items())
        ]
        if len(found) >= n:
            return found[n - 1]
        if time.monotonic() > deadline or cli.proc.poll() is not None:
            raise AssertionError(f"no {name} #{n} within {timeout} s: {cli.events}\n{cli.stderr[-3000:]}")
        time.sleep(0.05)


def window_correlations(reference: Path, recording: Path, start: float, end: float) -> list[float]:
    """Correlation with the speech of each 1 s window of the recording between ``start`` and ``end`` (s);
    each window is aligned on its own, so a frame dropped or stretched by a busy CPU costs one window."""
    rec, rate = load(recording)
    scores = []
    t = max(0.0, start)
    while t + 1.0 <= min(end, len(rec) / rate):
        part = rec[int(t * rate) : int((t + 1.0) * rate)]
        scores.append(round(compare(reference, (part, rate)).correlation, 3))
        t += 1.0
    return scores


def tail_is_speech(reference: Path, recording: Path, seconds: float = 3.0) -> list[float]:
    """Checks the end of a call's recording (the callee records from its 2xx on: a lost 2xx leaves silence
    at the start, which says nothing about the audio path); returns the window scores for the report."""
    rec, rate = load(recording)
    total = len(rec) / rate
    assert total > seconds + 0.5, f"recording only {total:.2f} s long"
    scores = window_correlations(reference, recording, total - seconds - 0.5, total - 0.5)
    # the move can cost a window around the re-INVITE; speech must be back and intact in at least one
    assert max(scores) > 0.9 and statistics.median(scores) > 0.6, scores
    return scores


def engine_call_through(
    relay: SipRelay, callee_port: int, speech: Path, heard: Path
) -> tuple[CliProcess, CliProcess]:
    """engine -> relay -> engine, ``CALL_SECONDS`` of speech, the caller hangs up; both have exited."""
    with CliProcess(
        "--listen", f"127.0.0.1:{callee_port}", "answer", "--record", str(heard), "--codecs", "PCMU"
    ) as callee:
        callee.wait_event("started")
        with CliProcess(
            "--listen", "127.0.0.1:0", "call", relay.uri(), "--play", str(speech),
            "--duration", str(CALL_SECONDS), "--codecs", "PCMU",
        ) as caller:  # fmt: skip
            caller.wait_event("answered", timeout=30)
            assert caller.wait(timeout=30) == 0, caller.stderr[-3000:]
        assert callee.wait(timeout=30) == 0, callee.stderr[-3000:]
    return caller, callee


# ---------------------------------------------------------------------------- the relay itself


def _through_udp_relay(seed: int, impairment: Impairment, count: int = 400) -> list[int]:
    """Sends ``count`` numbered datagrams 2 ms apart through a UdpRelay; returns the numbers received."""
    import socket
    import threading

    got: list[int] = []
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as source,
    ):
        sink.bind(("127.0.0.1", 0))
        sink.settimeout(0.5)

        def drain() -> None:  # at once: the socket buffer holds only ~250 small datagrams
            with contextlib.suppress(TimeoutError):
                while True:
                    got.append(int.from_bytes(sink.recv(16), "big"))

        reader = threading.Thread(target=drain)
        reader.start()
        with UdpRelay(sink.getsockname(), link=impairment, seed=seed) as relay:
            for n in range(count):
                source.sendto(n.to_bytes(4, "big"), relay.address)
                time.sleep(0.002)
            reader.join(timeout=10)
            assert relay.counters("udp", "a->b").dropped == count - len(got)
    return got


def test_relay_loss_is_random_but_repeatable_for_a_seed() -> None:
    first = _through_udp_relay(1, Impairment(loss=20))
    assert 0.12 < 1 - len(first) / 400 < 0.28
    assert _through_udp_relay(1, Impairment(loss=20)) == first
    assert _through_udp_relay(2, Impairment(loss=20)) != first


def test_relay_jitter_reorders_packets_like_netem() -> None:
    got = _through_udp_relay(1, Impairment(delay_ms=20, jitter_ms=20), count=200)
    assert sorted(got) == list(range(200))
    assert got != sorted(got)


# ---------------------------------------------------------------------------- signalling loss


@pytest.mark.slow
# Seeds picked so that the relay does drop: 19 loses the 2xx to the INVITE and its first retransmission.
@pytest.mark.parametrize(("loss", "seed"), [(5, 19), (20, 3)])
def test_engines_set_up_and_end_a_call_through_signalling_loss(
    loss: int, seed: int, speech: Path, tmp_path: Path
) -> None:
    """RFC 3261 §17.1.1.2, §17.1.2.2, §13.3.1.4: lost INVITEs, 2xx, ACKs and BYEs are retransmitted."""
    port = free_udp_port()
    heard = tmp_path / "heard.wav"
    with SipRelay(("127.0.0.1", port), sip=Impairment(loss=loss), seed=seed) as relay:
        caller, callee = engine_call_through(relay, port, speech, heard)
        print(f"engine<->engine {loss}% SIP loss: {relay.summary()}; dropped {relay.dropped_messages()}")
    assert relay.dropped("sip") >= 1, "the seed must make the relay drop something"
    assert relay.retransmissions() >= relay.dropped("sip") - 1  # the last 200 (BYE) may die unanswered
    assert event(caller, "ended")["reason"] == "local hangup"  # type: ignore[index]
    assert event(callee, "ended")["reason"] == "remote hangup"  # type: ignore[index]
    print(f"speech windows at the end: {tail_is_speech(speech, heard)}")


@pytest.mark.slow
@pytest.mark.parametrize(("loss", "seed"), [(5, 8), (20, 3)])  # 8 loses the first INVITE
def test_engine_calls_baresip_through_signalling_loss(
    loss: int, seed: int, speech: Path, baresips: BaresipFactory
) -> None:
    """The same with baresip answering: both stacks recover from the lost messages."""
    bob = baresips(user="bob", codecs=["PCMU"], answer_mode="auto")
    with SipRelay(("127.0.0.1", bob.sip_port), sip=Impairment(loss=loss), seed=seed) as relay:
        with CliProcess(
            "--listen", "127.0.0.1:0", "call", relay.uri("bob"), "--play", str(speech),
            "--duration", str(CALL_SECONDS), "--codecs", "PCMU",
        ) as caller:  # fmt: skip
            caller.wait_event("answered", timeout=30)
            assert caller.wait(timeout=30) == 0, caller.stderr[-3000:]
        bob.wait_event("CALL_CLOSED", timeout=20)
        print(f"engine->baresip {loss}% SIP loss: {relay.summary()}; dropped {relay.dropped_messages()}")
    assert relay.dropped("sip") >= 1
    assert event(caller, "ended")["reason"] == "local hangup"  # type: ignore[index]
    recordings = bob.recordings()
    assert recordings, bob.log_text()[-3000:]
    print(f"speech windows at the end: {tail_is_speech(speech, recordings[-1])}")


@pytest.mark.slow
def test_baresip_calls_engine_through_20_percent_signalling_loss(
    speech: Path, baresips: BaresipFactory, tmp_path: Path
) -> None:
    """baresip calls, the engine answers and hangs up: its 2xx and BYE get through the loss too."""
    port = free_udp_port()
    heard = tmp_path / "heard.wav"
    with SipRelay(("127.0.0.1", port), sip=Impairment(loss=20), seed=11) as relay:
        alice = baresips(user="alice", codecs=["PCMU"], play_wav=speech)
        with CliProcess(
            "--listen", f"127.0.0.1:{port}", "answer", "--record", str(heard), "--codecs", "PCMU",
            "--duration", str(CALL_SECONDS),
        ) as callee:  # fmt: skip
            callee.wait_event("started")
            alice.dial(relay.uri("bob"))
            callee.wait_event("answered", timeout=30)
            assert callee.wait(timeout=30) == 0, callee.stderr[-3000:]
        alice.wait_event("CALL_CLOSED", timeout=20)
        print(f"baresip->engine 20% SIP loss: {relay.summary()}; dropped {relay.dropped_messages()}")
    assert relay.dropped("sip") >= 1
    assert event(callee, "ended")["reason"] == "local hangup"  # type: ignore[index]
    print(f"speech windows at the end: {tail_is_speech(speech, heard)}")


# ---------------------------------------------------------------------------- media loss


@pytest.mark.slow
def test_20_percent_rtp_loss_is_concealed_and_the_call_goes_on(speech: Path, tmp_path: Path) -> None:
    """RTP loss does not end the call; the jitter buffer conceals the gaps and counts them."""
    port = free_udp_port()
    heard = tmp_path / "heard.wav"
    with SipRelay(("127.0.0.1", port), media=Impairment(loss=20), seed=5) as relay:
        caller, callee = engine_call_through(relay, port, speech, heard)
        rtp = relay.counters("rtp", "a->b")
        print(f"20% RTP loss: {relay.summary()}")
    stats = event(callee, "stats")
    assert stats is not None
    assert event(callee, "ended")["reason"] == "remote hangup"  # type: ignore[index]
    assert 0.12 < rtp.dropped / rtp.packets < 0.28
    assert stats["concealed_frames"] >= 0.5 * rtp.dropped
    match = compare(speech, heard)
    windows = window_correlations(speech, heard, 0.5, 10.0)
    print(f"callee stats {stats}; audio {match}; 1 s windows {windows}")
    assert statistics.median(windows) > 0.5


# ---------------------------------------------------------------------------- TCP reset


@pytest.mark.slow
def test_tcp_reset_mid_call_reconnects_reregisters_and_keeps_the_call(
    kamailio: KamailioServer, speech: Path, tmp_path: Path
) -> None:
    """RFC 5626 §4.4: a reset flow is re-established and the binding refreshed; the call and its media
    (peer to peer, not through the flow) go on, and the BYE still reaches the peer."""
    heard = tmp_path / "heard.wav"
    relay = TcpRelay(("127.0.0.1", kamailio.tcp_port))
    with relay, CliProcess(
        "--user", f"sip:carol@{kamailio.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
        "--proxy", f"sip:{kamailio.host}:{kamailio.udp_port}", "--listen", "127.0.0.1:0",
        "answer", "--record", str(heard), "--codecs", "PCMU",
        password="carol-secret",
    ) as callee:  # fmt: skip
        callee.wait_event("registered", timeout=15)
        with CliProcess(
            "--user", f"sip:alice@{kamailio.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
            "--transport", "tcp", "--proxy", f"sip:{kamailio.host}:{relay.port};transport=tcp",
            "--listen", "127.0.0.1:0", "call", f"sip:carol@{kamailio.domain}",
            "--play", str(speech), "--interactive", "--codecs", "PCMU",
            password="alice-secret", stdin=True,
        ) as caller:  # fmt: skip
            first = caller.wait_event("registered", timeout=15)
            caller.wait_event("answered", timeout=15)
            time.sleep(2.0)
            assert relay.cut() >= 1
            cut_at = time.monotonic()
            again = nth_event(caller, "registered", 2)
            reregistered_in = time.monotonic() - cut_at
            refreshed = nth_event(caller, "call_refreshed", 1, reason="connection lost")
            bindings = kamailio.ul_dump()
            time.sleep(3.0)
            caller.send('{"command": "hangup"}')
            assert caller.wait(timeout=20) == 0, caller.stderr[-3000:]
        ended = callee.wait_event("ended", timeout=15)
        callee.terminate()
    print(
        f"TCP reset: re-registered after {reregistered_in:.2f} s ({first['contact']} -> {again['contact']}); "
        f"relay accepted {relay.accepted} connections; bindings {bindings}"
    )
    assert relay.accepted >= 2
    assert refreshed["status"] == 200
    assert any(again["contact"] in contacts for aor, contacts in bindings.items() if "alice" in aor)
    assert ended["reason"] == "remote hangup"
    assert event(caller, "ended")["reason"] == "local hangup"  # type: ignore[index]
    # the 3 s after the reset: still the speech, not silence or noise
    print(f"speech in the last 3 s: {tail_is_speech(speech, heard)}")


@pytest.mark.slow
def test_peer_bye_reaches_us_after_a_tcp_reset(kamailio: KamailioServer, speech: Path) -> None:
    """After the reset the proxy has no way back to our old Contact (no RFC 5626 flow token): the engine
    refreshes the call's target with a re-INVITE over a new connection, so the peer's BYE arrives."""
    with (
        TcpRelay(("127.0.0.1", kamailio.tcp_port)) as relay,
        CliProcess(
            "--user", f"sip:carol@{kamailio.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
            "--proxy", f"sip:{kamailio.host}:{kamailio.udp_port}", "--listen", "127.0.0.1:0",
            "answer", "--interactive", "--codecs", "PCMU",
            password="carol-secret", stdin=True,
        ) as callee,
    ):  # fmt: skip
        callee.wait_event("registered", timeout=15)
        with CliProcess(
            "--user", f"sip:alice@{kamailio.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
            "--transport", "tcp", "--proxy", f"sip:{kamailio.host}:{relay.port};transport=tcp",
            "--listen", "127.0.0.1:0", "call", f"sip:carol@{kamailio.domain}", "--play", str(speech),
            "--codecs", "PCMU",
            password="alice-secret",
        ) as caller:  # fmt: skip
            caller.wait_event("registered", timeout=15)
            callee.wait_event("incoming", timeout=15)
            callee.send('{"command": "answer"}')
            caller.wait_event("answered", timeout=15)
            time.sleep(1.0)
            relay.cut()
            refreshed = nth_event(caller, "call_refreshed", 1, reason="connection lost")
            callee.send('{"command": "hangup"}')
            ended = caller.wait_event("ended", timeout=10)
            assert caller.wait(timeout=15) == 0, caller.stderr[-3000:]
        callee.terminate()
    print(f"after the reset: {refreshed}; {ended}")
    assert refreshed["status"] == 200
    assert ended["reason"] == "remote hangup"


# ---------------------------------------------------------------------------- address change


def _netns_reason() -> str | None:
    from tests.peers.netns import netns_unavailable_reason

    if not kamailio_available():
        return "kamailio not installed"
    return netns_unavailable_reason()


def _ul_contacts(kamailio: KamailioServer, user: str) -> list[str]:
    return [c for aor, contacts in kamailio.ul_dump().items() if user in aor for c in contacts]


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["udp", "tcp", "ws"])
def test_new_local_address_mid_call_reregisters_and_reinvites(
    transport: str, speech: Path, tmp_path: Path
) -> None:
    """RFC 5626 §4.4 / RFC 3261 §14: when the local address changes, the engine registers the new Contact
    and re-INVITEs its calls with the new Contact and c= address; the audio carries on.  Over TCP and
    WebSocket the flow bound to the old address is dropped and a new one opened from the new address."""
    reason = _netns_reason()
    if reason is not None:
        pytest.skip(reason)
    if shutil.which("ip") is None:
        pytest.skip("iproute2 missing")
    from tests.peers.netns import Topology

    heard, heard_back = tmp_path / "heard.wav", tmp_path / "heard-back.wav"
    with Topology() as topo:
        phone, server = topo.namespace("phone"), topo.namespace("server")
        phone_if, _ = topo.link(phone, "10.200.7.1/24", server, "10.200.7.2/24")
        phone.set_sysctl(f"net.ipv4.conf.{phone_if}.promote_secondaries", "1")
        kamailio = KamailioServer(host="10.200.7.2")
        with server.entered():
            kamailio.start()
        try:
            with server.entered():  # a child process is born in the namespace of the thread that starts it
                callee = CliProcess(
                    "--user", f"sip:carol@{kamailio.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
                    "--proxy", f"sip:{kamailio.host}:{kamailio.udp_port}", "--listen", "10.200.7.2:0",
                    "answer", "--record", str(heard), "--play", str(speech), "--codecs", "PCMU",
                    password="carol-secret",
                )  # fmt: skip
            try:  # registered before the caller dials it
                callee.wait_event("registered", timeout=15)
            except BaseException:
                callee.kill()
                raise
            route = {
                "udp": ["--proxy", f"sip:{kamailio.host}:{kamailio.udp_port}"],
                "tcp": ["--transport", "tcp", "--proxy", f"sip:{kamailio.host}:{kamailio.tcp_port}"],
                "ws": ["--transport", "ws", "--ws-url", kamailio.ws_url, "--media-profile", "classic"],
            }[transport]
            with phone.entered():
                caller = CliProcess(
                    "--user", f"sip:alice@{kamailio.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
                    *route, "--listen", "0.0.0.0:0",
                    "call", f"sip:carol@{kamailio.domain}", "--play", str(speech), "--interactive",
                    "--codecs", "PCMU", "--record", str(heard_back),
                    password="alice-secret", stdin=True,
                )  # fmt: skip
            with callee, caller:
                caller.wait_event("registered", timeout=15)
                caller.wait_event("answered", timeout=15)
                # the engine polls the route every 3 s and needs one look at the old address first
                time.sleep(4.0)
                phone.run("ip", "addr", "add", "10.200.7.3/24", "dev", phone_if)
                phone.run("ip", "addr", "del", "10.200.7.1/24", "dev", phone_if)
                moved_at = time.monotonic()
                again = nth_event(caller, "registered", 2)
                moved = nth_event(caller, "call_refreshed", 1, reason="address changed")
                reinvited_in = time.monotonic() - moved_at
                time.sleep(3.0)
                contacts = _ul_contacts(kamailio, "alice")
                caller.send('{"command": "hangup"}')
                assert caller.wait(timeout=20) == 0, caller.stderr[-3000:]
                ended = callee.wait_event("ended", timeout=15)
                callee.terminate()
        finally:
            kamailio.stop()
    print(f"new address: registered {again['contact']}, media {moved} after {reinvited_in:.2f} s; {contacts}")
    if transport != "ws":  # over WebSocket the Contact host is .invalid (RFC 7118 §5)
        assert "10.200.7.3" in again["contact"]
        assert any("10.200.7.3" in c for c in contacts)
    assert moved["status"] == 200
    assert ended["reason"] == "remote hangup"
    # both directions: the peer sends to the new address it learnt from the re-INVITE
    print(
        f"speech in the last 3 s: {tail_is_speech(speech, heard)}, back: {tail_is_speech(speech, heard_back)}"
    )
