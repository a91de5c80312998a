#!/usr/bin/env python3
"""atheris target: everything that reads the media sockets.

The first byte chooses the entry point, the rest is the datagram (or the operations):

0. ``RtpSession`` receive handlers, plain RTP: the datagrams (split on the first byte's count)
   go to the RTP and RTCP handlers; nothing may raise, and the last-resort ``except`` in the
   session (logged with a traceback) must never be reached;
1. the same with SRTP keys set (the seeds hold correctly protected packets; anything else must fail
   authentication and be counted in ``srtp_failures``, not raised);
2. ``SrtpContext.unprotect_rtp`` / ``unprotect_rtcp``: SrtpError only;
3. ``dtmf.decode_event`` (ValueError only) and ``DtmfReceiver.feed`` (never raises);
4. ``JitterBuffer.put/pop/skip/reset`` driven by the bytes: never raises, never holds more than
   ``MAX_PACKETS``;
5. ``aioice.stun.parse_message`` (STUN shares the media port with ICE): ValueError or struct.error
   only - what a wrapper must catch.

Run: ``fuzz/run.sh 60`` or ``.venv/bin/python fuzz/fuzz_rtp.py -max_total_time=60 CORPUS_DIR``.
"""

from __future__ import annotations

import logging
import struct

import _common  # noqa: F401  (sets sys.path)
import atheris

with atheris.instrument_imports(include=["softphone", "aiortc.rtp", "aioice.stun"]):
    from aioice import stun

    from softphone.media import jitter
    from softphone.media.dtmf import DtmfReceiver, decode_event
    from softphone.media.rtp import RtpSession
    from softphone.media.srtp import SrtpContext, SrtpError, SrtpKey

from _common import main

KEY_80 = SrtpKey("AES_CM_128_HMAC_SHA1_80", bytes(range(30)))
KEY_32 = SrtpKey("AES_CM_128_HMAC_SHA1_32", bytes(range(100, 130)))
CONTEXT = SrtpContext(tx=KEY_80, rx=KEY_80)


class _SafetyNet(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.hits: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.hits.append(self.format(record))


NET = _SafetyNet()
_rtp_logger = logging.getLogger("softphone.media.rtp")
_rtp_logger.addHandler(NET)
_rtp_logger.setLevel(logging.DEBUG)
_rtp_logger.propagate = False


def _datagrams(data: bytes) -> list[bytes]:
    """Up to 8 datagrams: the input split at 0xFE 0xFE (so the fuzzer can make several)."""
    return data.split(b"\xfe\xfe")[:8]


def rtp_session(data: bytes, srtp: bool) -> None:
    session = RtpSession(clock_rate=8000)
    if data[:1] and data[0] & 1:
        session.set_remote("192.0.2.50", 40000, rtcp_mux=bool(data[0] & 2))
    if srtp:
        session.set_srtp(SrtpContext(tx=KEY_80, rx=KEY_32 if data[:1] and data[0] & 4 else KEY_80))
    NET.hits.clear()
    for n, datagram in enumerate(_datagrams(data[1:])):
        before = session.stats()
        handler = session._on_rtcp_datagram if n % 3 == 2 else session._on_rtp_datagram
        handler(datagram, ("198.51.100.7", 5004 + n))
        after = session.stats()
        accounted = (
            (after.invalid - before.invalid)
            + (after.packets_received - before.packets_received)
            + (after.srtp_failures - before.srtp_failures)
        )
        assert accounted <= 1, (before, after)
    assert not NET.hits, NET.hits


def srtp(data: bytes) -> None:
    for method in (CONTEXT.unprotect_rtp, CONTEXT.unprotect_rtcp):
        try:
            method(data)
        except SrtpError:
            pass


def dtmf(data: bytes) -> None:
    try:
        event = decode_event(data)
    except ValueError:
        assert len(data) < 4
    else:
        assert 0 <= event.volume <= 63
    receiver = DtmfReceiver()
    for i in range(0, len(data) - 9, 10):
        timestamp, seq = struct.unpack_from("!IH", data, i + 4)
        receiver.feed(data[i : i + 4], timestamp, seq if data[i + 3] & 1 else None)


def jitter_ops(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    buffer = jitter.JitterBuffer(
        timestamp_step=fdp.PickValueInList([160, 320, 960]),
        clock_rate=fdp.PickValueInList([8000, 16000, 48000]),
        min_delay_ms=fdp.ConsumeIntInRange(0, 100),
        max_delay_ms=fdp.ConsumeIntInRange(100, 500),
    )
    now = 0.0
    while fdp.remaining_bytes():
        op = fdp.ConsumeIntInRange(0, 9)
        now += fdp.ConsumeFloatInRange(-0.1, 1.0)
        if op < 6:
            buffer.put(
                fdp.ConsumeIntInRange(0, 0xFFFF),
                fdp.ConsumeIntInRange(0, 0xFFFFFFFF),
                b"x",
                now + fdp.ConsumeFloatInRange(-5.0, 5.0),
                fdp.ConsumeBool(),
            )
        elif op < 8:
            buffer.pop(now)
        elif op == 8:
            buffer.skip(fdp.ConsumeIntInRange(0, 0xFFFF))
        else:
            buffer.reset()
        assert len(buffer._packets) <= jitter.MAX_PACKETS
    buffer.stats


def stun_message(data: bytes) -> None:
    try:
        stun.parse_message(data)
    except (ValueError, struct.error):
        pass


def test_one_input(data: bytes) -> None:
    if not data:
        return
    which, rest = data[0] % 6, data[1:]
    if which == 0:
        rtp_session(rest, srtp=False)
    elif which == 1:
        rtp_session(rest, srtp=True)
    elif which == 2:
        srtp(rest)
    elif which == 3:
        dtmf(rest)
    elif which == 4:
        jitter_ops(rest)
    else:
        stun_message(rest)


if __name__ == "__main__":
    main(test_one_input)
