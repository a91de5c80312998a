"""softphone-cli registering with SIPp as a scripted registrar.

Kamailio answers REGISTER the way a healthy registrar does; these tests make
SIPp (scenarios ``tests/peers/sipp/uas_register_*.xml``) give the answers it
won't: 423, 503 with Retry-After, stale nonces, proxy challenges, a rejected
password, 403, silence, and an RFC 3263 failover through a real DNS server
(dnsmasq).  Each test runs ``softphone-cli --json --sip-trace ... register`` as
a subprocess and checks both the client's JSON events and what SIPp saw on
the wire (its ``-trace_msg`` file, timestamps included).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.peers.dnsmasq import DnsmasqServer, HostRecord, SrvRecord, dnsmasq_available
from tests.peers.sipp_uas import SippMessage, SippUas, sipp_available

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not sipp_available(), reason="sipp (SIPp 3.x) not found on PATH (Debian: apt-get install sip-tester)"
    ),
]

PASSWORD = "alice-secret"
AOR = "sip:alice@127.0.0.1"
T1 = 0.05  # --t1 for every test: Timer F = 64*T1 = 3.2 s
EVENT_TIMEOUT = 15.0  # generous: a loaded 2-core machine
EXIT_TIMEOUT = 15.0


# ------------------------------------------------------------------ the client


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("softphone-cli")
    if script.exists():
        return [str(script)]
    found = shutil.which("softphone-cli")
    if found:
        return [found]
    return [sys.executable, "-m", "softphone.cli"]


@dataclass(frozen=True)
class ClientEvent:
    """One JSON line of ``softphone-cli --json``, with the test's clock when it was read."""

    data: dict[str, Any]
    received_at: float  # time.time()

    @property
    def name(self) -> str:
        return str(self.data.get("event"))


@dataclass(frozen=True)
class TraceEntry:
    """One message of ``--sip-trace`` (stderr): ``>>> HH:MM:SS.mmm to udp:...`` and the message."""

    direction: str  # "out" or "in"
    clock: str
    peer: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]


_TRACE_HEAD = re.compile(r"^(>>>|<<<) (\d\d:\d\d:\d\d\.\d{3}) (?:to|from) (\S+)$")


def parse_client_trace(text: str) -> list[TraceEntry]:
    entries: list[TraceEntry] = []
    current: tuple[str, str, str] | None = None
    body: list[str] = []

    def flush() -> None:
        if current is not None:
            entries.append(TraceEntry(*current, "\n".join(body).strip("\n") + "\n"))

    for line in text.split("\n"):
        head = _TRACE_HEAD.match(line)
        if head:
            flush()
            current = ("out" if head.group(1) == ">>>" else "in", head.group(2), head.group(3))
            body = []
        elif current is not None:
            body.append(line)
    flush()
    return entries


@dataclass
class SoftphoneCli:
    """``softphone-cli ... register`` in a subprocess; events read as they come."""

    args: list[str]
    workdir: Path
    password: str = PASSWORD
    events: list[ClientEvent] = field(default_factory=list)
    returncode: int | None = None
    started_at: float = 0.0
    _process: subprocess.Popen[str] | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None
    _eof: bool = False

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "softphone-cli.stderr"

    def start(self) -> SoftphoneCli:
        env = dict(os.environ, SOFTPHONE_TEST_PW=self.password, PYTHONUNBUFFERED="1")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.stderr_path.open("w") as stderr:
            self.started_at = time.time()
            self._process = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=env,
            )
        self._reader = threading.Thread(target=self._read, name="softphone-cli-stdout", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                data = {"event": "<not json>", "line": line}
            with self._cond:
                self.events.append(ClientEvent(data, time.time()))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    # -- events --------------------------------------------------------------

    def names(self) -> list[str]:
        with self._cond:
            return [e.name for e in self.events]

    def named(self, name: str) -> list[ClientEvent]:
        with self._cond:
            return [e for e in self.events if e.name == name]

    def wait_for(self, name: str, timeout: float = EVENT_TIMEOUT, *others: Any) -> ClientEvent:
        """The first event called ``name``; fails the test (with diagnostics) after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event.name == name:
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    break
                self._cond.wait(left)
        pytest.fail(f"no {name!r} event within {timeout}s\n{explain(self, *others)}")

    # -- process -------------------------------------------------------------

    def terminate(self) -> None:
        """SIGTERM, as a service manager would stop it (un-REGISTERs, then exits)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = EXIT_TIMEOUT, *others: Any) -> int:
        assert self._process is not None
        try:
            self.returncode = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"softphone-cli did not exit within {timeout}s\n{explain(self, *others)}")
        if self._reader is not None:
            self._reader.join(timeout=5)
        return self.returncode

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=5)
            self.returncode = self._process.returncode

    # -- diagnostics ---------------------------------------------------------

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def trace(self) -> list[TraceEntry]:
        return parse_client_trace(self.stderr_text())

    def explain(self) -> str:
        events = "\n".join(json.dumps(e.data) for e in list(self.events))
        return (
            f"softphone-cli rc={self.returncode}\ncmd: {' '.join(self.args)}\n"
            f"--- events ---\n{events}\n--- stderr (trace) ---\n{self.stderr_text()[-6000:]}"
        )


def explain(*peers: Any) -> str:
    return "\n\n".join(peer.explain() for peer in peers)


ClientFactory = Callable[..., SoftphoneCli]
UasFactory = Callable[..., SippUas]


@pytest.fixture
def start_client(tmp_path: Path) -> Iterator[ClientFactory]:
    """Start ``softphone-cli register`` (killed at teardown if still running).

    ``port``: send everything to the SIPp at 127.0.0.1:<port> (``--proxy``);
    ``extra``: more global options (``--user`` replaces the default AOR).
    """
    clients: list[SoftphoneCli] = []

    def start(
        port: int | None = None,
        *extra: str,
        password: str = PASSWORD,
        t1: float = T1,
        duration: float = 30.0,
    ) -> SoftphoneCli:
        args = [*_cli_command(), "--password-env", "SOFTPHONE_TEST_PW", "--transport", "udp"]
        if "--user" not in extra:
            args += ["--user", AOR]
        if port is not None:
            args += ["--proxy", f"sip:127.0.0.1:{port};transport=udp"]
        args += ["--json", "--sip-trace", "--t1", str(t1), "--retry-max", "5", *extra]
        args += ["register", "--for", str(duration)]
        client = SoftphoneCli(args, tmp_path / f"client{len(clients) + 1}", password=password)
        clients.append(client.start())
        return client

    try:
        yield start
    finally:
        for client in clients:
            client.kill()


# ------------------------------------------------------------------ helpers


def _digest_params(value: str) -> dict[str, str]:
    assert value.lower().startswith("digest "), value
    params: dict[str, str] = {}
    for match in re.finditer(r'([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', value[7:]):
        params[match.group(1).lower()] = match.group(2) if match.group(2) is not None else match.group(3)
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _digest_matches(value: str, method: str, username: str, password: str) -> bool:
    """Independent RFC 2617/3261 MD5 check of credentials (qop=auth or none)."""
    p = _digest_params(value)
    ha1 = _md5(f"{username}:{p['realm']}:{password}")
    ha2 = _md5(f"{method}:{p['uri']}")
    if "qop" in p:
        expected = _md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
    else:
        expected = _md5(f"{ha1}:{p['nonce']}:{ha2}")
    return p.get("username") == username and p.get("response", "").lower() == expected


def _has_header(message: SippMessage, name: str) -> bool:
    return bool(message.headers(name))


def _unregisters(message: SippMessage) -> bool:
    """Expires: 0, or every Contact with ;expires=0 (RFC 3261 §10.2.2)."""
    if (message.header("Expires") or "").strip() == "0":
        return True
    contacts = message.headers("Contact")
    return bool(contacts) and all(re.search(r";\s*expires\s*=\s*0\b", c) for c in contacts)


def _seconds(clock: str) -> float:
    """``HH:MM:SS.mmm`` (a --sip-trace time stamp) as seconds since midnight."""
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _stop_client(client: SoftphoneCli, *others: Any) -> int:
    client.terminate()
    return client.wait(EXIT_TIMEOUT, *others)


# ------------------------------------------------------------------ tests


def test_interval_too_brief_retries_with_min_expires(
    start_uas: UasFactory, start_client: ClientFactory
) -> None:
    """423 with Min-Expires: 1800 -> REGISTER again asking for 1800 s, registered for 1800 s.

    RFC 3261 §10.2.8 (the registrar's 423 and Min-Expires), §10.3 step 7.
    """
    uas = start_uas("uas_register_too_brief.xml")
    client = start_client(uas.port)

    registered = client.wait_for("registered", EVENT_TIMEOUT, uas)
    assert registered.data["expires"] == 1800, explain(client, uas)
    assert not client.named("registration_failed"), explain(client, uas)
    assert _stop_client(client, uas) == 0, explain(client, uas)
    assert uas.wait(10) == 0, explain(uas, client)

    registers = uas.requests("REGISTER")
    assert len(registers) == 3, explain(uas)  # asked 600, asked 1800, un-REGISTER
    first, retry = registers[0], registers[1]
    assert first.header("Expires") == "600"
    assert retry.header("Expires") == "1800", retry.text
    assert retry.header("Call-ID") == first.header("Call-ID")
    assert (retry.cseq or 0) > (first.cseq or 0)
    assert retry.branch != first.branch  # a new transaction, not a retransmission


def test_503_with_retry_after_waits_then_registers(
    start_uas: UasFactory, start_client: ClientFactory
) -> None:
    """503 with Retry-After: 2 -> the client waits about 2 s, then registers.

    RFC 3261 §21.5.4 (503 Service Unavailable), §20.33 (Retry-After).
    """
    uas = start_uas("uas_register_retry_after.xml")
    client = start_client(uas.port)

    registered = client.wait_for("registered", EVENT_TIMEOUT, uas)
    failures = client.named("registration_failed")
    assert len(failures) == 1, explain(client, uas)
    failure = failures[0].data
    assert failure["status"] == 503 and failure["permanent"] is False, failure
    assert failure["retry_in"] == pytest.approx(2.0), failure
    assert registered.data["expires"] == 600
    assert _stop_client(client, uas) == 0, explain(client, uas)
    assert uas.wait(10) == 0, explain(uas, client)

    rejected = [m for m in uas.sent() if m.status == 503]
    registers = uas.requests("REGISTER")
    assert rejected and len(registers) == 3, explain(uas)
    waited = registers[1].timestamp - rejected[0].timestamp
    assert 1.8 <= waited <= 3.5, f"came back {waited:.3f} s after the 503\n{explain(uas)}"


def test_stale_nonce_retries_with_the_new_nonce(start_uas: UasFactory, start_client: ClientFactory) -> None:
    """401 nonce A, then 401 nonce B stale=true -> retry with nonce B and nc=00000001, registered.

    RFC 7616 §3.3 (stale=true: retry with the new nonce, no new password
    needed), RFC 3261 §22.4 (nonce-count starts at 00000001 for a new nonce).
    """
    uas = start_uas("uas_register_stale_nonce.xml", keys={"password": PASSWORD})
    client = start_client(uas.port)

    client.wait_for("registered", EVENT_TIMEOUT, uas)
    assert not client.named("registration_failed"), explain(client, uas)
    assert _stop_client(client, uas) == 0, explain(client, uas)
    assert uas.wait(10) == 0, explain(uas, client)

    assert "auth A ok: true" in uas.log_text() and "auth B ok: true" in uas.log_text(), explain(uas)
    registers = uas.requests("REGISTER")
    assert len(registers) == 4, explain(uas)  # plain, nonce A, nonce B, un-REGISTER
    assert not _has_header(registers[0], "Authorization")
    for message, nonce in ((registers[1], "nonce-A"), (registers[2], "nonce-B")):
        credentials = message.header("Authorization")
        assert credentials is not None, message.text
        params = _digest_params(credentials)
        assert params["nonce"] == nonce, credentials
        assert params["nc"] == "00000001", credentials
        assert params["realm"] == "sipp.test" and params["qop"] == "auth", credentials
        assert _digest_matches(credentials, "REGISTER", "alice", PASSWORD), credentials


def test_proxy_challenge_is_answered_with_proxy_authorization(
    start_uas: UasFactory, start_client: ClientFactory
) -> None:
    """407 Proxy-Authenticate -> the retry carries Proxy-Authorization (not Authorization).

    RFC 3261 §22.3 (proxy-to-user authentication), §20.27/§20.28.
    """
    uas = start_uas("uas_register_proxy_auth.xml")
    client = start_client(uas.port)

    client.wait_for("registered", EVENT_TIMEOUT, uas)
    assert not client.named("registration_failed"), explain(client, uas)
    assert _stop_client(client, uas) == 0, explain(client, uas)
    assert uas.wait(10) == 0, explain(uas, client)

    registers = uas.requests("REGISTER")
    assert len(registers) == 3, explain(uas)
    retry = registers[1]
    assert not _has_header(retry, "Authorization"), retry.text
    credentials = retry.header("Proxy-Authorization")
    assert credentials is not None, retry.text
    params = _digest_params(credentials)
    assert params["realm"] == "proxy.sipp.test" and params["nonce"] == "proxy-nonce-1", credentials
    assert params["nc"] == "00000001", credentials
    assert _digest_matches(credentials, "REGISTER", "alice", PASSWORD), credentials


def test_wrong_password_fails_for_good_without_retry_storm(
    start_uas: UasFactory, start_client: ClientFactory
) -> None:
    """401, credentials, 401 again (not stale) -> permanent failure, exit 1, two REGISTERs only.

    RFC 3261 §22.2 (a new challenge after credentials means they were refused;
    the UAC must not retry them blindly).
    """
    uas = start_uas("uas_register_wrong_password.xml", keys={"password": PASSWORD})
    client = start_client(uas.port, password="not-alices-password")

    assert client.wait(EXIT_TIMEOUT, uas) == 1, explain(client, uas)
    failures = client.named("registration_failed")
    assert len(failures) == 1, explain(client, uas)
    failure = failures[0].data
    assert failure["permanent"] is True and failure["retry_in"] is None, failure
    assert failure["status"] == 401, failure
    assert "registered" not in client.names()

    assert uas.wait(10) == 0, explain(uas, client)  # listened 1.5 s more for a third try
    assert "auth ok: false" in uas.log_text(), explain(uas)
    registers = uas.requests("REGISTER")
    assert len(registers) <= 2, explain(uas)
    assert len(registers) == 2 and _has_header(registers[1], "Authorization"), explain(uas)


def test_unanswered_register_times_out_after_timer_f(
    start_uas: UasFactory, start_client: ClientFactory
) -> None:
    """No response at all -> retransmissions per Timer E, then 408 after Timer F = 64*T1.

    RFC 3261 §17.1.2.2 (non-INVITE client transaction over UDP: Timer E starts
    at T1 and doubles up to T2; Timer F ends the transaction), §8.1.3.1 (a
    timeout is reported as 408).
    """
    uas = start_uas("uas_register_no_answer.xml")
    client = start_client(uas.port)

    failed = client.wait_for("registration_failed", EVENT_TIMEOUT, uas)
    assert failed.data["status"] == 408 and failed.data["permanent"] is False, failed.data
    assert _stop_client(client, uas) == 0, explain(client, uas)
    copies_all = uas.received("REGISTER")
    uas.stop()

    assert copies_all, explain(uas, client)
    first = copies_all[0]
    copies = [m for m in copies_all if m.branch == first.branch and m.cseq == first.cseq]
    timer_f = 64 * T1
    t2 = max(4.0, 8 * T1)  # as softphone-cli sets it
    # Timer E: retransmissions at T1, 3*T1, 7*T1, ... (intervals doubling, capped at T2), until Timer F.
    schedule, at, interval = [], 0.0, T1
    while at + interval < timer_f:
        at += interval
        schedule.append(at)
        interval = min(2 * interval, t2)
    most = 1 + len(schedule)  # 7 with T1 = 0.05 s: at 0, .05, .15, .35, .75, 1.55, 3.15 s
    # Timers never fire early; on a loaded machine the last one or two may lose the race with Timer F.
    assert most - 2 <= len(copies) <= most, (
        f"SIPp saw {len(copies)} copies, expected {most - 2}..{most}\n{explain(uas, client)}"
    )
    # The send times, from the client's own trace (SIPp's receive times lag under load).
    sent = [
        entry
        for entry in client.trace()
        if entry.direction == "out"
        and entry.first_line.startswith("REGISTER ")
        and f"branch={first.branch}" in entry.text
    ]
    assert len(sent) == len(copies), f"sent {len(sent)}, SIPp saw {len(copies)}\n{explain(client, uas)}"
    offsets = [_seconds(entry.clock) - _seconds(sent[0].clock) for entry in sent]
    offsets = [o + 86400 if o < 0 else o for o in offsets]  # past midnight
    for n, (offset, due) in enumerate(zip(offsets[1:], schedule, strict=False), start=1):
        assert offset >= due - 0.02, f"retransmission {n} at {offset:.3f} s, due at {due:.3f} s: {offsets}"
    waited = failed.received_at - first.timestamp
    assert timer_f - 0.1 <= waited <= timer_f + 5.0, f"408 reported {waited:.3f} s after the REGISTER"


def test_403_is_a_permanent_failure_with_the_reason(
    start_uas: UasFactory, start_client: ClientFactory
) -> None:
    """403 Forbidden -> registration_failed, permanent, with the server's reason; exit 1; no retry.

    RFC 3261 §21.4.4 (403: authorization will not help, do not repeat), §10.2.
    """
    uas = start_uas("uas_register_forbidden.xml")
    client = start_client(uas.port)

    assert client.wait(EXIT_TIMEOUT, uas) == 1, explain(client, uas)
    failures = client.named("registration_failed")
    assert len(failures) == 1, explain(client, uas)
    failure = failures[0].data
    assert failure["status"] == 403, failure
    assert failure["reason"] == "Forbidden (account disabled)", failure
    assert failure["permanent"] is True and failure["retry_in"] is None, failure

    assert uas.wait(10) == 0, explain(uas, client)
    assert len(uas.requests("REGISTER")) == 1, explain(uas)


def test_sigterm_unregisters(start_uas: UasFactory, start_client: ClientFactory) -> None:
    """Registered, then SIGTERM -> REGISTER with Expires: 0 for the same binding, exit 0.

    RFC 3261 §10.2.2 (removing bindings: expiration interval of 0), §10.2.4
    (same Call-ID, higher CSeq for the same registrar).
    """
    uas = start_uas("uas_register_ok.xml")
    client = start_client(uas.port)

    registered = client.wait_for("registered", EVENT_TIMEOUT, uas)
    assert _stop_client(client, uas) == 0, explain(client, uas)
    names = client.names()
    assert names.index("registered") < names.index("unregistering") < names.index("unregistered"), names
    assert uas.wait(10) == 0, explain(uas, client)

    registers = uas.requests("REGISTER")
    assert len(registers) == 2, explain(uas)
    register, unregister = registers
    assert not _unregisters(register), register.text
    assert _unregisters(unregister), unregister.text
    assert unregister.header("Call-ID") == register.header("Call-ID")
    assert (unregister.cseq or 0) > (register.cseq or 0)
    contact = registered.data["contact"]
    assert contact in (unregister.header("Contact") or ""), (contact, unregister.text)


@pytest.mark.skipif(
    not dnsmasq_available(), reason="dnsmasq not found (Debian: apt-get install dnsmasq-base)"
)
def test_srv_failover_to_the_next_target(start_uas: UasFactory, start_client: ClientFactory) -> None:
    """SRV priority 10 never answers -> after Timer F the client registers with priority 20.

    RFC 3263 §4.3 (on a timeout or transport error, try the next element of
    the resolved list), §4.1/RFC 2782 (SRV priority order).
    """
    silent = start_uas("uas_register_no_answer.xml")
    live = start_uas("uas_register_ok.xml")
    records = (
        SrvRecord("_sip._udp.example.test", "dead.example.test", silent.port, priority=10, weight=0),
        SrvRecord("_sip._udp.example.test", "live.example.test", live.port, priority=20, weight=0),
        HostRecord("dead.example.test", "127.0.0.1"),
        HostRecord("live.example.test", "127.0.0.1"),
    )
    with DnsmasqServer(*records) as dns:
        client = start_client(
            None, "--user", "sip:alice@example.test", "--dns-server", f"127.0.0.1:{dns.port}"
        )
        client.wait_for("registered", 20.0, silent, live)
        assert _stop_client(client, silent, live) == 0, explain(client, silent, live)

    assert live.wait(10) == 0, explain(live, client)
    tried_first = silent.received("REGISTER")
    silent.stop()
    assert tried_first, f"the priority-10 target was never tried\n{explain(silent, client)}"
    registers = live.requests("REGISTER")
    assert len(registers) == 2 and _unregisters(registers[1]), explain(live)
    moved_after = registers[0].timestamp - tried_first[0].timestamp
    assert moved_after >= 64 * T1 - 0.1, f"left the first target after {moved_after:.3f} s"
    assert registers[0].header("Call-ID") == tried_first[0].header("Call-ID")


def test_contact_follows_the_public_address_the_registrar_reports(
    start_uas: UasFactory, start_client: ClientFactory
) -> None:
    """RFC 3581 §4 / RFC 5626 §4.2: the registrar saw us at received:rport (a NAT); the client
    registers again with that public address in its Contact."""
    uas = start_uas("uas_register_nat.xml")
    client = start_client(uas.port)

    registered = client.wait_for("registered", EVENT_TIMEOUT, uas)
    assert "192.0.2.33:40000" in registered.data["contact"], registered.data
    assert _stop_client(client, uas) == 0, explain(client, uas)
    assert uas.wait(10) == 0, explain(uas, client)
    first, second, _ = uas.requests("REGISTER")
    assert "192.0.2.33" not in (first.header("Contact") or "")
    assert "192.0.2.33:40000" in (second.header("Contact") or ""), second.text
    # the binding registered before is removed in the same request (RFC 3261 §10.2.2): calls would
    # otherwise be forked to it too, and arrive twice through the NAT
    old_contact = (first.header("Contact") or "").strip()
    assert f"{old_contact};expires=0" in second.text, second.text
