"""Every RFC 4475 torture message sent to a running engine over UDP (issue 15, item 5): each gets the answer
the RFC expects or none where it says to drop, no task fails unseen, and no call is left ringing."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from softphone.core.engine import Engine, MediaOptions

DATA = Path(__file__).resolve().parents[1] / "sip" / "data" / "rfc4475"
MESSAGES = sorted(p.name for p in DATA.glob("*.dat"))


async def _exchange(engine: Engine, sock: socket.socket, data: bytes, wait: float = 0.4) -> list[str]:
    loop = asyncio.get_running_loop()
    assert engine.local is not None
    sock.sendto(data, ("127.0.0.1", engine.local[1]))
    got: list[str] = []
    deadline = loop.time() + wait
    while loop.time() < deadline:
        try:
            got.append(sock.recv(65535).split(b"\r\n", 1)[0].decode(errors="replace"))
        except BlockingIOError:
            await asyncio.sleep(0.02)
    return got


def test_every_torture_message_is_answered_and_leaves_no_task_error_and_no_call() -> None:
    async def scenario() -> dict[str, list[str]]:
        loop = asyncio.get_running_loop()
        failures: list[Any] = []
        loop.set_exception_handler(lambda _loop, context: failures.append(context))
        engine = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"], srtp="off"))
        await engine.start()
        answers: dict[str, list[str]] = {}
        try:
            for name in MESSAGES:
                # a socket per message: what one message's transaction retransmits stays with it
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind(("127.0.0.1", 0))
                    sock.setblocking(False)
                    answers[name] = await _exchange(engine, sock, (DATA / name).read_bytes())
                    for call in list(engine.calls.values()):
                        if not call.ended:  # a valid INVITE rings: it must still be a call we can end
                            await asyncio.wait_for(call.reject(486), 5)
                        assert call.ended, (name, call.state)
        finally:
            await engine.stop()
        assert not failures, failures  # "Task exception was never retrieved" and friends
        return answers

    answers = asyncio.run(scenario())
    statuses = {
        name: {int(line.split()[1]) for line in got if line.startswith("SIP/2.0 ")}
        for name, got in answers.items()
    }
    # (answers go back over UDP to us only where the message's Via says UDP; TCP/TLS Vias are answered on a
    # connection to their sent-by, which nobody holds here, so those are checked for the two things above)
    for name in ("inv2543.dat", "esc01.dat", "longreq.dat"):  # valid: RFC 2543 syntax, escapes, long values
        assert 180 in statuses[name] and 400 not in statuses[name], (name, answers[name])
    assert 505 in statuses["badvers.dat"]
    assert 415 in statuses["invut.dat"]
    assert 406 in statuses["sdp01.dat"]
    assert 400 in statuses["badinv01.dat"] and 400 in statuses["mismatch01.dat"]
    assert statuses["bigcode.dat"] == set()  # a response with code 999: dropped


def test_an_unusable_offer_gets_488_with_a_warning_not_400() -> None:
    """400 is for broken SIP; a well-formed INVITE whose SDP cannot be used gets 488 and says why."""

    async def scenario() -> list[bytes]:
        engine = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"], srtp="off"))
        await engine.start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        port = sock.getsockname()[1]
        body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        body += b"m=audio 4000 RTP/AVP 0\r\na=ptime:soon\r\n"
        invite = (
            f"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-488\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n"
            f"Call-ID: unusable-offer\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:{port}>\r\n"
            f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        assert engine.local is not None
        sock.sendto(invite, ("127.0.0.1", engine.local[1]))
        replies: list[bytes] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2
        while loop.time() < deadline and not any(r.startswith(b"SIP/2.0 488") for r in replies):
            try:
                replies.append(sock.recv(65535))
            except BlockingIOError:
                await asyncio.sleep(0.02)
        sock.close()
        await engine.stop()
        return replies

    final = [r for r in asyncio.run(scenario()) if not r.startswith(b"SIP/2.0 1")]
    assert final and final[0].startswith(b"SIP/2.0 488"), final
    assert b"\r\nWarning: 399 softphone" in final[0] and b"ptime" in final[0]


pytest.importorskip("numpy")  # the engine's media


def test_an_rfc_2543_invite_without_contact_can_be_answered() -> None:
    """RFC 4475 §3.4.1: no Contact, no From tag, no branch. Answering it used to raise inside a task, and the
    caller heard 180 and then nothing; its From stands in for the missing Contact (RFC 3261 §12.1.1)."""

    async def scenario() -> tuple[list[str], str]:
        loop = asyncio.get_running_loop()
        failures: list[Any] = []
        loop.set_exception_handler(lambda _loop, context: failures.append(context))
        engine = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"], srtp="off"))
        await engine.start()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(("127.0.0.1", 0))
                sock.setblocking(False)
                answers = await _exchange(engine, sock, (DATA / "inv2543.dat").read_bytes())
                (call,) = engine.calls.values()
                await asyncio.wait_for(call.answer(), 5)
                answers += await _exchange(engine, sock, b"\r\n\r\n", wait=0.3)  # (a keep-alive: no answer)
                target = str(call.dialog.remote_target) if call.dialog else ""
                await asyncio.wait_for(call.hangup(), 10)
        finally:
            await engine.stop()
        assert not failures, failures
        return answers, target

    answers, target = asyncio.run(scenario())
    assert answers[0] == "SIP/2.0 180 Ringing" and "SIP/2.0 200 OK" in answers
    assert target == "sip:+13035551111@ift.client.example.net;user=phone"  # inv2543's From
