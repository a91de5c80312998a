"""SIPVicious against a registered ``softphone-cli answer``: the classic scan, enumerate, crack.

The softphone is registered as bob at a private Kamailio (started here, from tests/peers); the
scanners talk to the softphone's own UDP port directly, as they do on the Internet. It must

* never ring: no ``incoming`` event; INVITEs that do not come from the proxy get 403 (svmap
  ``-m INVITE`` is the "ghost call" scan that makes unprotected phones ring at night);
* give away no extension: the same answer whatever user a request names (svwar's method, checked
  by svwar itself and by a direct probe of five methods and 36 user names);
* give away no password: it never challenges, so svcrack has nothing to guess against;
* still be alive, registered and answering OPTIONS afterwards.

Needs ``kamailio`` and SIPVicious (``pip install sipvicious`` into the venv); skipped otherwise.
"""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.kamailio import KamailioServer, kamailio_available
from tests.peers.softphone_cli import CliProcess

pytestmark = [pytest.mark.interop, pytest.mark.slow]

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def tool(name: str) -> str:
    path = BIN / f"sipvicious_{name}"
    if path.exists():
        return str(path)
    found = shutil.which(f"sipvicious_{name}")
    if found is None:
        pytest.skip(f"sipvicious_{name} not found (pip install sipvicious)")
    return found


@pytest.fixture(scope="module")
def registered_softphone() -> Iterator[tuple[CliProcess, int]]:
    if not kamailio_available():
        pytest.skip("kamailio binary not found on PATH (apt-get install kamailio)")
    tool("svmap")
    server = KamailioServer()
    server.start()
    try:
        args = [
            "--user",
            f"sip:bob@{server.domain}",
            "--password-env",
            "SOFTPHONE_TEST_PASSWORD",
            "--transport",
            "udp",
            "--proxy",
            f"sip:{server.host}:{server.udp_port};transport=udp",
            "--listen",
            f"{HOST}:0",
        ]
        with CliProcess(*args, "answer", "--calls", "0", password="bob-secret") as cli:
            contact = cli.wait_event("registered")["contact"]
            port = int(re.search(r":(\d+)(?:[;>]|$)", contact).group(1))  # type: ignore[union-attr]
            yield cli, port
            assert cli.proc.poll() is None, f"softphone-cli died:\n{cli.stderr[-3000:]}"
            assert cli.terminate() == 0
    finally:
        server.stop()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def run_tool(name: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a SIPVicious tool from its own local port: they all default to 5060, and a late
    retransmission meant for the previous tool (a 403 to an INVITE it never ACKed) would
    otherwise read as an answer to the next one."""
    command = [tool(name), "-P", str(free_udp_port()), *args]
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:  # the tool hung (see svcrack below): what it said so far
        return subprocess.CompletedProcess(exc.cmd, -9, _text(exc.stdout), _text(exc.stderr))


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def request(method: str, user: str, port: int, sock: socket.socket) -> str:
    """One request naming ``user`` in the Request-URI and To, as svwar sends them."""
    local = sock.getsockname()[1]
    tag = secrets.token_hex(4)
    body = ""
    extra = ""
    if method == "INVITE":
        body = (
            f"v=0\r\no=- 1 1 IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        )
        extra = f"Contact: <sip:scanner@{HOST}:{local}>\r\nContent-Type: application/sdp\r\n"
    if method == "SUBSCRIBE":
        extra = "Event: presence\r\n"
    return (
        f"{method} sip:{user}@{HOST}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {HOST}:{local};branch=z9hG4bK{secrets.token_hex(8)};rport\r\n"
        "Max-Forwards: 70\r\n"
        f'From: "{user}" <sip:{user}@{HOST}>;tag={tag}\r\n'
        f'To: "{user}" <sip:{user}@{HOST}>\r\n'
        f"Call-ID: {secrets.token_hex(8)}\r\n"
        f"CSeq: 1 {method}\r\n"
        f"{extra}"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


def answer_of(method: str, user: str, port: int) -> tuple[str, tuple[str, ...]]:
    """The final status line and the header names of the answer (what an enumerator compares)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(3)
        sent = request(method, user, port, sock)
        sock.sendto(sent.encode(), (HOST, port))
        while True:
            data = sock.recv(65535).decode(errors="replace")
            status = data.split("\r\n", 1)[0]
            if not status.startswith("SIP/2.0 1"):
                break
        names = tuple(
            sorted({line.split(":", 1)[0].lower() for line in data.split("\r\n")[1:] if ":" in line})
        )
        if method == "INVITE" and not status.startswith("SIP/2.0 2"):
            sock.sendto(_ack_for(sent, data).encode(), (HOST, port))  # stops the 403's retransmissions
        return status, names


def _ack_for(invite: str, response: str) -> str:
    """The ACK to a non-2xx final response (RFC 3261 §17.1.1.3): the INVITE's Via, From, Call-ID
    and Request-URI, the response's To (with its tag), CSeq ACK, no body."""
    head = invite.split("\r\n\r\n", 1)[0].split("\r\n")
    to = next(line for line in response.split("\r\n") if line.lower().startswith("to:"))
    lines = [head[0].replace("INVITE", "ACK", 1)]
    for line in head[1:]:
        name = line.split(":", 1)[0].lower()
        if name in ("via", "max-forwards", "from", "call-id"):
            lines.append(line)
        elif name == "cseq":
            lines.append(line.replace("INVITE", "ACK"))
    return "\r\n".join([*lines, to, "Content-Length: 0", "", ""])


def test_scanners_find_nothing_and_the_softphone_never_rings(
    registered_softphone: tuple[CliProcess, int],
) -> None:
    cli, port = registered_softphone
    target = f"udp://{HOST}:{port}"
    started = time.monotonic()

    # svmap: the phone is visible (it answers OPTIONS, as RFC 3261 §11 wants) ...
    found = run_tool("svmap", HOST, "-p", str(port))
    assert f"{HOST}:{port}" in found.stdout, found
    # ... and the "ghost call" INVITE scan does not make it ring
    run_tool("svmap", HOST, "-p", str(port), "-m", "INVITE")

    # svwar: no extension is found, with any method
    for method in ("REGISTER", "OPTIONS", "INVITE"):
        result = run_tool("svwar", "--force", "-e100-130", "-m", method, target)
        assert "Extension" not in result.stdout, (method, result.stdout)
        assert "found nothing" in result.stderr, (method, result.stderr)

    # svcrack: the softphone never challenges, so there is nothing to crack
    cracked = run_tool("svcrack", "-u", "bob", "-r1-5", "--maximumtime", "3", target, timeout=20)
    assert "Password" not in cracked.stdout and "| bob" not in cracked.stdout, cracked

    # an enumerator compares answers across user names: they must be identical
    users = ["bob", "alice", "carol", "admin", "nobody-" + secrets.token_hex(3)] + [
        str(n) for n in range(100, 131)
    ]
    for method in ("OPTIONS", "INVITE", "REGISTER", "SUBSCRIBE", "MESSAGE"):
        answers = {user: answer_of(method, user, port) for user in users}
        distinct = set(answers.values())
        assert len(distinct) == 1, f"{method} tells users apart: {answers}"

    # afterwards: alive, still registered, still answering, and it never rang
    assert cli.proc.poll() is None, cli.stderr[-3000:]
    assert answer_of("OPTIONS", "bob", port)[0] == "SIP/2.0 200 OK"
    names = [event["event"] for event in cli.events]
    assert "incoming" not in names, cli.events
    assert "refused" in names  # the INVITEs were seen and turned away (403)
    assert "registration_failed" not in names
    assert answer_of("INVITE", "bob", port)[0].startswith("SIP/2.0 403")
    assert time.monotonic() - started < 90
