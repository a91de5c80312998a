"""Registration against a real Kamailio registrar with digest authentication (RFC 3261 §10, §22)."""

from __future__ import annotations

import re
import signal
import socket
import time

import pytest

from tests.peers.kamailio import KamailioServer
from tests.peers.softphone_cli import CliProcess

pytestmark = pytest.mark.interop


def account_args(k: KamailioServer, transport: str, user: str = "alice", *extra: str) -> list[str]:
    port = {"udp": k.udp_port, "tcp": k.tcp_port, "tls": k.tls_port}[transport]
    args = [
        "--user",
        f"sip:{user}@{k.domain}",
        "--password-env",
        "SOFTPHONE_TEST_PASSWORD",
        "--transport",
        transport,
        "--proxy",
        f"sip:{k.host}:{port};transport={transport}",
        "--listen",
        "127.0.0.1:0",
    ]
    if transport == "tls":
        args += ["--ca-file", str(k.ca_file)]
    return [*args, *extra]


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_registers_and_binding_appears_at_registrar(kamailio: KamailioServer, transport: str) -> None:
    """RFC 3261 §10.2: REGISTER, digest challenge, 200 OK; the registrar holds our Contact."""
    with CliProcess(*account_args(kamailio, transport, "bob"), "register", password="bob-secret") as cli:
        event = cli.wait_event("registered")
        assert event["expires"] > 0
        contact = event["contact"]
        port = contact.split(":")[-1].split(";")[0]
        bindings = kamailio.ul_dump().get("bob", [])
        assert any(f":{port}" in b for b in bindings), bindings
        assert cli.terminate() == 0
    assert not any(f":{port}" in b for b in kamailio.ul_dump().get("bob", []))


def test_unregister_on_sigint_removes_the_binding(kamailio: KamailioServer) -> None:
    """RFC 3261 §10.2.2: on exit the client removes its binding with Expires: 0."""
    with CliProcess(*account_args(kamailio, "udp", "carol"), "register", password="carol-secret") as cli:
        port = cli.wait_event("registered")["contact"].split(":")[-1].split(";")[0]
        assert any(f":{port}" in b for b in kamailio.ul_dump().get("carol", []))
        assert cli.terminate(signal.SIGINT) == 0
        cli_events = [e["event"] for e in cli.events]
    assert "unregistered" in cli_events
    assert not any(f":{port}" in b for b in kamailio.ul_dump().get("carol", []))


def test_register_for_duration_ends_cleanly(kamailio: KamailioServer) -> None:
    """`register --for N` stays registered N seconds, then unregisters and exits 0."""
    with CliProcess(*account_args(kamailio, "udp"), "register", "--for", "1", password="alice-secret") as cli:
        assert cli.wait(timeout=20) == 0
        names = [e["event"] for e in cli.events]
    assert names.index("registered") < names.index("unregistered")


def test_wrong_password_fails_for_good_without_retry_storm(kamailio: KamailioServer) -> None:
    """RFC 3261 §22.2: a rejected password is reported once; the client does not retry."""
    with CliProcess(
        *account_args(kamailio, "udp"), "--sip-trace", "register", "--for", "20", password="not-the-password"
    ) as cli:
        event = cli.wait_event("registration_failed")
        assert event["permanent"] is True
        assert event["status"] == 401
        assert "password" in event["reason"]
        assert cli.wait(timeout=10) == 1
        sent = re.findall(r"^REGISTER sip:", cli.stderr, re.MULTILINE)
    assert len(sent) <= 3


def test_trace_redacts_credentials(kamailio: KamailioServer) -> None:
    """Authorization values never reach the trace in clear."""
    with CliProcess(
        *account_args(kamailio, "udp"), "--sip-trace", "register", "--for", "0.5", password="alice-secret"
    ) as cli:
        assert cli.wait(timeout=20) == 0
        trace = cli.stderr
    auth_lines = [line for line in trace.splitlines() if line.startswith("Authorization:")]
    assert auth_lines, trace[-2000:]
    for line in auth_lines:
        assert 'response="<redacted>"' in line
        assert not re.search(r'response="[0-9a-f]{32}"', line)
    assert "alice-secret" not in trace


def test_tls_certificate_is_verified_by_default(kamailio: KamailioServer) -> None:
    """A server certificate that no trusted CA signed is refused, with a clear reason."""
    args = [a for a in account_args(kamailio, "tls") if a != str(kamailio.ca_file) and a != "--ca-file"]
    with CliProcess(*args, "--retry-max", "1", "register", "--for", "3", password="alice-secret") as cli:
        event = cli.wait_event("registration_failed")
        assert "certificate" in event["reason"].lower()
        assert not any(e["event"] == "registered" for e in cli.events)


def test_tls_self_signed_server_accepted_when_user_allows(kamailio: KamailioServer) -> None:
    """The per-account switch for a self-signed server works, and warns."""
    args = [a for a in account_args(kamailio, "tls") if a != str(kamailio.ca_file) and a != "--ca-file"]
    with CliProcess(*args, "--tls-no-verify", "register", "--for", "1", password="alice-secret") as cli:
        cli.wait_event("registered")
        assert cli.wait(timeout=20) == 0
        assert any(e["event"] == "warning" for e in cli.events)


@pytest.mark.slow
def test_reregisters_within_5s_after_registrar_restart(fresh_kamailio: KamailioServer) -> None:
    """RFC 5626 §4.4/§4.5: the flow dies with the server; the client registers again quickly."""
    k = fresh_kamailio
    with CliProcess(*account_args(k, "tcp"), "--retry-max", "2", "register", password="alice-secret") as cli:
        cli.wait_event("registered")
        k.kill()
        time.sleep(1.0)
        k.start()
        restarted = time.monotonic()
        cli.wait_event("registered", timeout=10)
        assert time.monotonic() - restarted < 5.0
        assert wait_for(lambda: bool(k.ul_dump().get("alice")), timeout=2)


def test_engine_answers_options_and_survives_garbage(kamailio: KamailioServer) -> None:
    """RFC 3261 §11.2: OPTIONS gets 200 with Allow; RFC 4475: bad datagrams get 400 or nothing."""
    with CliProcess(*account_args(kamailio, "udp"), "register", password="alice-secret") as cli:
        contact = cli.wait_event("registered")["contact"]
        port = int(contact.split(":")[-1].split(";")[0])
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(3)
        sock.bind(("127.0.0.1", 0))
        me = sock.getsockname()[1]
        for junk in (b"\x00\xff garbage", b"INVITE sip:x SIP/2.0\r\n\r\n", b"SIP/2.0 999 Nope\r\n\r\n"):
            sock.sendto(junk, ("127.0.0.1", port))
        options = (
            f"OPTIONS sip:alice@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKopt1\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:alice@127.0.0.1>\r\n"
            "Call-ID: probe-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        sock.sendto(options, ("127.0.0.1", port))
        replies = []
        try:
            while True:
                data, _ = sock.recvfrom(65535)
                replies.append(data)
                if b"probe-1" in data:
                    break
        except TimeoutError:
            pass
        sock.close()
        ok = [r for r in replies if b"probe-1" in r]
        assert ok and ok[0].startswith(b"SIP/2.0 200"), replies
        assert b"Allow:" in ok[0]
        assert cli.proc.poll() is None  # still alive
        assert cli.terminate() == 0


def test_several_accounts_register_at_once(kamailio: KamailioServer) -> None:
    """Two accounts in one engine, on one socket: both registered, both removed on stop."""
    import asyncio

    from softphone.core.account import AccountConfig
    from softphone.core.engine import Engine
    from softphone.core.events import EngineEvent

    async def scenario() -> tuple[dict[str, list[str]], dict[str, list[str]], list[EngineEvent]]:
        engine = Engine(listen=("127.0.0.1", 0))
        events: list[EngineEvent] = []
        engine.subscribe(events.append)
        await engine.start()
        for user in ("alice", "bob"):
            config = AccountConfig(
                aor=f"sip:{user}@{kamailio.domain}",
                password=kamailio.users[user],
                proxy=f"sip:{kamailio.host}:{kamailio.udp_port}",
            )
            engine.add_account(config)
            await engine.register(config.id)
        for _ in range(100):
            if len({e.account for e in events if e.name == "registered"}) == 2:
                break
            await asyncio.sleep(0.1)
        during = kamailio.ul_dump()
        await engine.stop()
        return during, kamailio.ul_dump(), events

    during, after, events = asyncio.run(scenario())
    contacts = {e.account: e.fields["contact"] for e in events if e.name == "registered"}
    assert len(contacts) == 2, events
    for user in ("alice", "bob"):
        port = contacts[f"sip:{user}@{kamailio.domain}"].split(":")[-1]
        assert any(f":{port}" in b for b in during.get(user, [])), during
        assert not any(f":{port}" in b for b in after.get(user, [])), after
