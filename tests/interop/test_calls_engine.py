"""Calls between two softphone engines (the headless CLI on both ends), audio checked by content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.peers.audio import compare, pesq_available
from tests.peers.kamailio import KamailioServer
from tests.peers.softphone_cli import CliProcess, free_udp_port

pytestmark = pytest.mark.interop


def account(k: KamailioServer, user: str) -> list[str]:
    return [
        "--user",
        f"sip:{user}@{k.domain}",
        "--password-env",
        "SOFTPHONE_TEST_PASSWORD",
        "--proxy",
        f"sip:{k.host}:{k.udp_port};transport=udp",
        "--listen",
        "127.0.0.1:0",
    ]


@pytest.mark.parametrize("codec", ["PCMU", "PCMA", "G722", "opus"])
def test_direct_call_carries_speech(codec: str, speech_16k: Path, tmp_path: Path) -> None:
    """Peer to peer with no account (sip:user@host): speech arrives intact, per codec."""
    port = free_udp_port()
    record = tmp_path / "heard.wav"
    with CliProcess(
        "--listen", f"127.0.0.1:{port}", "answer", "--record", str(record), "--codecs", codec
    ) as callee:
        callee.wait_event("started")
        with CliProcess(
            "--listen",
            "127.0.0.1:0",
            "call",
            f"sip:bob@127.0.0.1:{port}",
            "--play",
            str(speech_16k),
            "--duration",
            "5",
            "--codecs",
            codec,
        ) as caller:
            answered = caller.wait_event("answered", timeout=10)
            assert answered["codec"].lower() == codec.lower()
            assert caller.wait(timeout=20) == 0
        assert callee.wait(timeout=15) == 0
    match = compare(speech_16k, record)
    print(f"engine->engine {codec}: {match}")
    assert match.correlation > 0.85
    if pesq_available() and match.pesq_nb is not None:
        floor = 3.5 if codec in ("PCMU", "PCMA") else 3.0
        assert match.pesq_nb >= floor


def test_dtmf_rfc4733_reaches_the_other_engine(tmp_path: Path) -> None:
    """RFC 4733: digits sent as telephone-events are reported once each, in order."""
    port = free_udp_port()
    with CliProcess("--listen", f"127.0.0.1:{port}", "answer", "--codecs", "PCMU") as callee:
        callee.wait_event("started")
        with CliProcess(
            "--listen",
            "127.0.0.1:0",
            "call",
            f"sip:bob@127.0.0.1:{port}",
            "--duration",
            "3",
            "--dtmf",
            "123#",
            "--codecs",
            "PCMU",
        ) as caller:
            assert caller.wait(timeout=20) == 0
        callee.wait(timeout=15)
        digits = [e["digit"] for e in callee.events if e["event"] == "dtmf"]
    assert digits == ["1", "2", "3", "#"]


def test_hold_and_resume_through_interactive_commands(tmp_path: Path) -> None:
    """RFC 3264 §8.4: hold is a re-INVITE with a=sendonly; both sides report it."""
    port = free_udp_port()
    with CliProcess("--listen", f"127.0.0.1:{port}", "answer", "--duration", "8") as callee:
        callee.wait_event("started")
        caller = CliProcess(
            "--listen", "127.0.0.1:0", "call", f"sip:bob@127.0.0.1:{port}", "--interactive", stdin=True
        )
        with caller:
            caller.wait_event("answered")
            caller.send(json.dumps({"command": "hold"}))
            caller.wait_event("held", by="local")
            callee.wait_event("held", by="remote")
            caller.send(json.dumps({"command": "resume"}))
            caller.wait_event("resumed", by="local")
            callee.wait_event("resumed", by="remote")
            caller.send(json.dumps({"command": "hangup"}))
            assert caller.wait(timeout=15) == 0
        callee.wait_event("ended")


def test_registered_engines_call_each_other_through_the_proxy(
    kamailio: KamailioServer, speech_16k: Path, tmp_path: Path
) -> None:
    """RFC 3261 §16: both registered; the call goes through Kamailio with digest auth on INVITE."""
    record = tmp_path / "heard.wav"
    with CliProcess(
        *account(kamailio, "carol"),
        "answer",
        "--record",
        str(record),
        "--codecs",
        "PCMU",
        password="carol-secret",
    ) as callee:
        callee.wait_event("registered")
        with CliProcess(
            *account(kamailio, "alice"),
            "call",
            f"sip:carol@{kamailio.domain}",
            "--play",
            str(speech_16k),
            "--duration",
            "4",
            "--codecs",
            "PCMU",
            password="alice-secret",
        ) as caller:
            caller.wait_event("answered", timeout=15)
            assert caller.wait(timeout=20) == 0
        callee.wait_event("ended", timeout=10)
        callee.terminate()
    match = compare(speech_16k, record)
    print(f"through kamailio PCMU: {match}")
    assert match.correlation > 0.85


def test_direct_invite_is_refused_while_registered(kamailio: KamailioServer) -> None:
    """Security: an INVITE that bypasses the account's proxy does not ring (403)."""
    with CliProcess(*account(kamailio, "bob"), "answer", password="bob-secret") as callee:
        contact = callee.wait_event("registered")["contact"]
        with CliProcess("--listen", "127.0.0.1:0", "call", contact, "--duration", "2") as caller:
            ended = caller.wait_event("ended", timeout=15)
            assert ended["status"] == 403
            assert caller.wait(timeout=10) == 3
        assert not any(e["event"] == "incoming" for e in callee.events)


def test_a_recorded_call_holds_both_sides(speech_16k: Path, tmp_path: Path) -> None:
    """``--record-call``: the caller's own speech and the callee's 1 kHz tone, mixed in one 16 kHz WAV
    (what a user's call recording holds), from the answer to the hang-up."""
    import numpy as np

    from tests.peers.audio import align, read_wav, write_wav

    tone = write_wav(
        tmp_path / "tone.wav", 0.1 * np.sin(2 * np.pi * 1000 * np.arange(16000 * 10) / 16000), 16000
    )
    port = free_udp_port()
    recording = tmp_path / "call.wav"
    with CliProcess(
        "--listen", f"127.0.0.1:{port}", "answer", "--play", str(tone), "--codecs", "G722"
    ) as callee:
        callee.wait_event("started")
        with CliProcess(
            "--listen", "127.0.0.1:0", "call", f"sip:bob@127.0.0.1:{port}", "--play", str(speech_16k),
            "--duration", "4", "--codecs", "G722", "--record-call", str(recording),
        ) as caller:  # fmt: skip
            started = caller.wait_event("recording", timeout=15)
            assert started["on"] is True and started["path"] == str(recording)
            assert caller.wait(timeout=20) == 0
        assert callee.wait(timeout=15) == 0
    assert caller.wait_event("recording", on=False)["path"] == str(recording)  # closed at the end
    samples, rate = read_wav(recording)
    assert rate == 16000 and 3.0 < len(samples) / rate < 4.5
    spectrum = np.abs(np.fft.rfft(samples[rate // 2 :] * np.hanning(len(samples) - rate // 2)))
    freqs = np.fft.rfftfreq(len(samples) - rate // 2, 1 / rate)
    tone_band = spectrum[(freqs > 990) & (freqs < 1010)].max()
    assert tone_band > 20 * np.median(spectrum[(freqs > 300) & (freqs < 3400)])  # the other side's tone
    _, correlation = align(speech_16k, (samples.astype(np.float64), rate), rate)
    print(f"call recording: our speech correlates {correlation:.2f} under the other side's tone")
    assert correlation > 0.5, correlation  # our own speech, under the tone
