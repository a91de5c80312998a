"""softphone-cli call control against SIPp as a scripted peer.

baresip plays a well-behaved phone; these tests make SIPp (scenarios
``tests/peers/sipp/uas_call_*.xml`` and ``uac_call_*.xml``) do what it won't
on demand: ring for ever, answer just as our CANCEL arrives, CANCEL while
ringing, hang up first, hold us with a re-INVITE (with or without an offer),
answer our re-INVITE 491, send BYE for a dialog that does not exist, answer
without ever sending RTP, send early media, call without an SDP offer (and
then ACK without the answer), offer only codecs we lack.  Each test runs
``softphone-cli --json --sip-trace`` peer-to-peer (no registration) as a
subprocess, drives it with ``--interactive`` JSON commands where needed, and
checks its JSON events and exit status as well as what SIPp saw on the wire
(its ``-trace_msg`` file, timestamps included).
"""

from __future__ import annotations

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
from pathlib import Path
from typing import Any

import pytest

from tests.peers.sipp_uac import SippUac
from tests.peers.sipp_uas import SippMessage, SippUas, sipp_available

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not sipp_available(), reason="sipp (SIPp 3.x) not found on PATH (Debian: apt-get install sip-tester)"
    ),
]

EVENT_TIMEOUT = 15.0  # generous: a loaded 2-core machine
EXIT_TIMEOUT = 20.0

EXIT_OK = 0
EXIT_NOT_ANSWERED = 3
EXIT_BROKEN = 4


# ------------------------------------------------------------------ the phone


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("softphone-cli")
    if script.exists():
        return [str(script)]
    found = shutil.which("softphone-cli")
    return [found] if found else [sys.executable, "-m", "softphone.cli"]


_TRACE_HEAD = re.compile(r"^(>>>|<<<) (\d\d:\d\d:\d\d\.\d{3}) (?:to|from) (\S+)$")


def parse_trace(text: str) -> list[tuple[str, str]]:
    """``--sip-trace`` output as (direction "out"/"in", message text) pairs."""
    entries: list[tuple[str, str]] = []
    direction: str | None = None
    body: list[str] = []
    for line in [*text.split("\n"), ">>> 00:00:00.000 to end"]:
        head = _TRACE_HEAD.match(line)
        if head is None:
            if direction is not None:
                body.append(line)
            continue
        if direction is not None:
            entries.append((direction, "\n".join(body).strip("\n") + "\n"))
        direction, body = ("out" if head.group(1) == ">>>" else "in"), []
    return entries


class Phone:
    """``softphone-cli --json --sip-trace ...`` with JSON events read as they come.

    Events are the parsed JSON objects with ``_t`` added (``time.time()`` when
    read); ``send`` writes an ``--interactive`` command to its stdin.
    """

    def __init__(self, args: list[str], workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.events: list[dict[str, Any]] = []
        self.returncode: int | None = None
        self._cond = threading.Condition()
        self._eof = False
        workdir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = workdir / "softphone-cli.stderr"
        with self.stderr_path.open("w") as stderr:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
            )
        self._reader = threading.Thread(target=self._read, name="softphone-cli-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                data = {"event": "<not json>", "line": line}
            data["_t"] = time.time()
            with self._cond:
                self.events.append(data)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    # -- events --
    def names(self) -> list[str]:
        with self._cond:
            return [str(e.get("event")) for e in self.events]

    def named(self, name: str) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e.get("event") == name]

    def wait_for(
        self, name: str, *others: Any, timeout: float = EVENT_TIMEOUT, **fields: Any
    ) -> dict[str, Any]:
        """The first event ``name`` (with these field values); fails the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event.get("event") == name and all(event.get(k) == v for k, v in fields.items()):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    break
                self._cond.wait(left)
        pytest.fail(f"no {name!r} event {fields or ''} within {timeout}s\n{explain(self, *others)}")

    def port(self, *others: Any) -> int:
        """The UDP port it listens on (from the ``started`` event)."""
        return int(str(self.wait_for("started", *others)["listen"]).rsplit(":", 1)[1])

    # -- control --
    def send(self, command: str, **fields: Any) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"command": command, **fields}) + "\n")
        self._process.stdin.flush()

    def terminate(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)

    def wait(self, *others: Any, timeout: float = EXIT_TIMEOUT) -> int:
        try:
            self.returncode = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"softphone-cli did not exit within {timeout}s\n{explain(self, *others)}")
        self._reader.join(timeout=5)
        return self.returncode

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=5)
        self.returncode = self._process.returncode
        if self._process.stdin is not None:
            try:
                self._process.stdin.close()
            except OSError:  # the pipe is broken: it has exited
                pass

    # -- diagnostics --
    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def trace(self) -> list[tuple[str, str]]:
        return parse_trace(self.stderr_text())

    def explain(self) -> str:
        events = "\n".join(json.dumps({k: v for k, v in e.items() if k != "_t"}) for e in list(self.events))
        return (
            f"softphone-cli rc={self.returncode}\ncmd: {' '.join(self.args)}\n"
            f"--- events ---\n{events}\n--- stderr (trace) ---\n{self.stderr_text()[-8000:]}"
        )


def explain(*peers: Any) -> str:
    return "\n\n".join(peer.explain() for peer in peers)


PhoneFactory = Callable[..., Phone]
UasFactory = Callable[..., SippUas]
UacFactory = Callable[..., SippUac]


@pytest.fixture
def start_phone(tmp_path: Path) -> Iterator[PhoneFactory]:
    """``start_phone("call", uri, "--interactive")``: softphone-cli on 127.0.0.1, no account."""
    phones: list[Phone] = []

    def start(*command: str) -> Phone:
        args = [*_cli_command(), "--listen", "127.0.0.1:0", "--json", "--sip-trace", *command]
        phone = Phone(args, tmp_path / f"phone{len(phones) + 1}")
        phones.append(phone)
        return phone

    try:
        yield start
    finally:
        for phone in phones:
            phone.kill()


@pytest.fixture
def start_uac(tmp_path: Path) -> Iterator[UacFactory]:
    """A started SIPp UAC scenario calling 127.0.0.1:<port> (stopped at teardown)."""
    clients: list[SippUac] = []

    def start(scenario: str, port: int, **kwargs: Any) -> SippUac:
        name = f"{Path(scenario).stem}-{len(clients) + 1}"
        uac = SippUac(scenario, remote=f"127.0.0.1:{port}", workdir=tmp_path / "sipp", name=name, **kwargs)
        clients.append(uac)
        uac.start()
        return uac

    try:
        yield start
    finally:
        for uac in clients:
            uac.stop()


# ------------------------------------------------------------------ helpers


def _uri(uas: SippUas) -> str:
    return f"sip:callee@127.0.0.1:{uas.port}"


def _request_uri(message: SippMessage) -> str:
    return message.first_line.split(" ")[1]


def _tag(value: str | None) -> str | None:
    match = re.search(r";\s*tag=([^;>\s]+)", value or "")
    return match.group(1) if match else None


def _without_tag(value: str | None) -> str:
    return re.sub(r";\s*tag=[^;>\s]+", "", value or "").strip()


def _body(message: SippMessage) -> str:
    return message.text.split("\n\n", 1)[1] if "\n\n" in message.text else ""


def _direction(sdp: str) -> str:
    for attribute in ("sendonly", "recvonly", "inactive", "sendrecv"):
        if re.search(rf"^a={attribute}\s*$", sdp, re.MULTILINE):
            return attribute
    return "sendrecv"  # the default (RFC 4566 §6)


def _origin(sdp: str) -> tuple[str, int]:
    """(sess-id, sess-version) of the o= line."""
    match = re.search(r"^o=\S+ (\d+) (\d+) ", sdp, re.MULTILINE)
    assert match, sdp
    return match.group(1), int(match.group(2))


def _responses(messages: list[SippMessage], status: int, method: str) -> list[SippMessage]:
    return [m for m in messages if m.status == status and m.method == method]


def _finished(sipp: SippUas, timeout: float = 15.0) -> bool:
    """SIPp ended its scenario by itself, every call successful (exit 0).

    (``SippUas.wait`` returns the status of the SIGTERM it sends on a timeout,
    which is 0 for SIPp: ``timed_out`` tells the two apart.)
    """
    return sipp.wait(timeout) == 0 and not sipp.timed_out


# softphone-cli answer --interactive only picks up a new call when it next
# polls engine.calls (every 50 ms, calls_cli._next_call), so a command sent
# the instant "incoming" is printed can get {"event": "error", "message":
# "no call"}: see test_reject_right_after_incoming.
COMMAND_DELAY = 0.3


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("how", ["command", "sigterm"])
def test_hangup_while_ringing_cancels(start_uas: UasFactory, start_phone: PhoneFactory, how: str) -> None:
    """Ringing, then hangup -> CANCEL (the INVITE's branch), 200/487, ACK for the 487; exit 3.

    RFC 3261 §9.1 (CANCEL: same Request-URI, Call-ID, From, To, CSeq number
    and top Via branch as the INVITE), §9.2 (200 for the CANCEL, 487 for the
    INVITE), §17.1.1.3 (the ACK for a non-2xx: same branch, the 487's To).
    """
    uas = start_uas("uas_call_ring_no_answer.xml")
    phone = start_phone("call", _uri(uas), "--interactive")

    phone.wait_for("ringing", uas, status=180)
    if how == "command":
        phone.send("hangup")
    else:
        phone.terminate()
    assert phone.wait(uas) == EXIT_NOT_ANSWERED, explain(phone, uas)
    ended = phone.wait_for("ended", uas)
    assert ended["reason"] == "cancelled" and ended["status"] == 487, ended
    assert "answered" not in phone.names(), explain(phone)
    assert _finished(uas, 10), explain(uas, phone)

    invite, cancel, ack = uas.requests("INVITE"), uas.requests("CANCEL"), uas.requests("ACK")
    assert len(invite) == 1 and len(cancel) == 1 and len(ack) == 1, explain(uas)
    invite_, cancel_, ack_ = invite[0], cancel[0], ack[0]
    assert cancel_.branch == invite_.branch, (invite_.text, cancel_.text)
    assert _request_uri(cancel_) == _request_uri(invite_)
    for name in ("Call-ID", "From", "To"):
        assert cancel_.header(name) == invite_.header(name), name
    assert cancel_.cseq == invite_.cseq and (cancel_.header("CSeq") or "").endswith("CANCEL")
    assert ack_.branch == invite_.branch and ack_.cseq == invite_.cseq, ack_.text
    ringing_tag = _tag(next(m for m in uas.sent() if m.status == 180).header("To"))
    assert _tag(ack_.header("To")) == ringing_tag, ack_.text
    assert cancel_.timestamp >= next(m for m in uas.sent() if m.status == 180).timestamp
    assert not uas.requests("BYE"), explain(uas)


def test_200_crossing_our_cancel_is_acked_and_byed(start_uas: UasFactory, start_phone: PhoneFactory) -> None:
    """Hangup while ringing, but the callee's 200 crosses the CANCEL -> ACK, then BYE at once; exit 3.

    RFC 3261 §9.1 (a CANCEL has no effect on a request that already got its
    final response), §13.2.2.4 (every 2xx is ACKed), §15 (the caller that
    no longer wants the session ends it with BYE).
    """
    uas = start_uas("uas_call_cancel_race.xml")
    phone = start_phone("call", _uri(uas), "--interactive")

    phone.wait_for("ringing", uas)
    phone.send("hangup")
    assert phone.wait(uas) == EXIT_NOT_ANSWERED, explain(phone, uas)
    ended = phone.wait_for("ended", uas)
    assert ended["reason"] == "cancelled", ended
    assert "answered" not in phone.names(), explain(phone)
    assert _finished(uas, 10), explain(uas, phone)

    ok = next(m for m in uas.sent() if m.status == 200 and m.method == "INVITE")
    acks, byes = uas.requests("ACK"), uas.requests("BYE")
    assert len(acks) == 1 and len(byes) == 1, explain(uas)
    assert byes[0].timestamp - ok.timestamp < 2.0, explain(uas)
    assert _tag(byes[0].header("To")) == _tag(ok.header("To")), byes[0].text
    assert (byes[0].cseq or 0) > (uas.requests("INVITE")[0].cseq or 0)


def test_caller_cancels_while_ringing(start_phone: PhoneFactory, start_uac: UacFactory) -> None:
    """A SIPp caller CANCELs while we ring -> 200 for the CANCEL, 487 for the INVITE; "cancelled by caller".

    RFC 3261 §9.2: the UAS answers the CANCEL 200 and, the INVITE having had
    no final response, answers it 487 (Request Terminated).
    """
    phone = start_phone("answer", "--interactive")
    uac = start_uac("uac_call_cancel.xml", phone.port())

    phone.wait_for("incoming", uac)
    ended = phone.wait_for("ended", uac)
    assert ended["reason"] == "cancelled by caller" and ended["status"] == 487, ended
    assert _finished(uac, 10), explain(uac, phone)
    assert phone.wait(uac) == EXIT_NOT_ANSWERED, explain(phone, uac)
    assert "answered" not in phone.names(), explain(phone)

    received = [m for m in uac.messages() if m.direction == "received" and not m.is_request]
    statuses = [(m.status, m.method) for m in received]
    assert (200, "CANCEL") in statuses and (487, "INVITE") in statuses, statuses
    assert (200, "INVITE") not in statuses, statuses
    ringing = _responses(received, 180, "INVITE")[0]
    terminated = _responses(received, 487, "INVITE")[0]
    assert _tag(terminated.header("To")) == _tag(ringing.header("To")), terminated.text
    invite = next(m for m in uac.sent() if m.method == "INVITE" and m.is_request)
    assert terminated.branch == invite.branch
    assert any(m.is_request and m.method == "ACK" for m in uac.sent()), explain(uac)


def test_reject_486(start_phone: PhoneFactory, start_uac: UacFactory) -> None:
    """``{"command":"reject","status":486}`` while ringing -> the caller gets 486 and ACKs it.

    RFC 3261 §13.3.1.3 (the UAS rejects with a final response, 486 Busy Here:
    §21.4.24), §17.1.1.3 (the caller's ACK).
    """
    phone = start_phone("answer", "--interactive")
    uac = start_uac("uac_call_reject.xml", phone.port())

    phone.wait_for("incoming", uac)
    time.sleep(COMMAND_DELAY)
    phone.send("reject", status=486)
    assert _finished(uac), explain(uac, phone)
    ended = phone.wait_for("ended", uac)
    assert ended["reason"] == "rejected" and ended["status"] == 486, ended
    assert phone.wait(uac) == EXIT_NOT_ANSWERED, explain(phone, uac)

    received = [m for m in uac.messages() if m.direction == "received" and not m.is_request]
    busy = _responses(received, 486, "INVITE")
    assert busy, explain(uac)
    assert not _responses(received, 200, "INVITE"), explain(uac)
    ringing = _responses(received, 180, "INVITE")[0]
    assert _tag(busy[0].header("To")) == _tag(ringing.header("To"))
    ack = [m for m in uac.sent() if m.is_request and m.method == "ACK"]
    assert len(ack) == 1 and _tag(ack[0].header("To")) == _tag(busy[0].header("To")), explain(uac)


def test_remote_bye_ends_the_call(start_uas: UasFactory, start_phone: PhoneFactory) -> None:
    """SIPp answers, then hangs up 2 s later -> 200 for its BYE, "remote hangup", exit 0.

    RFC 3261 §15.1.2 (a UAS receiving a BYE answers 200 and ends the
    session); the BYE goes to our Contact (the remote target, §12.2.1.1).
    """
    uas = start_uas("uas_call_remote_bye.xml")
    phone = start_phone("call", _uri(uas))

    answered = phone.wait_for("answered", uas)
    assert answered["codec"] == "PCMU", answered
    ended = phone.wait_for("ended", uas)
    assert ended["reason"] == "remote hangup", ended
    assert 1.5 <= ended["_t"] - answered["_t"] <= 4.0, explain(phone)
    assert phone.wait(uas) == EXIT_OK, explain(phone, uas)
    assert _finished(uas, 10), explain(uas, phone)

    received = uas.messages()
    ok = _responses([m for m in received if m.direction == "received"], 200, "BYE")
    assert len(ok) >= 1, explain(uas)
    bye = next(m for m in uas.sent() if m.is_request and m.method == "BYE")
    assert ok[0].header("Call-ID") == bye.header("Call-ID") and ok[0].cseq == bye.cseq
    assert _tag(ok[0].header("To")) == _tag(bye.header("To"))  # our tag, as in the INVITE's From
    invite = uas.requests("INVITE")[0]
    contact = (invite.header("Contact") or "").strip("<>")
    assert _request_uri(bye) == contact, (bye.first_line, contact)
    assert len(uas.requests("BYE")) == 0, "the phone sent a BYE of its own"


def test_remote_hold_and_resume(start_uas: UasFactory, start_phone: PhoneFactory) -> None:
    """re-INVITE a=sendonly -> 200 a=recvonly, "held" by remote; re-INVITE sendrecv -> "resumed".

    RFC 3264 §8.4 (hold: the answer to a sendonly stream is recvonly), §8
    (a changed SDP gets a higher o= version), RFC 3261 §14.2 (a UAS receiving
    a re-INVITE).
    """
    uas = start_uas("uas_call_remote_hold.xml")
    phone = start_phone("call", _uri(uas))

    phone.wait_for("answered", uas)
    held = phone.wait_for("held", uas)
    assert held["by"] == "remote", held
    resumed = phone.wait_for("resumed", uas)
    assert resumed["by"] == "remote", resumed
    assert 1.2 <= resumed["_t"] - held["_t"] <= 3.0, explain(phone)
    ended = phone.wait_for("ended", uas)
    assert ended["reason"] == "remote hangup", ended
    assert phone.wait(uas) == EXIT_OK, explain(phone, uas)
    assert _finished(uas, 10), explain(uas, phone)

    answers = _responses(uas.received(), 200, "INVITE")
    seen: dict[int | None, SippMessage] = {}
    for answer in answers:  # retransmissions left out
        seen.setdefault(answer.cseq, answer)
    assert len(seen) == 2, explain(uas)
    hold_answer, resume_answer = (_body(m) for m in seen.values())
    assert _direction(hold_answer) == "recvonly", hold_answer
    assert _direction(resume_answer) == "sendrecv", resume_answer
    offer = _body(uas.requests("INVITE")[0])
    versions = [_origin(sdp) for sdp in (offer, hold_answer, resume_answer)]
    assert len({session for session, _ in versions}) == 1, versions
    assert versions[0][1] < versions[1][1] < versions[2][1], versions
    assert all("Contact" in m.text for m in seen.values())


def test_local_hold(start_uas: UasFactory, start_phone: PhoneFactory) -> None:
    """``{"command":"hold"}`` -> re-INVITE with a=sendonly, 200 recvonly, ACK; "held" by local.

    RFC 3264 §8.4 (hold: sendonly offer), §8 (same o= session, higher
    version), RFC 3261 §14.1 (the re-INVITE goes within the dialog: the
    peer's Contact as Request-URI, the tags, a higher CSeq), §13.2.2.4 (ACK).
    """
    uas = start_uas("uas_call_hold.xml")
    phone = start_phone("call", _uri(uas), "--interactive")

    phone.wait_for("answered", uas)
    phone.send("hold")
    held = phone.wait_for("held", uas)
    assert held["by"] == "local", held
    phone.send("hangup")
    assert phone.wait(uas) == EXIT_OK, explain(phone, uas)
    assert phone.wait_for("ended", uas)["reason"] == "local hangup"
    assert _finished(uas, 10), explain(uas, phone)

    invites = uas.requests("INVITE")
    assert len(invites) == 2, explain(uas)
    initial, reinvite = invites
    assert _direction(_body(reinvite)) == "sendonly", reinvite.text
    assert reinvite.header("Call-ID") == initial.header("Call-ID")
    assert reinvite.header("From") == initial.header("From")
    ok = _responses(uas.sent(), 200, "INVITE")[0]
    assert _tag(reinvite.header("To")) == _tag(ok.header("To")), reinvite.text
    assert _request_uri(reinvite) == (ok.header("Contact") or "").strip("<>")
    assert (reinvite.cseq or 0) > (initial.cseq or 0)
    assert reinvite.branch != initial.branch
    (session, version), (session2, version2) = _origin(_body(initial)), _origin(_body(reinvite))
    assert session == session2 and version2 > version, (_body(initial), _body(reinvite))
    acks = [m for m in uas.requests("ACK") if m.cseq == reinvite.cseq]
    assert len(acks) == 1 and acks[0].branch != reinvite.branch, explain(uas)


def test_glare_491_is_retried_after_2_1_to_4_s(start_uas: UasFactory, start_phone: PhoneFactory) -> None:
    """Our hold re-INVITE gets 491 -> ACK, and as the Call-ID owner we retry 2.1-4 s later -> 200.

    RFC 3261 §14.1: on 491 the UAC that generated the Call-ID waits a random
    time between 2.1 and 4 s (the other 0-2 s) before trying again.
    """
    uas = start_uas("uas_call_glare.xml")
    phone = start_phone("call", _uri(uas), "--interactive")

    phone.wait_for("answered", uas)
    phone.send("hold")
    held = phone.wait_for("held", uas, timeout=10)
    assert held["by"] == "local", held
    phone.send("hangup")
    assert phone.wait(uas) == EXIT_OK, explain(phone, uas)
    assert _finished(uas, 10), explain(uas, phone)

    invites = uas.requests("INVITE")
    assert len(invites) == 3, explain(uas)
    _, first, second = invites
    pending = next(m for m in uas.sent() if m.status == 491)
    waited = second.timestamp - pending.timestamp
    assert 2.1 - 0.01 <= waited <= 4.0 + 0.5, f"retried {waited:.3f} s after the 491\n{explain(uas)}"
    assert second.cseq == (first.cseq or 0) + 1 and second.branch != first.branch
    ack_491 = [m for m in uas.requests("ACK") if m.cseq == first.cseq]
    assert len(ack_491) == 1 and ack_491[0].branch == first.branch, explain(uas)
    assert _direction(_body(second)) == "sendonly"
    assert held["_t"] - phone.named("answered")[0]["_t"] >= 2.1 - 0.05


def test_bye_for_an_unknown_dialog_gets_481(start_phone: PhoneFactory, start_uac: UacFactory) -> None:
    """BYE and INFO with a To tag for no dialog we know -> 481 each; no call appears.

    RFC 3261 §12.2.2: a request with a To tag that matches no dialog gets
    481 (Call/Transaction Does Not Exist).
    """
    phone = start_phone("answer")
    uac = start_uac("uac_call_bye_unknown.xml", phone.port())

    assert _finished(uac, 15), explain(uac, phone)
    received = [m for m in uac.messages() if m.direction == "received"]
    assert [(m.status, m.method) for m in received][:2] == [(481, "BYE"), (481, "INFO")], explain(uac)
    bye = next(m for m in uac.sent() if m.is_request and m.method == "BYE")
    assert received[0].branch == bye.branch and received[0].header("Call-ID") == bye.header("Call-ID")
    phone.terminate()
    assert phone.wait(uac) == EXIT_OK, explain(phone, uac)
    assert not {"incoming", "answered", "ended"} & set(phone.names()), explain(phone)


def test_media_timeout_hangs_up(start_uas: UasFactory, start_phone: PhoneFactory) -> None:
    """SIPp answers but sends no RTP; --media-timeout 3 -> BYE about 3 s later, exit 4."""
    uas = start_uas("uas_call_no_rtp.xml")
    phone = start_phone("call", _uri(uas), "--media-timeout", "3")

    answered = phone.wait_for("answered", uas)
    ended = phone.wait_for("ended", uas)
    assert str(ended["reason"]).startswith("media timeout"), ended
    assert 2.9 <= ended["_t"] - answered["_t"] <= 6.0, explain(phone)
    assert phone.wait(uas) == EXIT_BROKEN, explain(phone, uas)
    assert _finished(uas, 10), explain(uas, phone)

    byes, acks = uas.requests("BYE"), uas.requests("ACK")
    assert len(byes) == 1 and len(acks) == 1, explain(uas)
    silence = byes[0].timestamp - acks[0].timestamp
    assert 2.9 <= silence <= 5.0, f"BYE {silence:.3f} s after the ACK\n{explain(uas)}"
    stats = phone.named("stats")
    assert stats and stats[-1]["packets_received"] == 0 and stats[-1]["packets_sent"] > 0, stats


def test_early_media_from_183(start_uas: UasFactory, start_phone: PhoneFactory) -> None:
    """183 Session Progress with SDP -> "early_media" (no "ringing"), then 200 -> "answered".

    RFC 3261 §13.2.1 / RFC 3960 (an answer in a provisional response: early
    media, here towards SIPp's RTP port), then the same answer in the 200.
    """
    uas = start_uas("uas_call_early_media.xml")
    phone = start_phone("call", _uri(uas), "--duration", "1")

    early = phone.wait_for("early_media", uas)
    assert early["status"] == 183, early
    answered = phone.wait_for("answered", uas)
    assert answered["codec"] == "PCMU", answered
    assert answered["_t"] - early["_t"] >= 1.2, explain(phone)
    assert phone.wait(uas) == EXIT_OK, explain(phone, uas)
    assert "ringing" not in phone.names(), explain(phone)
    names = phone.names()
    assert names.index("early_media") < names.index("answered") < names.index("ended"), names
    assert _finished(uas, 10), explain(uas, phone)
    assert len(uas.requests("BYE")) == 1, explain(uas)


def test_offerless_invite_is_answered_with_an_offer(start_phone: PhoneFactory, start_uac: UacFactory) -> None:
    """INVITE without SDP -> our offer in the 200, the answer in SIPp's ACK -> a working call.

    RFC 3261 §13.2.1 (an INVITE without an offer: the offer is in the 2xx,
    the answer in the ACK), RFC 3264 §5/§6.  The media must start once the
    ACK brings the answer (RTP flows to SIPp's port), and "answered" reports
    the codec of that answer.
    """
    phone = start_phone("answer")
    uac = start_uac("uac_call_offerless.xml", phone.port())

    answered = phone.wait_for("answered", uac)
    ended = phone.wait_for("ended", uac)
    assert _finished(uac, 15), explain(uac, phone)
    assert phone.wait(uac) == EXIT_OK, explain(phone, uac)
    assert ended["reason"] == "remote hangup", ended

    offer = _responses([m for m in uac.messages() if m.direction == "received"], 200, "INVITE")[0]
    assert offer.header("Content-Type") == "application/sdp", offer.text
    assert re.search(r"^m=audio \d+ RTP/", _body(offer), re.MULTILINE), offer.text
    assert answered.get("codec") == "PCMU", explain(phone)
    stats = phone.named("stats")
    assert stats and stats[-1]["packets_sent"] > 0, f"no RTP sent after the ACK's answer\n{explain(phone)}"


def test_offerless_invite_with_no_answer_in_the_ack_is_hung_up(
    start_phone: PhoneFactory, start_uac: UacFactory
) -> None:
    """INVITE without SDP, then an ACK without the answer -> we send BYE at once (no media to run).

    RFC 3261 §13.2.1: the ACK MUST carry the answer to an offer in the 2xx;
    without one there is no session description, so the call cannot work.
    """
    phone = start_phone("answer")
    uac = start_uac("uac_call_offerless_no_answer.xml", phone.port())

    ended = phone.wait_for("ended", uac)
    assert str(ended["reason"]).startswith("unusable answer in ACK"), ended
    assert _finished(uac, 15), explain(uac, phone)
    # SIGTERM: a call that ends before calls_cli._next_call's next 50 ms poll is
    # never counted, so ``answer --calls 1`` would wait for another one
    phone.terminate()
    phone.wait(uac)
    assert "answered" not in phone.names(), explain(phone)
    acks, byes = uac.sent(), uac.received("BYE")
    ack = next(m for m in acks if m.is_request and m.method == "ACK")
    assert len(byes) >= 1 and byes[0].timestamp - ack.timestamp < 2.0, explain(uac)


def test_offerless_reinvite_takes_the_answer_from_the_ack(
    start_uas: UasFactory, start_phone: PhoneFactory
) -> None:
    """re-INVITE without SDP -> our offer in the 200; the ACK answers a=sendonly -> "held" by remote.

    RFC 3261 §14.2 and §13.2.1 (offer in the 2xx, answer in the ACK), RFC
    3264 §8 (same o= session, higher version), §8.4 (sendonly: on hold).
    """
    uas = start_uas("uas_call_reinvite_offerless.xml")
    phone = start_phone("call", _uri(uas))

    phone.wait_for("answered", uas)
    held = phone.wait_for("held", uas)
    assert held["by"] == "remote", held
    ended = phone.wait_for("ended", uas)
    assert ended["reason"] == "remote hangup", ended
    assert phone.wait(uas) == EXIT_OK, explain(phone, uas)
    assert _finished(uas, 10), explain(uas, phone)

    offers = _responses(uas.received(), 200, "INVITE")
    reoffer = next(
        m for m in offers if m.cseq == 1 and _tag(m.header("From")) != _tag(offers[0].header("To"))
    )
    first_offer = _body(uas.requests("INVITE")[0])
    (session, version), (session2, version2) = _origin(first_offer), _origin(_body(reoffer))
    assert session == session2 and version2 > version, (first_offer, _body(reoffer))


def test_unacceptable_offer_gets_488_with_a_warning(start_phone: PhoneFactory, start_uac: UacFactory) -> None:
    """An offer with no codec we have (G.729 only) -> 488 with a Warning, ACKed; "ended" 488.

    RFC 3264 §6 (no acceptable media: reject the offer), RFC 3261 §21.4.26
    (488 Not Acceptable Here, with a Warning saying why), §17.1.1.3.
    """
    phone = start_phone("answer")
    uac = start_uac("uac_call_bad_offer.xml", phone.port())

    ended = phone.wait_for("ended", uac)
    assert ended["status"] == 488, ended
    assert _finished(uac, 15), explain(uac, phone)
    phone.terminate()  # see test_answer_exits_after_a_call_that_ended_at_once
    phone.wait(uac)
    rejected = _responses([m for m in uac.messages() if m.direction == "received"], 488, "INVITE")
    assert rejected, explain(uac)
    assert re.match(r"\d{3} \S+ \"", rejected[0].header("Warning") or ""), rejected[0].text
    assert not _responses(uac.received(), 200, "INVITE"), explain(uac)


def test_answer_exits_after_a_call_that_ended_at_once(
    start_phone: PhoneFactory, start_uac: UacFactory
) -> None:
    """``answer --calls 1`` exits after one call, however short it was."""
    phone = start_phone("answer", "--calls", "1")
    uac = start_uac("uac_call_bad_offer.xml", phone.port())

    phone.wait_for("ended", uac)
    assert phone.wait(uac, timeout=3) == EXIT_NOT_ANSWERED, explain(phone)


def test_reject_right_after_incoming(start_phone: PhoneFactory, start_uac: UacFactory) -> None:
    """A script that rejects the instant "incoming" is printed must reach the call."""
    phone = start_phone("answer", "--interactive")
    uac = start_uac("uac_call_reject.xml", phone.port(), timeout=8)

    phone.wait_for("incoming", uac)
    phone.send("reject", status=486)
    ended = phone.wait_for("ended", uac, timeout=3)
    assert ended["status"] == 486, ended
    assert "error" not in phone.names(), explain(phone)
    assert _finished(uac), explain(uac, phone)
