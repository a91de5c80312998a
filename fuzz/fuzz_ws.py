#!/usr/bin/env python3
"""atheris target: what a SIP WebSocket server (RFC 7118) sends after the handshake.

The bytes go to the same RFC 6455 parser the transport uses (the ``websockets`` package's sans-IO
``ClientProtocol``, in the state it has after a successful ``sip`` handshake, with the transport's
``max_size``); every complete message is then handled as ``transport/websocket.py`` does - CRLF
pings and pongs, else ``sip.incoming.classify``.  Allowed: nothing escapes; no message above
``MAX_MESSAGE_SIZE`` is delivered.

Run: ``fuzz/run.sh 60 ws`` or ``.venv/bin/python fuzz/fuzz_ws.py -max_total_time=60 CORPUS_DIR``.
"""

from __future__ import annotations

import base64
import hashlib

import _common  # noqa: F401  (sets sys.path)
import atheris

with atheris.instrument_imports(include=["softphone", "websockets"]):
    from websockets.client import ClientProtocol
    from websockets.frames import Frame, Opcode
    from websockets.typing import Subprotocol
    from websockets.uri import parse_uri

    from softphone.sip.incoming import classify
    from softphone.sip.message import MAX_MESSAGE_SIZE

from _common import main

CRLF_PING = b"\r\n\r\n"
CRLF_PONG = b"\r\n"


def _opened() -> ClientProtocol:
    """A client protocol after a real handshake with a server that accepted subprotocol "sip"."""
    protocol = ClientProtocol(
        parse_uri("ws://127.0.0.1:5066/"), subprotocols=[Subprotocol("sip")], max_size=MAX_MESSAGE_SIZE
    )
    request = protocol.connect()
    protocol.send_request(request)
    key = request.headers["Sec-WebSocket-Key"].encode()
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    protocol.receive_data(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
    )
    assert protocol.handshake_exc is None, protocol.handshake_exc
    protocol.events_received()
    protocol.data_to_send()
    return protocol


def test_one_input(data: bytes) -> None:
    protocol = _opened()
    protocol.receive_data(data)
    for event in protocol.events_received():
        if not isinstance(event, Frame) or event.opcode not in (Opcode.TEXT, Opcode.BINARY):
            continue
        payload = bytes(event.data)
        assert len(payload) <= MAX_MESSAGE_SIZE
        if payload not in (CRLF_PING, CRLF_PONG):
            classify(payload, stream=True)
    protocol.data_to_send()


if __name__ == "__main__":
    main(test_one_input)
