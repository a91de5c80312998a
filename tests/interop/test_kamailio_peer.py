"""The Kamailio test peer works: registrar with digest auth, proxy, transports.

SIPp is the client here (scenarios in tests/peers/sipp); the WebSocket test
uses a minimal hand-written RFC 6455 client.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import ssl
import struct
import time
import uuid
from collections.abc import Callable

import pytest

from tests.interop.conftest import SippRunner
from tests.peers.kamailio import KamailioServer, parse_ul_dump

pytestmark = pytest.mark.interop


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------- REGISTER


def test_register_without_credentials_is_challenged(kamailio: KamailioServer, sipp: SippRunner) -> None:
    res = sipp.run(kamailio, "uac_register_noauth.xml", service="alice")
    assert res.ok, res.explain()
    m = re.search(r"challenge: (.*)", res.logs)
    assert m, res.explain()
    challenge = m.group(1)
    assert challenge.strip().startswith("Digest")
    assert f'realm="{kamailio.domain}"' in challenge
    assert "nonce=" in challenge


def test_register_with_password_creates_binding(kamailio: KamailioServer, sipp: SippRunner) -> None:
    port = _free_udp_port()
    res = sipp.run(
        kamailio,
        "uac_register_auth.xml",
        service="alice",
        user="alice",
        password=kamailio.users["alice"],
        local_port=port,
    )
    assert res.ok, res.explain()
    bindings = kamailio.ul_dump()
    assert "alice" in bindings, bindings
    assert any(f"@127.0.0.1:{port}" in c for c in bindings["alice"]), bindings


def test_register_with_wrong_password_is_rejected(kamailio: KamailioServer, sipp: SippRunner) -> None:
    res = sipp.run(
        kamailio,
        "uac_register_badauth.xml",
        service="carol",
        user="carol",
        password="not-the-password",
    )
    # The scenario fails on any 200; it passes on 401 (re-challenge) or 403.
    assert res.ok, res.explain()
    assert "SIP/2.0 200" not in res.messages
    assert "carol" not in kamailio.ul_dump()


def test_register_over_tcp(kamailio: KamailioServer, sipp: SippRunner) -> None:
    res = sipp.run(
        kamailio,
        "uac_register_auth.xml",
        service="bob",
        user="bob",
        password=kamailio.users["bob"],
        transport="tcp",
    )
    assert res.ok, res.explain()
    contacts = kamailio.ul_dump().get("bob", [])
    assert any("transport=tcp" in c.lower() for c in contacts), contacts


def test_register_interval_too_brief(kamailio: KamailioServer, sipp: SippRunner) -> None:
    res = sipp.run(
        kamailio,
        "uac_register_too_brief.xml",
        service="carol",
        user="carol",
        password=kamailio.users["carol"],
        keys={"expires": "30"},
    )
    assert res.ok, res.explain()
    assert "min-expires: 60" in res.logs, res.explain()


def test_restart_empties_location_and_keeps_ports(fresh_kamailio: KamailioServer, sipp: SippRunner) -> None:
    k = fresh_kamailio
    res = sipp.run(k, "uac_register_auth.xml", service="alice", user="alice", password=k.users["alice"])
    assert res.ok, res.explain()
    assert "alice" in k.ul_dump()

    ports = (k.udp_port, k.tcp_port, k.tls_port, k.ws_port)
    old_pid = k.pid
    k.restart()
    assert k.pid is not None and k.pid != old_pid
    assert (k.udp_port, k.tcp_port, k.tls_port, k.ws_port) == ports
    assert k.ul_dump() == {}

    # answers again on the same UDP and TCP ports
    res = sipp.run(k, "uac_register_auth.xml", service="alice", user="alice", password=k.users["alice"])
    assert res.ok, res.explain()
    res = sipp.run(
        k, "uac_register_auth.xml", service="bob", user="bob", password=k.users["bob"], transport="tcp"
    )
    assert res.ok, res.explain()
    assert set(k.ul_dump()) == {"alice", "bob"}


# -------------------------------------------------------------------- calls


def test_call_through_proxy(fresh_kamailio: KamailioServer, sipp: SippRunner) -> None:
    k = fresh_kamailio
    bob_port = _free_udp_port()
    res = sipp.run(
        k, "uac_register_auth.xml", service="bob", user="bob", password=k.users["bob"], local_port=bob_port
    )
    assert res.ok, res.explain()

    uas = sipp.spawn_uas("uas_answer.xml", local_port=bob_port)
    try:
        uac = sipp.run(
            k,
            "uac_invite_auth.xml",
            service="bob",
            user="alice",
            password=k.users["alice"],
            keys={"caller": "alice"},
        )
        callee = uas.wait(timeout=10)
    finally:
        uas.stop()
    assert uac.ok, uac.explain()
    assert callee.ok, callee.explain()
    # the proxy record-routes, so ACK and BYE went through it
    assert f"127.0.0.1:{k.udp_port}" in uac.logs, uac.explain()
    assert "Proxy-Authorization" not in callee.messages  # consumed by the proxy


@pytest.mark.parametrize(("callee", "code"), [("nobody", "404"), ("carol", "480")])
def test_call_to_unknown_or_offline_user(
    fresh_kamailio: KamailioServer, sipp: SippRunner, callee: str, code: str
) -> None:
    k = fresh_kamailio
    res = sipp.run(
        k,
        "uac_invite_reject.xml",
        service=callee,
        user="alice",
        password=k.users["alice"],
        keys={"caller": "alice"},
    )
    assert res.ok, res.explain()
    assert f"final={code}" in res.logs, res.explain()


# --------------------------------------------------------- OPTIONS, TLS, WS


def _options(host: str, transport: str, local_port: int, target: str) -> bytes:
    return (
        f"OPTIONS {target} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {host}:{local_port};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:alice@{host}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <{target}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def test_options_to_server_over_tls_with_generated_ca(kamailio: KamailioServer) -> None:
    assert kamailio.ca_file is not None and kamailio.ca_file.exists()
    ctx = ssl.create_default_context(cafile=str(kamailio.ca_file))
    for server_name in ("127.0.0.1", "localhost"):
        with (
            socket.create_connection((kamailio.host, kamailio.tls_port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            lport = tls.getsockname()[1]
            tls.sendall(_options(kamailio.host, "TLS", lport, f"sip:{kamailio.domain}"))
            reply = tls.recv(65535)
            assert reply.startswith(b"SIP/2.0 200"), reply


# Minimal RFC 6455 client: enough for one request/response over ws://.


def _ws_connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET / HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: sip\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "connection closed during handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    assert accept in head, head
    return sock


def _ws_send(sock: socket.socket, text: str) -> None:
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    # FIN + text opcode; client frames are masked
    header = struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0x80 | 126, n)
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


def _ws_recv(sock: socket.socket) -> str:
    b0, b1 = _recv_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", _recv_exact(sock, 2))
    elif n == 127:
        (n,) = struct.unpack("!Q", _recv_exact(sock, 8))
    assert b0 & 0x0F == 0x1, f"unexpected opcode {b0:#x}"
    return _recv_exact(sock, n).decode()


def _digest(user: str, password: str, realm: str, method: str, uri: str, challenge: str) -> str:
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5(f"{user}:{realm}:{password}"), md5(f"{method}:{uri}")
    if "qop=" in challenge:
        cnonce, nc = uuid.uuid4().hex[:16], "00000001"
        resp = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        resp, extra = md5(f"{ha1}:{nonce}:{ha2}"), ""
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{resp}", algorithm=MD5{extra}'
    )


def test_register_over_websocket(fresh_kamailio: KamailioServer) -> None:
    k = fresh_kamailio
    sock = _ws_connect(k.host, k.ws_port)
    try:
        call_id, tag, host = uuid.uuid4().hex, uuid.uuid4().hex[:8], "x1y2z3.invalid"

        def register(cseq: int, auth: str | None) -> str:
            _ws_send(
                sock,
                f"REGISTER sip:{k.domain} SIP/2.0\r\n"
                f"Via: SIP/2.0/WS {host};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:carol@{k.domain}>;tag={tag}\r\n"
                f"To: <sip:carol@{k.domain}>\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:carol@{host};transport=ws>\r\nExpires: 600\r\n"
                + (f"Authorization: {auth}\r\n" if auth else "")
                + "Content-Length: 0\r\n\r\n",
            )
            return _ws_recv(sock)

        first = register(1, None)
        assert first.startswith("SIP/2.0 401"), first
        challenge = re.search(r"(?im)^WWW-Authenticate:\s*(.*)$", first).group(1)  # type: ignore[union-attr]
        auth = _digest("carol", k.users["carol"], k.domain, "REGISTER", f"sip:{k.domain}", challenge)
        second = register(2, auth)
        assert second.startswith("SIP/2.0 200"), second
        contacts = k.ul_dump().get("carol", [])
        assert any("transport=ws" in c for c in contacts), contacts
    finally:
        sock.close()


def test_expired_nonce_is_rechallenged_with_stale_true(
    make_kamailio: Callable[..., KamailioServer],
) -> None:
    """A REGISTER with an expired nonce gets a new challenge with stale=true."""
    k = make_kamailio(nonce_expire=1, qop=False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(3)
        lport, call_id = s.getsockname()[1], uuid.uuid4().hex

        def register(cseq: int, auth: str | None) -> str:
            msg = (
                f"REGISTER sip:{k.domain} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:alice@{k.domain}>;tag=t1\r\nTo: <sip:alice@{k.domain}>\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:alice@127.0.0.1:{lport}>\r\nExpires: 600\r\n"
                + (f"Authorization: {auth}\r\n" if auth else "")
                + "Content-Length: 0\r\n\r\n"
            )
            s.sendto(msg.encode(), (k.host, k.udp_port))
            return s.recv(65535).decode()

        def challenge_of(reply: str) -> str:
            return re.search(r"(?im)^WWW-Authenticate:\s*(.*)$", reply).group(1)  # type: ignore[union-attr]

        first = register(1, None)
        assert first.startswith("SIP/2.0 401"), first
        assert "stale" not in challenge_of(first)
        auth = _digest(
            "alice", k.users["alice"], k.domain, "REGISTER", f"sip:{k.domain}", challenge_of(first)
        )
        assert register(2, auth).startswith("SIP/2.0 200")
        time.sleep(2.2)  # nonce_expire=1 (+ integer-second granularity)
        stale = register(3, auth)
        assert stale.startswith("SIP/2.0 401"), stale
        assert "stale=true" in challenge_of(stale).lower()
        assert challenge_of(stale) != challenge_of(first)  # fresh nonce


# ------------------------------------------------------------ helper units


def test_parse_ul_dump_handles_empty_and_expired() -> None:
    empty = "{\n\tDomains: {\n\t\tDomain: {\n\t\t\tDomain: location\n\t\t\tAoRs: {\n\t\t\t}\n\t\t}\n\t}\n}\n"
    assert parse_ul_dump(empty) == {}
    text = """
    AoRs: {
        Info: {
            AoR: alice
            Contacts: {
                Contact: {
                    Address: sip:alice@127.0.0.1:5080
                    Expires: 42
                }
                Contact: {
                    Address: sip:alice@127.0.0.1:5082
                    Expires: deleted
                }
            }
        }
        Info: {
            AoR: bob
            Contacts: {
                Contact: {
                    Address: sip:bob@127.0.0.1:5090;transport=TCP
                    Expires: -3
                }
            }
        }
    }
    """
    assert parse_ul_dump(text) == {"alice": ["sip:alice@127.0.0.1:5080"]}


def test_rendered_config_passes_kamailio_check(fresh_kamailio: KamailioServer) -> None:
    out = fresh_kamailio.check_config()
    assert "config file ok" in out
