"""A WebRTC gateway: Kamailio + rtpengine between the softphone on a WebSocket (WebRTC media) and baresip
on UDP (plain RTP/AVP).

The softphone registers over ws:// with the WebRTC media profile (UDP/TLS/RTP/SAVPF: DTLS-SRTP, ICE,
rtcp-mux); baresip registers over UDP with plain RTP/AVP and no encryption.  Neither could talk to the
other directly (baresip refuses SAVPF, the softphone's WebRTC calls need DTLS and ICE), so Kamailio hands
each offer and answer to rtpengine (``KamailioServer(rtpengine=...)``), which terminates DTLS-SRTP and
ICE towards the softphone and relays plain RTP to baresip.  The SIP traces prove the conversion: the
softphone only ever sees SAVPF with a fingerprint, baresip only RTP/AVP.

ICE needs real interfaces (aioice never gathers loopback), so everything runs in two throw-away network
namespaces (tests.peers.netns): ``a`` holds the gateway (Kamailio, rtpengine), ``b`` the two phones.
Audio is checked by content both ways (tests.peers.audio).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from softphone.core.account import AccountConfig
from softphone.core.engine import Engine, MediaOptions
from softphone.core.events import EngineEvent
from tests.interop.test_calls_baresip import CALL_SECONDS, check_audio, match_speech
from tests.interop.test_webrtc_engine import FirstSound, Tone, _in_namespace
from tests.peers import softphone_cli
from tests.peers.audio import compare, load, rms, write_wav
from tests.peers.baresip import Baresip, baresip_available
from tests.peers.kamailio import KamailioServer
from tests.peers.netns import Netns, netns_unavailable_reason, two_hosts
from tests.peers.rtpengine import RtpEngine, kamailio_rtpengine_module_available, rtpengine_available
from tests.peers.softphone_cli import CliProcess

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not rtpengine_available(), reason="rtpengine not installed (rtpengine-daemon)"),
    pytest.mark.skipif(
        not kamailio_rtpengine_module_available(), reason="kamailio or its rtpengine module not installed"
    ),
]
calls = [
    pytest.mark.slow,
    pytest.mark.skipif(not baresip_available(), reason="baresip not installed"),
    pytest.mark.skipif(
        netns_unavailable_reason() is not None,
        reason=f"WebRTC media needs ICE, ICE needs network namespaces: {netns_unavailable_reason()}",
    ),
]


def with_marks(marks: list[pytest.MarkDecorator]) -> Any:
    def apply(test: Any) -> Any:
        for mark in marks:
            test = mark(test)
        return test

    return apply


class Gateway:
    """Kamailio with rtpengine in namespace ``a``; the phones' namespace ``b``."""

    def __init__(self, a: Netns, b: Netns, kamailio: KamailioServer, rtpengine: RtpEngine) -> None:
        self.a, self.b, self.kamailio, self.rtpengine = a, b, kamailio, rtpengine

    def logs(self) -> str:
        return (
            f"--- kamailio (tail) ---\n{self.kamailio.log_text()[-3000:]}\n"
            f"--- rtpengine (tail) ---\n{self.rtpengine.log_text()[-4000:]}\n"
        )


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with two_hosts("10.200.7") as (_, a, b), RtpEngine(a.address, netns=a) as rtpe:
        with a.entered():  # kamailio (a child of this thread) and its readiness probe live in a
            k = KamailioServer(host=a.address, rtpengine=rtpe.ng_socket).start()
        try:
            yield Gateway(a, b, k, rtpe)
        finally:
            k.stop()


@contextlib.contextmanager
def baresip_in(gw: Gateway, tmp_path: Path, **kwargs: Any) -> Iterator[Baresip]:
    """baresip as bob in namespace b, registered over UDP, plain RTP/AVP, SIP trace in its log."""
    peer = Baresip(
        tmp_path / "baresip", user="bob", registrar=gw.kamailio, host=gw.b.address, sip_trace=True, **kwargs
    )
    with gw.b.entered():  # baresip and our ctrl_tcp connection to it live in b
        peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@contextlib.contextmanager
def softphone_in(gw: Gateway, *args: str) -> Iterator[CliProcess]:
    """softphone-cli as alice in namespace b, registered over ws://, WebRTC media, SIP trace on stderr."""
    k = gw.kamailio
    saved = softphone_cli.CLI
    softphone_cli.CLI = gw.b.command(sys.executable, "-m", "softphone.cli")
    try:
        process = CliProcess(
            "--user", f"sip:alice@{k.domain}", "--password-env", "SOFTPHONE_TEST_PASSWORD",
            "--ws-url", k.ws_url, "--listen", f"{gw.b.address}:0", "--sip-trace",
            "--media-profile", "webrtc", *args,
            password=k.users["alice"],
        )  # fmt: skip
    finally:
        softphone_cli.CLI = saved
    with process:
        yield process


# ------------------------------------------------------------------ what the SIP traces show


def received_sdps(trace: str) -> list[str]:
    """The SDP bodies of the messages the softphone received (``<<<`` blocks of its --sip-trace)."""
    bodies = []
    for block in re.split(r"^(?=>>> |<<< )", trace, flags=re.MULTILINE):
        if block.startswith("<<< ") and "\nv=0" in block:
            bodies.append(block[block.index("\nv=0") + 1 :])
    return bodies


def baresip_received_sdps(log: str, bob: Baresip) -> list[str]:
    """The SDP bodies of the messages baresip received, from its SIP trace (``-s``: each message follows
    a ``UDP <source> -> <destination>`` line)."""
    bodies = []
    me = f"{bob.host}:{bob.sip_port}"
    for block in re.split(r"^(?=(?:UDP|TCP|TLS) \S+ -> \S+$)", log, flags=re.MULTILINE):
        head, _, rest = block.partition("\n")
        if head.endswith(f"-> {me}"):
            bodies += re.findall(r"^(v=0\n(?:[a-z]=.*\n)+)", rest, re.MULTILINE)
    return bodies


def media_line(sdp: str) -> str:
    match = re.search(r"^m=audio .*$", sdp, re.MULTILINE)
    assert match, sdp
    return match.group(0).strip()


def assert_converted(gw: Gateway, softphone_trace: str, bob: Baresip) -> None:
    """The softphone received only WebRTC SDP (SAVPF, fingerprint, ICE candidates, rtcp-mux), baresip only
    plain RTP/AVP; both with rtpengine's address: the media is anchored there."""
    ours = received_sdps(softphone_trace)
    assert ours, softphone_trace[-4000:]
    for sdp in ours:
        assert " UDP/TLS/RTP/SAVPF " in media_line(sdp), sdp
        assert re.search(r"^a=fingerprint:sha-256 ", sdp, re.MULTILINE), sdp
        assert re.search(
            rf"^a=candidate:.* {re.escape(gw.rtpengine.host)} \d+ typ host", sdp, re.MULTILINE
        ), sdp
        assert "a=rtcp-mux" in sdp and "a=crypto" not in sdp, sdp
    log = bob.log_text()
    theirs = baresip_received_sdps(log, bob)
    assert theirs, log[-4000:]
    for sdp in theirs:
        assert " RTP/AVP " in media_line(sdp), sdp
        assert f"c=IN IP4 {gw.rtpengine.host}\n" in sdp, sdp
        assert "a=fingerprint" not in sdp and "a=candidate" not in sdp and "a=crypto" not in sdp, sdp
        assert "a=setup" not in sdp and "a=ice-" not in sdp, sdp


def active_calls(rtpe: RtpEngine) -> list[str]:
    return [str(c) for c in rtpe.ng("list").get("calls", [])]


# ------------------------------------------------------------------ audio

SETUP_CLIP_S = 0.5
"""Audio may be lost at the start of a call while rtpengine and the softphone finish ICE and DTLS (each
drops media until it has the SRTP keys: rtpengine logs "SRTP output wanted, but no crypto suite was
negotiated").  baresip's recording simply starts later; the softphone's starts with silence, which PESQ
would count against the codec, so its first SETUP_CLIP_S are scored apart: only what was lost."""


def lost_at_start(reference: Path, recording: Path) -> float:
    """Seconds of the reference's beginning that never made it into the recording (both players start
    their file when the call starts): the reference time of the first audible frame of the recording."""
    ref, rate = load(reference)
    rec, _ = load(recording, rate)
    match = compare((ref[: 20 * rate], rate), (rec, rate), max_offset=10.0)
    offset = int(round(match.offset_ms * rate / 1000))  # where the reference starts in the recording
    frame = rate // 50
    for i in range(max(0, offset), len(rec) - frame, frame):
        if rms(rec[i : i + frame]) > 0.005:
            return (i - offset) / rate
    raise AssertionError(f"nothing audible in {recording}")


def without_start(recording: Path, seconds: float) -> Path:
    samples, rate = load(recording)
    return write_wav(recording.with_suffix(".tail.wav"), samples[int(seconds * rate) :], rate)


def check_speech_both_ways(
    codec: str, speech: Path, softphone_heard: Path, baresip_heard: Path, context: str
) -> None:
    lost_softphone = lost_at_start(speech, softphone_heard)
    lost_baresip = lost_at_start(speech, baresip_heard)
    to_softphone = match_speech(speech, without_start(softphone_heard, SETUP_CLIP_S))
    to_baresip = match_speech(speech, baresip_heard)
    print(f"\n  softphone heard {to_softphone}")
    print(f"    (scored after {SETUP_CLIP_S} s; lost at set-up {lost_softphone * 1000:.0f} ms)")
    print(f"  baresip heard {to_baresip}\n    (lost at set-up {lost_baresip * 1000:.0f} ms)")
    assert lost_softphone < SETUP_CLIP_S and lost_baresip < SETUP_CLIP_S, context
    check_audio(codec, to_softphone, context)
    check_audio(codec, to_baresip, context)


# ------------------------------------------------------------------ the pieces


@pytest.mark.timeout(20)
def test_private_rtpengine_answers_ng_and_leaves_nothing_behind() -> None:
    """Our rtpengine: own control port and RTP range, no system config; stop() ends it and removes its dir."""
    with RtpEngine() as rtpe:
        assert rtpe.ng("ping") == {"result": "pong"}
        assert active_calls(rtpe) == []
        proc, workdir = rtpe.proc, rtpe.workdir
        assert proc is not None and workdir is not None and workdir.is_dir()
    assert proc.poll() is not None and not workdir.exists()
    assert "Startup complete" in rtpe.last_log


@pytest.mark.timeout(30)
def test_kamailio_loads_rtpengine_only_when_asked() -> None:
    """KamailioServer(rtpengine=...) renders a config Kamailio accepts; without it nothing of rtpengine is
    left after the preprocessor (the other interop tests keep end-to-end media)."""
    on = KamailioServer(rtpengine="udp:127.0.0.1:2223")
    off = KamailioServer()
    try:
        on.check_config()
        off.check_config()
        assert "\n#!define WITH_RTPENGINE\n" in on.render_config_text()
        assert "\n#!define WITH_RTPENGINE\n" not in off.render_config_text()
        assert 'modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:2223")' in on.render_config_text()
    finally:
        on.stop()
        off.stop()


# ------------------------------------------------------------------ calls

CODECS = ["PCMU", "opus"]  # rtpengine relays them untouched (no transcoding asked for)


@with_marks(calls)
@pytest.mark.timeout(55)
@pytest.mark.parametrize("codec", CODECS)
def test_webrtc_softphone_calls_plain_baresip_through_rtpengine(
    gateway: Gateway, tmp_path: Path, codec: str, speech_8k: Path, speech_48k: Path
) -> None:
    """softphone (ws, SAVPF/DTLS/ICE) -> Kamailio + rtpengine -> baresip (udp, RTP/AVP): speech both ways."""
    heard = tmp_path / "heard.wav"
    speech = speech_48k if codec == "opus" else speech_8k
    with baresip_in(gateway, tmp_path, codecs=[codec], play_wav=speech, answer_mode="auto") as bob:
        with softphone_in(
            gateway, "call", bob.aor, "--play", str(speech), "--record", str(heard),
            "--duration", str(CALL_SECONDS), "--codecs", codec,
        ) as alice:  # fmt: skip
            answered = alice.wait_event("answered", timeout=15)
            calls = active_calls(gateway.rtpengine)
            stats = alice.wait_event("stats", timeout=CALL_SECONDS + 15)
            assert alice.wait(timeout=20) == 0, alice.stderr[-4000:] + gateway.logs()
            bob.wait_event("CALL_CLOSED", timeout=10)
            trace = alice.stderr
        log = bob.log_text()
        recordings = bob.recordings()
    context = f"{alice.events}\n{trace[-5000:]}\n--- baresip ---\n{log[-4000:]}\n{gateway.logs()}"
    assert (answered["media_profile"], answered["srtp"], answered["ice"]) == ("webrtc", "dtls", True), context
    assert answered["codec"] == codec, context
    assert len(calls) == 1, context  # the media went through rtpengine
    assert stats["dtls_state"] == "connected" and stats["srtp_failures"] == 0, f"{stats}\n{context}"
    assert_converted(gateway, trace, bob)
    assert active_calls(gateway.rtpengine) == [], gateway.logs()  # the BYE deleted the call
    assert len(recordings) == 1, context
    print(f"\nsoftphone (WebRTC) -> Kamailio + rtpengine -> baresip (RTP/AVP), {codec}:")
    check_speech_both_ways(codec, speech, heard, recordings[0], context)


@with_marks(calls)
@pytest.mark.timeout(55)
@pytest.mark.parametrize("codec", CODECS)
def test_plain_baresip_calls_webrtc_softphone_through_rtpengine(
    gateway: Gateway, tmp_path: Path, codec: str, speech_8k: Path, speech_48k: Path
) -> None:
    """baresip (udp, RTP/AVP) -> Kamailio + rtpengine -> softphone (ws): rtpengine offers the softphone
    UDP/TLS/RTP/SAVPF with ICE and a fingerprint, the softphone answers WebRTC; speech both ways."""
    heard = tmp_path / "heard.wav"
    speech = speech_48k if codec == "opus" else speech_8k
    with (
        baresip_in(gateway, tmp_path, codecs=[codec], play_wav=speech) as bob,
        softphone_in(
            gateway, "answer", "--play", str(speech), "--record", str(heard),
            "--duration", "30", "--codecs", codec,
        ) as alice,
    ):  # fmt: skip
        alice.wait_event("registered", timeout=10)
        bob.dial(f"sip:alice@{gateway.kamailio.domain}")
        alice.wait_event("incoming", timeout=15)
        answered = alice.wait_event("answered", timeout=10)
        bob.wait_event("CALL_ESTABLISHED", timeout=10)
        calls = active_calls(gateway.rtpengine)
        time.sleep(CALL_SECONDS)
        bob.hangup()
        ended = alice.wait_event("ended", timeout=10)
        bob.wait_event("CALL_CLOSED", timeout=10)
        assert alice.wait(timeout=15) == 0
        stats = next(e for e in alice.events if e["event"] == "stats")
        trace = alice.stderr
        log = bob.log_text()
        recordings = bob.recordings()
    context = f"{alice.events}\n{trace[-5000:]}\n--- baresip ---\n{log[-4000:]}\n{gateway.logs()}"
    assert (answered["media_profile"], answered["srtp"], answered["ice"]) == ("webrtc", "dtls", True), context
    assert ended["reason"] == "remote hangup", context
    assert len(calls) == 1, context
    assert stats["dtls_state"] == "connected" and stats["srtp_failures"] == 0, f"{stats}\n{context}"
    assert_converted(gateway, trace, bob)
    assert active_calls(gateway.rtpengine) == [], gateway.logs()
    assert len(recordings) == 1, context
    print(f"\nbaresip (RTP/AVP) -> Kamailio + rtpengine -> softphone (WebRTC), {codec}:")
    check_speech_both_ways(codec, speech, heard, recordings[0], context)


# ------------------------------------------------------------------ call set-up time


def measure_setup(gw: Gateway, bob: Baresip, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(SIP answer, first decoded frame with sound) in seconds, per call, for calls from the softphone
    (timed from the INVITE going out to its 200 OK) and to it (timed from baresip being told to dial to
    baresip's CALL_ESTABLISHED).

    The softphone is the engine in-process (its sink notes the first loud frame); baresip plays a tone."""
    k = gw.kamailio
    results: dict[str, list[tuple[float, float]]] = {"outgoing": [], "incoming": []}
    sinks: list[FirstSound] = []
    marks: dict[str, float] = {}

    def new_sink() -> FirstSound:
        sinks.append(FirstSound())
        return sinks[-1]

    async def wait_for(predicate: Any, what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.002)

    async def first_sound(calls_before: int, what: str) -> float:
        """When the sink of the next call (the one after ``calls_before``) first played sound."""
        await wait_for(lambda: len(sinks) > calls_before and sinks[-1].at is not None, what)
        at = sinks[-1].at
        assert at is not None
        return at

    async def softphone() -> None:
        options = MediaOptions(codecs=["PCMU"], sink_factory=new_sink, source_factory=Tone, profile="webrtc")
        engine = Engine(listen=(gw.b.address, 0), media=options)
        engine.auto_answer = True

        def watch(event: EngineEvent) -> None:
            if event.name in ("calling", "registered", "ended"):
                marks[event.name] = time.monotonic()

        engine.subscribe(watch)
        await engine.start()
        config = AccountConfig(
            aor=f"sip:alice@{k.domain}", password=k.users["alice"], transport="ws", ws_url=k.ws_url
        )
        engine.add_account(config)
        await engine.register(config.id)
        await wait_for(lambda: "registered" in marks, "registration")
        try:
            for _ in range(rounds):
                count = len(sinks)
                call = await engine.call(bob.aor)
                sound = await first_sound(count, "sound (outgoing call)")
                assert call.answered_at is not None
                sent = marks["calling"]
                results["outgoing"].append((call.answered_at - sent, sound - sent))
                assert call.media.info()["media_profile"] == "webrtc"
                await asyncio.to_thread(bob.wait_event, "CALL_ESTABLISHED", 10)
                await call.hangup()
                await asyncio.to_thread(bob.wait_event, "CALL_CLOSED", 10)

                count = len(sinks)
                dialled = time.monotonic()
                await asyncio.to_thread(bob.dial, f"sip:alice@{k.domain}")
                sound = await first_sound(count, "sound (incoming call)")
                established = await asyncio.to_thread(bob.wait_event, "CALL_ESTABLISHED", 10)
                results["incoming"].append((established["_time"] - dialled, sound - dialled))
                marks.pop("ended", None)
                await asyncio.to_thread(bob.hangup)
                await wait_for(lambda: "ended" in marks, "the end of the incoming call")
                await asyncio.to_thread(bob.wait_event, "CALL_CLOSED", 10)
        finally:
            await engine.stop()

    thread = _in_namespace(gw.b, softphone)
    thread.join(45)
    assert not thread.is_alive(), "the set-up measurement hung"
    return results


@with_marks(calls)
@pytest.mark.timeout(58)
def test_call_setup_time_through_rtpengine(gateway: Gateway, tmp_path: Path) -> None:
    """Set-up of WebRTC <-> RTP/AVP calls through the gateway, both directions, median of 3: SIP answer and
    first decoded frame with sound (ICE and DTLS with rtpengine on top of the SIP exchange)."""
    tone = tmp_path / "tone.wav"
    rate = 8000
    write_wav(tone, 0.3 * np.sin(2 * np.pi * 440 * np.arange(60 * rate) / rate), rate)
    with baresip_in(gateway, tmp_path, codecs=["PCMU"], play_wav=tone, answer_mode="auto") as bob:
        results = measure_setup(gateway, bob, rounds=3)
    for direction, values in results.items():
        assert len(values) == 3, results
        answer = statistics.median(v[0] for v in values)
        sound = statistics.median(v[1] for v in values)
        print(
            f"\n{direction} through rtpengine (median of 3): SIP answer {answer * 1000:.0f} ms, "
            f"first sound {sound * 1000:.0f} ms {[round(v[1] * 1000) for v in values]}"
        )
        assert sound < 2.0, results
