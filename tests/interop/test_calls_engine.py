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
