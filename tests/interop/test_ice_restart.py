"""ICE restart when the network changes during a call (RFC 8445 §9, RFC 8839 §4.4.1.1.1, RFC 8842 §4).

Two softphone-cli registered with Kamailio make a WebRTC call (DTLS-SRTP over ICE).  The caller's namespace
loses its address and gets another one mid-call (ip addr add/del, as tests/robustness/test_faults.py does
for plain RTP); the engine notices within its 3 s poll, registers again and re-INVITEs with new ICE
credentials and candidates on the new address; the callee restarts its side too.  The call keeps going over
the new pair with the same DTLS association: audio is checked by content after the move.

Topology (tests.peers.netns): namespace ``phone`` (the caller, 10.200.9.1 then 10.200.9.3) and ``server``
(Kamailio and the callee, 10.200.9.2) on one veth link.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from tests.peers.audio import compare, load
from tests.peers.kamailio import KamailioServer, kamailio_available
from tests.peers.netns import netns_unavailable_reason
from tests.peers.softphone_cli import CliProcess

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not kamailio_available(), reason="kamailio/kamcmd not installed"),
    pytest.mark.skipif(
        netns_unavailable_reason() is not None,
        reason=f"ICE needs network namespaces: {netns_unavailable_reason()}",
    ),
]

OLD, NEW, SERVER = "10.200.9.1", "10.200.9.3", "10.200.9.2"


def nth_event(cli: CliProcess, name: str, n: int, timeout: float = 20.0, **fields: Any) -> dict[str, Any]:
    """The n-th (from 1) event of this name and fields, whatever came in between (the re-REGISTER and the
    re-INVITE after the move race)."""
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


def sdp_bodies(trace: str, direction: str, first_line: str) -> list[str]:
    """SDP bodies of the traced messages going ``direction`` (``>>>`` sent, ``<<<`` received) whose start
    line begins with ``first_line``; retransmissions are counted once."""
    bodies: list[str] = []
    for entry in re.split(r"^(?=<<< |>>> )", trace, flags=re.MULTILINE):
        lines = entry.split("\n")
        if not entry.startswith(direction) or len(lines) < 2 or not lines[1].startswith(first_line):
            continue
        body = entry.partition("\n\n")[2]
        if "a=ice-ufrag:" in body and body not in bodies:
            bodies.append(body)
    return bodies


def credentials(sdp: str) -> tuple[str, str]:
    ufrag = re.search(r"^a=ice-ufrag:(\S+)", sdp, re.MULTILINE)
    pwd = re.search(r"^a=ice-pwd:(\S+)", sdp, re.MULTILINE)
    assert ufrag is not None and pwd is not None, sdp
    return ufrag.group(1), pwd.group(1)


def tail_windows(reference: Path, recording: Path, seconds: float = 3.0) -> list[float]:
    """Correlation with the speech of each 1 s window of the recording's last ``seconds`` (each window
    aligned on its own: a frame stretched by a busy CPU costs one window, not the whole tail)."""
    rec, rate = load(recording)
    total = len(rec) / rate
    assert total > seconds + 0.5, f"recording only {total:.2f} s long"
    scores = []
    start = total - seconds - 0.5
    while start + 1.0 <= total - 0.5 + 1e-9:
        part = rec[int(start * rate) : int((start + 1.0) * rate)]
        scores.append(round(compare(reference, (part, rate)).correlation, 3))
        start += 1.0
    return scores


@pytest.mark.slow
@pytest.mark.timeout(58)
def test_new_address_mid_webrtc_call_restarts_ice_and_keeps_dtls(speech_8k: Path, tmp_path: Path) -> None:
    """The caller's address changes mid-call: the re-INVITE carries new a=ice-ufrag/pwd and candidates on
    the new address, the callee answers with new ones too (RFC 8839 §4.4.3.1.1), the media moves to the
    new pair without a new DTLS handshake, and speech goes both ways afterwards."""
    from tests.peers.netns import Topology

    heard, heard_back = tmp_path / "heard.wav", tmp_path / "heard-back.wav"
    with Topology() as topo:
        phone, server = topo.namespace("phone"), topo.namespace("server")
        phone_if, _ = topo.link(phone, f"{OLD}/24", server, f"{SERVER}/24")
        phone.set_sysctl(f"net.ipv4.conf.{phone_if}.promote_secondaries", "1")
        kamailio = KamailioServer(host=SERVER)
        with server.entered():
            kamailio.start()
        try:

            def account(user: str, listen: str) -> list[str]:
                return [
                    "--user", f"sip:{user}@{kamailio.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
                    "--proxy", f"sip:{kamailio.host}:{kamailio.udp_port}", "--listen", listen,
                ]  # fmt: skip

            with server.entered():  # a child process is born in the namespace of the thread that starts it
                callee = CliProcess(
                    *account("carol", f"{SERVER}:0"), "-v", "answer", "--record", str(heard),
                    "--play", str(speech_8k), "--codecs", "PCMU",
                    password=kamailio.users["carol"],
                )  # fmt: skip
            with callee:
                callee.wait_event("registered", timeout=15)
                with phone.entered():
                    caller = CliProcess(
                        *account("alice", "0.0.0.0:0"), "--sip-trace", "-v", "--media-profile", "webrtc",
                        "call", kamailio.aor("carol"), "--play", str(speech_8k), "--interactive",
                        "--codecs", "PCMU", "--record", str(heard_back),
                        password=kamailio.users["alice"], stdin=True,
                    )  # fmt: skip
                with caller:
                    caller.wait_event("registered", timeout=15)
                    answered = caller.wait_event("answered", timeout=20)
                    # the engine polls the route every 3 s and needs one look at the old address first
                    time.sleep(4.0)
                    phone.run("ip", "addr", "add", f"{NEW}/24", "dev", phone_if)
                    phone.run("ip", "addr", "del", f"{OLD}/24", "dev", phone_if)
                    moved_at = time.monotonic()
                    moved = nth_event(caller, "call_refreshed", 1, reason="address changed")
                    reinvited_in = time.monotonic() - moved_at
                    time.sleep(4.0)  # speech over the new pair
                    caller.send('{"command": "hangup"}')
                    stats = nth_event(caller, "stats", 1)
                    assert caller.wait(timeout=20) == 0, caller.stderr[-3000:]
                    trace = caller.stderr
                callee_stats = callee.wait_event("stats", timeout=15)
                ended = callee.wait_event("ended", timeout=15)
                callee.terminate()
                callee_log = callee.stderr
        finally:
            kamailio.stop()

    offers = sdp_bodies(trace, ">>>", "INVITE ")
    answers = sdp_bodies(trace, "<<<", "SIP/2.0 200")
    assert len(offers) == 2 and len(answers) == 2, trace[-6000:]
    print(
        f"re-INVITE {reinvited_in:.2f} s after the move; caller {stats}; callee {callee_stats}; "
        f"offers {[credentials(o) for o in offers]}, answers {[credentials(a) for a in answers]}"
    )
    assert answered["profile"] == "webrtc" and moved["status"] == 200 and moved["address"] == NEW
    assert credentials(offers[1]) != credentials(offers[0]), "the re-INVITE restarts ICE"
    assert credentials(answers[1]) != credentials(answers[0]), "and the callee restarts its side"
    assert f"c=IN IP4 {NEW}" in offers[1] and f" {OLD} " not in offers[1].partition("\ns=")[2]
    assert re.search(rf"^a=candidate:.* {re.escape(NEW)} \d+ typ host", offers[1], re.MULTILINE)
    for s in (stats, callee_stats):
        assert s["ice_restarts"] == 1 and s["dtls_handshakes"] == 1, s
        assert s["dtls_state"] in ("connected", "closed") and s["srtp_failures"] == 0, s
    assert NEW in stats["ice_local"] and NEW in callee_stats["ice_remote"]
    # one handshake each, at the start of the call: the restart moved the association, it made no new one
    assert len(re.findall(r"DTLS (client|server) connected", trace)) == 1, trace[-4000:]
    assert len(re.findall(r"DTLS (client|server) connected", callee_log)) == 1, callee_log[-4000:]
    assert ended["reason"] == "remote hangup"
    forward, back = tail_windows(speech_8k, heard), tail_windows(speech_8k, heard_back)
    print(f"speech in the last 3 s (1 s windows): callee heard {forward}, caller heard {back}")
    assert statistics.median(forward) > 0.8 and statistics.median(back) > 0.8


# ---------------------------------------------------------------- a restart offered by a browser


@pytest.mark.slow
@pytest.mark.timeout(58)
@pytest.mark.xfail(
    strict=False,
    reason="intermittent (about 1 run in 2 here): Chromium keeps checking our old candidate with our old "
    "ufrag after our answer with new credentials arrived, so the new pair is never nominated and the media "
    "stays on the old pair (which still works: no audio is lost); under investigation",
)
def test_browser_restarts_ice_and_the_softphone_answers_with_new_credentials(
    tmp_path: Path, speech_48k: Path, speech_16k: Path
) -> None:
    """Chromium (JsSIP, over WebSocket) restarts ICE mid-call (createOffer({iceRestart: true}), what a
    browser does when its network changed): the softphone sees new credentials in the re-INVITE, gathers
    again, answers with new ones, runs the checks again and keeps the DTLS association; speech goes on."""
    browser = pytest.importorskip("tests.interop.test_browser")
    if browser.browser_unavailable_reason() is not None:
        pytest.skip(browser.browser_unavailable_reason())
    reason = browser.cli_lacks_webrtc()
    if reason is not None:
        pytest.skip(reason)
    record = tmp_path / "softphone-heard.wav"
    with (
        browser.two_hosts("10.200.41") as (_, a, b),
        browser.kamailio_in(a, a.address) as kamailio,
    ):
        lab = browser.Lab(a, b, kamailio, tmp_path)
        try:
            alice = lab.browser("alice", lab.a, speech_48k)
            lab.register(alice, "alice")
            with browser.cli_in(
                lab.b, *browser.softphone_account(lab, "carol"), "-v", "answer", "--calls", "1",
                "--media-profile", "webrtc", "--play", str(speech_16k), "--record", str(record),
                password=lab.kamailio.users["carol"],
            ) as carol:  # fmt: skip
                carol.wait_event("registered", timeout=15)
                alice.call(lab.aor("carol"))
                alice.wait_for("confirmed", timeout=20)
                carol.wait_event("answered", timeout=10)
                first_offer = alice.sdp("local", "offer")
                first_answer = alice.sdp("remote", "answer")
                time.sleep(2.0)
                alice.evaluate(
                    "new Promise((resolve, reject) => {"
                    " if (!phone.session.renegotiate({rtcOfferConstraints: {iceRestart: true}}, resolve))"
                    " reject(new Error('renegotiate() refused')); })",
                    timeout=20,
                )
                restarted_at = alice.recorded_seconds()
                second_offer = alice.sdp("local", "offer")
                second_answer = alice.sdp("remote", "answer")
                time.sleep(5.0)
                browser_stats = alice.evaluate("phone.stats()")
                alice.hangup()
                alice.wait_for("ended")
                stats = carol.wait_event("stats", timeout=10)
                assert carol.wait(timeout=15) == 0
                log = carol.stderr
            recording = alice.recording()
        finally:
            for peer in lab.browsers:
                peer.stop()
    print(f"softphone stats {stats}; Chromium {browser_stats}")
    print("\n".join(line for line in log.splitlines() if "ICE" in line or "DTLS" in line))
    assert credentials(second_offer) != credentials(first_offer), "Chromium restarted ICE"
    assert credentials(second_answer) != credentials(first_answer), "the softphone answers the restart"
    assert stats["ice_restarts"] == 1 and stats["dtls_handshakes"] == 1 and stats["srtp_failures"] == 0
    # the media runs on the softphone's new agent: a candidate of the second answer, none of the first
    port = stats["ice_local"].rsplit(":", 1)[1]
    assert f" {port} typ host" in second_answer and f" {port} typ host" not in first_answer
    assert len(re.findall(r"DTLS (client|server) connected", log)) == 1, log[-4000:]
    browser.assert_speech(
        browser.heard(speech_16k, recording, start=restarted_at + 1.0), "softphone -> Chromium after restart"
    )
    samples, rate = load(record)
    browser.assert_speech(
        browser.heard(speech_48k, record, start=len(samples) / rate - 4.0),
        "Chromium -> softphone after restart",
    )
