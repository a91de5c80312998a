"""SIP over WebSocket (RFC 7118) against the tests' real Kamailio (websocket module, ws and wss).

The softphone registers over ws:// or wss:// (Via ``SIP/2.0/WS <x>.invalid``, Contact
``sip:alice@<x>.invalid;transport=ws``); Kamailio keeps the binding on the WebSocket
connection and delivers calls over it. Calls go to and come from baresip on UDP, with
classic RTP/AVP media, and the audio is checked by content as in ``test_calls_baresip``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from softphone.cli import build_parser
from tests.interop.test_calls_baresip import CALL_SECONDS, check_audio, explain, match_speech
from tests.peers.baresip import BaresipFactory
from tests.peers.kamailio import KamailioServer
from tests.peers.softphone_cli import CliProcess

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]

WS_TRANSPORTS = ["ws", "wss"]
# WebSocket accounts may default to WebRTC media; these tests are about the signalling,
# with the classic RTP/AVP media baresip speaks.
CLASSIC_MEDIA = ["--media-profile", "classic"] if "--media-profile" in build_parser().format_help() else []


def ws_account(k: KamailioServer, transport: str, user: str = "alice", *, trust: bool = True) -> list[str]:
    """Global CLI options for ``user`` registered through Kamailio's WebSocket listener."""
    args = [
        "--user", f"sip:{user}@{k.domain}",
        "--password-env", "SOFTPHONE_TEST_PASSWORD",
        "--ws-url", k.ws_url if transport == "ws" else k.wss_url,
        "--listen", "127.0.0.1:0",
        "--sip-trace",
    ]  # fmt: skip
    if transport == "wss" and trust:
        args += ["--ca-file", str(k.ca_file)]
    return args


def softphone(k: KamailioServer, transport: str, *args: str, user: str = "alice") -> CliProcess:
    return CliProcess(*ws_account(k, transport, user), *CLASSIC_MEDIA, *args, password=k.users[user])


def sent(cli: CliProcess, method: str) -> str:
    """The first request ``method`` in the softphone's SIP trace (stderr)."""
    blocks = re.split(r"^(?:>>>|<<<) ", cli.stderr, flags=re.MULTILINE)
    for block in blocks:
        head, _, message = block.partition("\n")
        if " to " in head and message.startswith(f"{method} "):
            return message
    raise AssertionError(f"no {method} sent:\n{cli.stderr[-4000:]}")


def header(message: str, name: str) -> str:
    for line in message.splitlines():
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} in\n{message}")


def wait_for(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


# ---------------------------------------------------------------- registration


@pytest.mark.parametrize("transport", WS_TRANSPORTS)
def test_registers_over_websocket_and_binding_appears_at_registrar(
    kamailio: KamailioServer, transport: str
) -> None:
    """RFC 7118 §5.2, §5.4: Via SIP/2.0/WS(S) and Contact <x>.invalid;transport=ws(s); Kamailio binds it."""
    with softphone(kamailio, transport, "register", user="bob") as cli:
        event = cli.wait_event("registered", timeout=10)
        contact = event["contact"]
        assert re.fullmatch(rf"sip:bob@[0-9a-f]+\.invalid;transport={transport}", contact), contact
        bindings = kamailio.ul_dump().get("bob", [])
        assert contact in bindings, bindings
        register = sent(cli, "REGISTER")
        host = contact.split("@")[1].split(";")[0]
        assert header(register, "Via").startswith(f"SIP/2.0/{transport.upper()} {host};branch=")
        assert cli.terminate() == 0
    assert contact not in kamailio.ul_dump().get("bob", [])


def test_wrong_password_over_websocket_fails_for_good(kamailio: KamailioServer) -> None:
    """RFC 3261 §22.2 over a WebSocket: a rejected password is reported once, no retry storm."""
    with CliProcess(
        *ws_account(kamailio, "ws"), "register", "--for", "20", password="not-the-password"
    ) as cli:
        event = cli.wait_event("registration_failed", timeout=10)
        assert event["permanent"] is True
        assert event["status"] == 401
        assert "password" in event["reason"]
        assert cli.wait(timeout=10) == 1
        assert len(re.findall(r"^REGISTER sip:", cli.stderr, re.MULTILINE)) <= 3


def test_wss_certificate_is_verified_by_default(kamailio: KamailioServer) -> None:
    """wss checks the server certificate like TLS: the test CA is not trusted unless given."""
    with CliProcess(
        *ws_account(kamailio, "wss", trust=False), "--retry-max", "1", "register", "--for", "3",
        password="alice-secret",
    ) as cli:  # fmt: skip
        event = cli.wait_event("registration_failed", timeout=10)
        assert "certificate" in event["reason"].lower()
        assert not any(e["event"] == "registered" for e in cli.events)


def test_wss_self_signed_server_accepted_when_user_allows(kamailio: KamailioServer) -> None:
    """--tls-no-verify works for wss as for TLS, and warns."""
    with CliProcess(
        *ws_account(kamailio, "wss", trust=False), "--tls-no-verify", "register", "--for", "1",
        password="alice-secret",
    ) as cli:  # fmt: skip
        cli.wait_event("registered", timeout=10)
        assert cli.wait(timeout=20) == 0
        assert any(e["event"] == "warning" for e in cli.events)


def test_websocket_keepalive_pings_are_answered_and_the_flow_stays(kamailio: KamailioServer) -> None:
    """RFC 7118 §6: keep-alives over the WebSocket are Ping frames; Kamailio's Pongs keep the flow."""
    with softphone(kamailio, "ws", "--keepalive", "1", "register", "--for", "4") as cli:
        cli.wait_event("registered", timeout=10)
        assert cli.wait(timeout=20) == 0
        names = [e["event"] for e in cli.events]
        registers = re.findall(r"^REGISTER sip:", cli.stderr, re.MULTILINE)
    # One challenge and one authenticated REGISTER, then the un-REGISTER: never a re-register.
    assert names.count("registered") == 1, names
    assert len(registers) == 3, cli.stderr[-3000:]
    assert "no keep-alive answer" not in cli.stderr


@pytest.mark.slow
def test_reregisters_over_websocket_after_kamailio_restart(fresh_kamailio: KamailioServer) -> None:
    """RFC 5626 §4.4/§4.5 over a WebSocket: the lost connection is noticed, the client registers again."""
    k = fresh_kamailio
    with softphone(k, "ws", "--retry-max", "2", "register") as cli:
        first = cli.wait_event("registered", timeout=10)
        k.kill()
        time.sleep(1.0)
        k.start()
        restarted = time.monotonic()
        again = cli.wait_event("registered", timeout=10)
        assert time.monotonic() - restarted < 5.0
        assert again["contact"] == first["contact"]  # the same binding, on a new connection
        assert wait_for(lambda: first["contact"] in k.ul_dump().get("alice", []), timeout=3)
        assert cli.terminate() == 0


# ---------------------------------------------------------------- calls


@pytest.mark.slow
@pytest.mark.parametrize("transport", WS_TRANSPORTS)
def test_softphone_on_websocket_calls_baresip_on_udp(
    transport: str, kamailio: KamailioServer, make_baresip: BaresipFactory, speech_8k: Path
) -> None:
    """softphone (ws/wss) -> Kamailio -> baresip (UDP): the INVITE and BYE go over the WebSocket,
    RTP/AVP media flows directly, baresip hears the speech."""
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], answer_mode="auto")
    with softphone(
        kamailio, transport, "call", bob.aor, "--play", str(speech_8k),
        "--duration", str(CALL_SECONDS), "--codecs", "PCMU", "--srtp", "off",
    ) as cli:  # fmt: skip
        answered = cli.wait_event("answered", timeout=15)
        assert answered["codec"] == "PCMU", explain(cli, make_baresip, kamailio)
        assert answered["srtp"] is False
        assert answered.get("profile", "RTP/AVP") == "RTP/AVP"
        assert cli.wait(timeout=CALL_SECONDS + 15) == 0, explain(cli, make_baresip, kamailio)
        bob.wait_event("CALL_CLOSED", timeout=10)
        ended = [e for e in cli.events if e["event"] == "ended"]
        assert ended and ended[-1]["reason"] == "local hangup", explain(cli, make_baresip, kamailio)
        invite = sent(cli, "INVITE")
        bye = sent(cli, "BYE")
    via = header(invite, "Via")
    assert via.startswith(f"SIP/2.0/{transport.upper()} ") and ".invalid;" in via, invite
    assert re.fullmatch(rf"<sip:alice@[0-9a-f]+\.invalid;transport={transport}>", header(invite, "Contact"))
    assert header(bye, "Via").startswith(f"SIP/2.0/{transport.upper()} "), bye
    recs = bob.recordings()
    assert len(recs) == 1, explain(cli, make_baresip)
    match = match_speech(speech_8k, recs[0])
    print(f"\nsoftphone ({transport}) -> baresip PCMU: {match}")
    check_audio("PCMU", match, explain(cli, make_baresip))


@pytest.mark.slow
@pytest.mark.parametrize("transport", WS_TRANSPORTS)
def test_baresip_on_udp_calls_softphone_on_websocket(
    transport: str,
    kamailio: KamailioServer,
    make_baresip: BaresipFactory,
    speech_8k: Path,
    tmp_path: Path,
) -> None:
    """baresip (UDP) -> Kamailio -> softphone (ws/wss): the INVITE and baresip's BYE arrive over
    the WebSocket and are answered over it; the softphone's recording matches the speech."""
    heard = tmp_path / "heard.wav"
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], play_wav=speech_8k)
    with softphone(
        kamailio, transport, "answer", "--record", str(heard), "--duration", "30",
        "--codecs", "PCMU", "--srtp", "off",
    ) as cli:  # fmt: skip
        cli.wait_event("registered", timeout=10)
        bob.dial(f"sip:alice@{kamailio.domain}")
        incoming = cli.wait_event("incoming", timeout=15)
        assert "bob" in incoming["from"]
        answered = cli.wait_event("answered", timeout=10)
        assert answered["codec"] == "PCMU", explain(cli, make_baresip, kamailio)
        bob.wait_event("CALL_ESTABLISHED", timeout=10)
        time.sleep(CALL_SECONDS)
        bob.hangup()
        ended = cli.wait_event("ended", timeout=10)
        assert ended["reason"] == "remote hangup", explain(cli, make_baresip, kamailio)
        bob.wait_event("CALL_CLOSED", timeout=10)
        assert cli.wait(timeout=15) == 0, explain(cli, make_baresip, kamailio)
        trace = cli.stderr
    # The 200 for the INVITE names our WebSocket contact; it left over the WebSocket.
    answer_200 = rf"^>>> \S+ to {transport}:\S+\nSIP/2\.0 200 OK\n(?:.+\n)*?Contact: (.+)$"
    answers = re.findall(answer_200, trace, re.M)
    assert answers and ".invalid;transport=" in answers[0], trace[-4000:]
    match = match_speech(speech_8k, heard)
    print(f"\nbaresip -> softphone ({transport}) PCMU: {match}")
    check_audio("PCMU", match, explain(cli, make_baresip))
