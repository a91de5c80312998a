"""RTP/RTCP session for one audio stream of a classic SIP call (RFC 3550, RFC 3551, RFC 5761, SDES-SRTP).

:class:`RtpSession` owns the UDP socket(s) of one ``m=audio`` line and does everything below the codec:

* binds an even RTP port and RTCP on port+1 (or a single port with rtcp-mux), from a port range if asked;
* symmetric RTP (RFC 4961) with latching for NAT: the first valid packet of a new SSRC that comes from an
  address other than the one the SDP gave moves our send destination there - once per SSRC, and only for
  packets that parse (plain RTP) or authenticate (SRTP), so a stray or forged packet cannot hijack the call
  as long as SRTP is used;
* SRTP/SRTCP through :class:`~softphone.media.srtp.SrtpContext`;
* RTCP: periodic SR or RR with reception report blocks (RFC 3550 A.1/A.3/A.8 statistics, as aiortc's
  ``StreamStatistics``), SDES CNAME, RTT from LSR/DLSR, BYE on close;
* statistics (:meth:`RtpStats`) and ``last_received`` for media-timeout detection;
* optionally (:meth:`RtpSession.defer_reads`, Linux) RTP reads on the owner's clock instead of one event
  loop wakeup per packet, with the kernel's arrival timestamps.

Packet formats come from ``aiortc.rtp``; nothing of aiortc's WebRTC stack is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import ipaddress
import logging
import random
import secrets
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from aiortc.rtp import (
    AnyRtcpPacket,
    RtcpByePacket,
    RtcpPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    RtpPacket,
    clamp_packets_lost,
)

from .arrival import ANCILLARY_SIZE, arrival_time, enable_timestamps
from .srtp import SrtpContext, SrtpError, SrtpKey

__all__ = ["Address", "RtpPacket", "RtpSession", "RtpStats", "is_rtcp_packet"]

logger = logging.getLogger(__name__)

Address = tuple[str, int]

NTP_UNIX_OFFSET: Final = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
RTP_HEADER_LENGTH: Final = 12
RTCP_MIN_LENGTH: Final = 8  # header + sender SSRC
SDES_CNAME: Final = 1
MAX_REPORT_BLOCKS: Final = 31
MAX_RX_STREAMS: Final = 8  # remote SSRCs we keep statistics for
MAX_LATCH_DECISIONS: Final = 1024  # SSRCs that may still trigger latching before set_remote() again
BIND_ATTEMPTS: Final = 64  # tries to get an even ephemeral port (with a free odd neighbour)
RTP_HEADER: Final = struct.Struct("!BBHII")  # V=2 P X CC, M PT, sequence number, timestamp, SSRC
MAX_DEFERRED_READS: Final = 64  # datagrams read per read_deferred() call at most


def is_rtcp_packet(data: bytes) -> bool:
    """RFC 5761 §4 demultiplexing: version 2 and a payload type (marker bit masked) in 64-95 is RTCP."""
    return len(data) >= 2 and data[0] >> 6 == 2 and 64 <= (data[1] & 0x7F) <= 95


def parse_rtp(data: bytes) -> RtpPacket:
    """``RtpPacket.parse``, with a shortcut for the usual packet: no padding, extension or CSRC.

    Raises ValueError (or struct.error) as ``RtpPacket.parse`` does.
    """
    if len(data) < RTP_HEADER_LENGTH or data[0] != 0x80:  # anything but V=2 P=0 X=0 CC=0
        return RtpPacket.parse(data)
    _, m_pt, sequence_number, timestamp, ssrc = RTP_HEADER.unpack_from(data)
    return RtpPacket(
        payload_type=m_pt & 0x7F,
        marker=m_pt >> 7,
        sequence_number=sequence_number,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=data[RTP_HEADER_LENGTH:],
    )


@functools.lru_cache(maxsize=256)
def _normalize_host(host: str) -> str:
    """Canonical text of an IP literal (IPv4-mapped IPv6 -> IPv4); anything else is returned unchanged."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _normalize_addr(addr: Any) -> Address:
    return (_normalize_host(str(addr[0])), int(addr[1]))


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _is_ipv4_literal(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address)
    except ValueError:
        return False


@dataclass(frozen=True)
class RtpStats:
    """A snapshot of :meth:`RtpSession.stats`.

    ``fraction_lost`` (0..1) is the loss over the last RTCP reporting interval, as we last reported it;
    ``packets_lost`` is cumulative for the current remote SSRC (it resets when the peer changes SSRC).
    ``remote_*`` values come from the peer's last report block about us (None before the first one).
    """

    ssrc: int
    remote_ssrc: int | None
    packets_sent: int
    octets_sent: int
    packets_received: int
    octets_received: int
    packets_lost: int
    fraction_lost: float
    jitter_ms: float
    rtt_ms: float | None
    remote_packets_lost: int | None
    remote_fraction_lost: float | None
    remote_jitter_ms: float | None
    remote: Address | None
    remote_rtcp: Address | None
    latched: bool
    invalid: int
    srtp_failures: int
    bye_received: bool


def _uint16_gt(a: int, b: int) -> bool:
    """``a > b`` for 16-bit sequence numbers (RFC 1982 serial arithmetic)."""
    return (a < b and b - a > 0x8000) or (a > b and a - b < 0x8000)


class _ReceptionStatistics:
    """RFC 3550 reception statistics of one SSRC: extended highest sequence number, cumulative and
    interval loss (A.3), interarrival jitter (A.8).

    The same computation as aiortc's ``StreamStatistics``, except that :meth:`add` is given the time the
    packet arrived (wall clock, like ``time.time()``) rather than reading the clock itself: with deferred
    reads a packet is handled up to a frame after it arrived, and the jitter must not see that delay.
    """

    __slots__ = (
        "base_seq",
        "max_seq",
        "cycles",
        "packets_received",
        "_clock_rate",
        "_jitter_q4",
        "_last_arrival",
        "_last_timestamp",
        "_expected_prior",
        "_received_prior",
    )

    def __init__(self, clock_rate: int) -> None:
        self.base_seq: int | None = None
        self.max_seq: int | None = None
        self.cycles = 0
        self.packets_received = 0
        self._clock_rate = clock_rate
        self._jitter_q4 = 0
        self._last_arrival = 0
        self._last_timestamp: int | None = None
        self._expected_prior = 0
        self._received_prior = 0

    def add(self, packet: RtpPacket, arrival: float) -> None:
        seq = packet.sequence_number
        in_order = self.max_seq is None or _uint16_gt(seq, self.max_seq)
        self.packets_received += 1
        if self.base_seq is None:
            self.base_seq = seq
        if in_order:
            arrival_units = int(arrival * self._clock_rate)
            if self.max_seq is not None and seq < self.max_seq:
                self.cycles += 1 << 16
            self.max_seq = seq
            last_timestamp = self._last_timestamp  # None only before the first in-order packet
            if last_timestamp is not None and packet.timestamp != last_timestamp:
                diff = abs((arrival_units - self._last_arrival) - (packet.timestamp - last_timestamp))
                self._jitter_q4 += diff - ((self._jitter_q4 + 8) >> 4)
            self._last_arrival = arrival_units
            self._last_timestamp = packet.timestamp

    @property
    def fraction_lost(self) -> int:
        """Loss since the last call, 8-bit fixed point (reading it starts the next interval)."""
        expected_interval = self.packets_expected - self._expected_prior
        self._expected_prior = self.packets_expected
        received_interval = self.packets_received - self._received_prior
        self._received_prior = self.packets_received
        lost_interval = expected_interval - received_interval
        if expected_interval == 0 or lost_interval <= 0:
            return 0
        return (lost_interval << 8) // expected_interval

    @property
    def jitter(self) -> int:
        return self._jitter_q4 >> 4

    @property
    def packets_expected(self) -> int:
        assert self.max_seq is not None and self.base_seq is not None, "no packet yet"
        return self.cycles + self.max_seq - self.base_seq + 1

    @property
    def packets_lost(self) -> int:
        return clamp_packets_lost(self.packets_expected - self.packets_received)


class _RxStream:
    """Receive state of one remote SSRC."""

    __slots__ = ("stats", "heard_since_report", "fraction_lost")

    def __init__(self, clock_rate: int) -> None:
        self.stats = _ReceptionStatistics(clock_rate)
        self.heard_since_report = False
        self.fraction_lost = 0  # 8-bit fixed point, as last reported


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, Address], None], name: str) -> None:
        self._on_datagram = on_datagram
        self._name = name

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            self._on_datagram(data, _normalize_addr(addr))
        except Exception:  # pragma: no cover - the session already guards its handlers
            logger.exception("%s: unexpected error handling a datagram from %s", self._name, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable while the peer is not listening yet, ...) are not fatal for RTP.
        logger.debug("%s: socket error: %s", self._name, exc)


def _bind_one(family: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6 and host in ("::", ""):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setblocking(False)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _bind_pair(
    local_host: str, port: int, *, rtcp_mux: bool, port_range: tuple[int, int] | None
) -> tuple[socket.socket, socket.socket | None]:
    """Bind the RTP socket (even port unless given explicitly) and, without rtcp-mux, RTCP on port+1."""
    infos = socket.getaddrinfo(local_host, 0, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
    if not infos:  # pragma: no cover - getaddrinfo raises instead
        raise OSError(errno.EADDRNOTAVAIL, f"cannot resolve {local_host!r}")
    family = int(infos[0][0])
    host = str(infos[0][4][0])

    def try_pair(rtp_port: int) -> tuple[socket.socket, socket.socket | None] | None:
        """Both sockets, or None when one of the ports is taken; other errors propagate."""
        try:
            rtp = _bind_one(family, host, rtp_port)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return None
            raise
        if rtcp_mux:
            return rtp, None
        actual = int(rtp.getsockname()[1])
        if actual % 2 and rtp_port == 0:
            rtp.close()
            return None
        try:
            rtcp = _bind_one(family, host, actual + 1)
        except OSError as exc:
            rtp.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return None
            raise
        return rtp, rtcp

    if port:
        if not 0 < port < (65536 if rtcp_mux else 65535):
            raise ValueError(f"invalid RTP port {port}")
        pair = try_pair(port)
        if pair is None:
            raise OSError(errno.EADDRINUSE, f"RTP port {port} (or RTCP {port + 1}) is in use")
        return pair

    if port_range is not None:
        low, high = port_range
        if not 0 < low <= high < 65536:
            raise ValueError(f"invalid RTP port range {port_range}")
        first = low + (low % 2)
        last = high if rtcp_mux else high - 1
        candidates = list(range(first, last + 1, 2))
        if not candidates:
            raise ValueError(f"RTP port range {low}-{high} holds no usable even port")
        start = random.randrange(len(candidates))
        for candidate in candidates[start:] + candidates[:start]:
            pair = try_pair(candidate)
            if pair is not None:
                return pair
        raise OSError(errno.EADDRINUSE, f"no free RTP port in range {low}-{high}")

    for _ in range(BIND_ATTEMPTS):
        pair = try_pair(0)
        if pair is not None:
            return pair
    raise OSError(errno.EADDRINUSE, "could not bind an even RTP port with a free RTCP port")


class RtpSession:
    """One RTP stream (send and receive) over UDP, with RTCP, latching and optional SRTP.

    Typical use::

        session = RtpSession(clock_rate=8000, on_packet=handle)
        host, port = await session.open("0.0.0.0", port_range=(10000, 20000))
        ...  # put port in the SDP, get the answer
        session.set_remote("203.0.113.5", 4000, rtcp_mux=False)
        session.set_srtp(SrtpContext(tx=our_key, rx=their_key))   # when SDES-SRTP was negotiated
        session.send(payload, payload_type=0, timestamp=ts)
        ...
        await session.close()

    ``on_packet(packet, arrival)`` gets every valid (decrypted) RTP packet with ``loop.time()`` of arrival;
    ``on_rtcp(packet)`` gets every parsed RTCP packet.  Callback exceptions are logged, never propagated.
    """

    def __init__(
        self,
        *,
        clock_rate: int = 8000,
        rtcp_interval: float = 5.0,
        cname: str | None = None,
        on_packet: Callable[[RtpPacket, float], None] | None = None,
        on_rtcp: Callable[[AnyRtcpPacket], None] | None = None,
    ) -> None:
        if clock_rate <= 0:
            raise ValueError("clock_rate must be positive")
        if rtcp_interval <= 0:
            raise ValueError("rtcp_interval must be positive")
        self.clock_rate = clock_rate
        self.rtcp_interval = rtcp_interval
        self.cname = cname if cname is not None else secrets.token_hex(8)
        if len(self.cname.encode()) > 255:
            raise ValueError("CNAME is longer than 255 bytes")
        self.on_packet = on_packet
        self.on_rtcp = on_rtcp
        self.ssrc: int = secrets.randbits(32)
        # Random start below 2^15: random per RFC 3550, and far from a wrap so SRTP receivers guess the ROC.
        self._seq = secrets.randbelow(0x8000)

        self._loop: asyncio.AbstractEventLoop | None = None
        self._family = socket.AF_INET
        self._rtp_transport: asyncio.DatagramTransport | None = None
        self._rtcp_transport: asyncio.DatagramTransport | None = None
        self._local: Address | None = None
        self._local_rtcp: Address | None = None
        self._rtcp_task: asyncio.Task[None] | None = None
        self._closed = False
        self._send_datagram: Callable[[bytes], None] | None = None  # see attach_transport()
        self._rtp_sock: socket.socket | None = None  # the RTP transport's socket, for deferred reads
        self._timestamps = False  # the kernel timestamps datagrams on it (SO_TIMESTAMPNS)
        self._reads_deferred = False

        # where to send: SDP addresses and the current (possibly latched) destinations
        self._sdp_remote: Address | None = None
        self._sdp_remote_rtcp: Address | None = None
        self._remote: Address | None = None
        self._remote_rtcp: Address | None = None
        self._rtcp_mux = False
        self._latched = False
        self._rtcp_latched = False
        self._rtp_decided: set[int] = set()
        self._rtcp_decided: set[int] = set()

        self._srtp: SrtpContext | None = None

        # sending
        self._packets_sent = 0
        self._octets_sent = 0
        self._sent_since_report = False
        self._last_timestamp = 0
        self._last_timestamp_time = 0.0
        self._sr_sent: deque[int] = deque(maxlen=8)  # middle 32 bits of the NTP time of our recent SRs

        # receiving
        self._rx: dict[int, _RxStream] = {}
        self._rx_ssrc: int | None = None
        self._last_sr: dict[int, tuple[int, float]] = {}  # remote SSRC -> (LSR, monotonic arrival)
        self._packets_received = 0
        self._octets_received = 0
        self._invalid = 0
        self._srtp_failures = 0
        self.last_received: float | None = None  # loop.time() of the last valid RTP packet
        self.last_rtcp_received: float | None = None  # loop.time() of the last valid RTCP packet
        self.bye_received = False

        # from the peer's reports about us
        self._rtt_ms: float | None = None
        self._remote_report: RtcpReceiverInfo | None = None

        # NTP clock for SR timestamps: wall clock at start, advanced monotonically (immune to clock steps)
        self._ntp_base = time.time() + NTP_UNIX_OFFSET - time.monotonic()

    # ------------------------------------------------------------------ setup

    @property
    def local_address(self) -> Address | None:
        """(host, port) the RTP socket is bound to."""
        return self._local

    @property
    def local_rtcp_address(self) -> Address | None:
        """(host, port) of the RTCP socket, None with rtcp-mux."""
        return self._local_rtcp

    @property
    def remote(self) -> Address | None:
        """Where RTP goes now: the SDP address, or the latched source."""
        return self._remote

    @property
    def remote_rtcp(self) -> Address | None:
        """Where RTCP goes now."""
        return self._remote if self._rtcp_mux else self._remote_rtcp

    @property
    def latched(self) -> bool:
        """True once the RTP destination was moved to the address the peer really sends from."""
        return self._latched

    @property
    def rtcp_latched(self) -> bool:
        """True once the RTCP destination was moved to the peer's real RTCP source (with rtcp-mux: RTP's)."""
        return self._latched if self._rtcp_mux else self._rtcp_latched

    @property
    def rtcp_mux(self) -> bool:
        return self._rtcp_mux

    @property
    def is_open(self) -> bool:
        return self._rtp_transport is not None and not self._closed

    async def open(
        self,
        local_host: str,
        port: int = 0,
        *,
        rtcp_mux: bool = False,
        port_range: tuple[int, int] | None = None,
    ) -> Address:
        """Bind the socket(s) and start RTCP; returns the bound (host, port) of RTP.

        ``port=0`` picks an even free port (from ``port_range`` when given, else an ephemeral one) whose
        neighbour port+1 is free for RTCP; ports in use are skipped.  With ``rtcp_mux=True`` only one socket
        is bound.  When the answer may decline rtcp-mux, open without it (RTCP arriving on the RTP port is
        accepted anyway).  Raises OSError when nothing can be bound.
        """
        if self._rtp_transport is not None or self._closed:
            raise RuntimeError("RtpSession is already open (or closed)")
        loop = asyncio.get_running_loop()
        rtp_sock, rtcp_sock = _bind_pair(local_host, port, rtcp_mux=rtcp_mux, port_range=port_range)
        self._family = rtp_sock.family
        try:
            rtp_transport, _ = await loop.create_datagram_endpoint(
                lambda: _Endpoint(self._on_rtp_datagram, "RTP"), sock=rtp_sock
            )
        except BaseException:
            rtp_sock.close()
            if rtcp_sock is not None:
                rtcp_sock.close()
            raise
        self._rtp_transport = rtp_transport
        self._rtp_sock = rtp_sock
        # Ask for arrival timestamps now, for defer_reads() later: the kernel starts stamping
        # datagrams a moment after the first socket asks (deferred work), before media flows.
        self._timestamps = enable_timestamps(rtp_sock)
        self._local = _normalize_addr(rtp_sock.getsockname())
        if rtcp_sock is not None:
            try:
                rtcp_transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Endpoint(self._on_rtcp_datagram, "RTCP"), sock=rtcp_sock
                )
            except BaseException:
                rtcp_sock.close()
                rtp_transport.close()
                self._rtp_transport = None
                raise
            self._rtcp_transport = rtcp_transport
            self._local_rtcp = _normalize_addr(rtcp_sock.getsockname())
        self._loop = loop
        self._rtcp_mux = rtcp_mux
        self._rtcp_task = loop.create_task(self._rtcp_loop(), name=f"rtcp-{self.ssrc:08x}")
        logger.debug("RTP %08x bound to %s (RTCP %s)", self.ssrc, self._local, self._local_rtcp or "muxed")
        return self._local

    async def rebind(self, local_host: str) -> Address:
        """Move to new socket(s) on ``local_host``, e.g. when the old local address went away.

        SSRC, sequence numbers, timestamps and statistics carry on; the owner announces the new address
        (a re-INVITE).  Not for a transport attached with :meth:`attach_transport` (ICE moves by itself).
        Returns the new RTP address; the old sockets are closed.
        """
        if not self.is_open or self._send_datagram is not None:
            raise RuntimeError("only an open session on its own sockets can move")
        loop = asyncio.get_running_loop()
        mux = self._rtcp_transport is None
        rtp_sock, rtcp_sock = _bind_pair(local_host, 0, rtcp_mux=mux, port_range=None)
        transports: list[asyncio.DatagramTransport] = []
        try:
            rtp_transport, _ = await loop.create_datagram_endpoint(
                lambda: _Endpoint(self._on_rtp_datagram, "RTP"), sock=rtp_sock
            )
            transports.append(rtp_transport)
            if rtcp_sock is not None:
                rtcp_transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Endpoint(self._on_rtcp_datagram, "RTCP"), sock=rtcp_sock
                )
                transports.append(rtcp_transport)
        except BaseException:
            for transport in transports:
                transport.close()
            for sock in (rtp_sock, rtcp_sock):
                if sock is not None:
                    sock.close()
            raise
        old = (self._rtp_transport, self._rtcp_transport)
        self._rtp_transport = rtp_transport
        self._rtcp_transport = transports[1] if rtcp_sock is not None else None
        self._rtp_sock = rtp_sock
        self._timestamps = enable_timestamps(rtp_sock)
        pause = getattr(rtp_transport, "pause_reading", None)
        if self._reads_deferred and pause is not None:
            pause()
        self._local = _normalize_addr(rtp_sock.getsockname())
        self._local_rtcp = _normalize_addr(rtcp_sock.getsockname()) if rtcp_sock is not None else None
        for old_transport in old:
            if old_transport is not None:
                old_transport.close()
        logger.info("RTP %08x moved to %s", self.ssrc, self._local)
        return self._local

    def set_remote(
        self,
        host: str,
        port: int,
        rtcp: Address | None = None,
        *,
        rtcp_mux: bool,
        clock_rate: int | None = None,
    ) -> None:
        """Where to send, from the remote SDP (``c=``/``m=`` port, ``a=rtcp``, ``a=rtcp-mux``).

        ``host`` should be an IP literal; an unspecified address (0.0.0.0, ::) means "send nothing" (old
        style hold): RTP and RTCP are dropped and no latching happens until a real address is set.
        RTCP goes to ``rtcp`` or port+1, or to the RTP address with rtcp-mux.  Calling it again with the
        same addresses (re-INVITE) keeps a latched destination; new addresses restart latching.
        ``clock_rate`` changes the RTP clock (restarting receive statistics).
        """
        if not 0 < port < 65536:
            raise ValueError(f"invalid remote RTP port {port}")
        rtp_addr = (_normalize_host(host), port)
        if rtcp_mux:
            rtcp_addr = rtp_addr
        elif rtcp is not None:
            rtcp_addr = (_normalize_host(rtcp[0]), int(rtcp[1]))
        else:
            rtcp_addr = (rtp_addr[0], port + 1)
        silent = _is_unspecified(rtp_addr[0])  # c=0.0.0.0: old-style hold, send nothing (RFC 3264 §8.4)
        if rtp_addr != self._sdp_remote or rtcp_mux != self._rtcp_mux:
            self._sdp_remote = rtp_addr
            self._remote = None if silent else rtp_addr
            self._latched = False
            self._rtp_decided.clear()
        if rtcp_addr != self._sdp_remote_rtcp or rtcp_mux != self._rtcp_mux:
            self._sdp_remote_rtcp = rtcp_addr
            self._remote_rtcp = None if silent or _is_unspecified(rtcp_addr[0]) else rtcp_addr
            self._rtcp_latched = False
            self._rtcp_decided.clear()
        self._rtcp_mux = rtcp_mux
        if not rtcp_mux and self._rtp_transport is not None and self._rtcp_transport is None:
            logger.warning(
                "RTP %08x: opened with rtcp-mux but the peer wants separate RTCP; "
                "RTCP is sent from the RTP port and the peer's RTCP will not reach us",
                self.ssrc,
            )
        if clock_rate is not None and clock_rate != self.clock_rate:
            if clock_rate <= 0:
                raise ValueError("clock_rate must be positive")
            self.clock_rate = clock_rate
            self._rx.clear()
            self._rx_ssrc = None

    def set_srtp(self, srtp: SrtpContext | SrtpKey | None, rx_key: SrtpKey | None = None) -> None:
        """Turn SRTP on (a context, or our tx key and the peer's rx key) or off (None).

        From then on every packet sent is protected and every packet received must authenticate.
        """
        if srtp is None:
            if rx_key is not None:
                raise ValueError("an rx key without a tx key")
            self._srtp = None
        elif isinstance(srtp, SrtpContext):
            if rx_key is not None:
                raise ValueError("pass either an SrtpContext or two keys")
            self._srtp = srtp
        else:
            if rx_key is None:
                raise ValueError("SRTP needs both the tx and the rx key")
            self._srtp = SrtpContext(tx=srtp, rx=rx_key)

    @property
    def srtp(self) -> SrtpContext | None:
        return self._srtp

    def attach_transport(self, send: Callable[[bytes], None]) -> None:
        """Carry RTP and RTCP over another datagram transport (ICE) instead of the session's socket(s).

        Call it after :meth:`open`; the socket(s) are closed.  Every RTP/RTCP datagram (SRTP-protected when
        SRTP is on) then goes to ``send`` - still only while a remote is set (see :meth:`set_remote`), but
        the transport decides where it goes.  Datagrams from the transport come in through
        :meth:`receive_datagram`.
        """
        if self._rtp_transport is None or self._closed:
            raise RuntimeError("attach_transport() needs an open RtpSession")
        self._send_datagram = send
        for transport in (self._rtp_transport, self._rtcp_transport):
            if transport is not None:
                transport.close()

    def receive_datagram(self, data: bytes, addr: Address, arrival: float | None = None) -> None:
        """A datagram from an attached transport: handled like one arriving on the RTP socket (RTP or
        muxed RTCP, SRTP, latching, statistics). ``arrival``: when it reached the host (``loop.time()``,
        from the kernel's timestamp), if the transport knows; else now."""
        if self._closed:
            return
        self._on_rtp_datagram(data, _normalize_addr(addr), arrival)

    # ------------------------------------------------------------------ sending

    def send(self, payload: bytes, *, payload_type: int, timestamp: int, marker: bool = False) -> None:
        """Send one RTP packet to the current remote (silently dropped before set_remote/after close).

        Payload types 64-95 are refused: they would be taken for RTCP on a multiplexed port (RFC 5761 §4).
        """
        if not 0 <= payload_type <= 127 or 64 <= payload_type <= 95:
            raise ValueError(f"invalid RTP payload type {payload_type}")
        transport = self._rtp_transport
        remote = self._remote
        attached = self._send_datagram
        if transport is None or remote is None or self._closed:
            return
        if attached is None and transport.is_closing():
            return
        timestamp &= 0xFFFFFFFF
        # the 12-byte header of RtpPacket(...).serialize() without CSRC or extension, packed directly
        data = RTP_HEADER.pack(0x80, (0x80 if marker else 0) | payload_type, self._seq, timestamp, self.ssrc)
        data += payload
        if self._srtp is not None:
            data = self._srtp.protect_rtp(data)
        if attached is not None:
            attached(data)
        else:
            self._sendto(transport, data, self._destination(remote))
        self._seq = (self._seq + 1) & 0xFFFF
        self._packets_sent += 1
        self._octets_sent += len(payload)
        self._last_timestamp = timestamp
        self._last_timestamp_time = time.monotonic()
        self._sent_since_report = True

    def _sendto(self, transport: asyncio.DatagramTransport, data: bytes, destination: Address) -> None:
        """``transport.sendto``, straight to the socket while the transport has nothing queued (what
        a selector loop's transport would do first too, with a few layers less per packet)."""
        sock = self._rtp_sock
        queued = getattr(transport, "get_write_buffer_size", None)
        if (
            sock is None
            or queued is None
            or not isinstance(self._loop, asyncio.SelectorEventLoop)
            or queued()
        ):
            transport.sendto(data, destination)
            return
        try:
            sock.sendto(data, destination)
        except (BlockingIOError, InterruptedError):
            transport.sendto(data, destination)  # the transport queues it and waits for the socket
        except OSError as exc:  # ICMP errors and the like, as the transport reports them
            logger.debug("RTP: socket error: %s", exc)

    def _destination(self, addr: Address) -> Address:
        """Address as the socket family wants it (IPv4 through an IPv6 dual-stack socket is v4-mapped)."""
        if self._family == socket.AF_INET6 and _is_ipv4_literal(addr[0]):
            return ("::ffff:" + addr[0], addr[1])
        return addr

    def _send_rtcp(self, data: bytes) -> None:
        destination = self.remote_rtcp
        if destination is None:
            return
        attached = self._send_datagram
        if attached is not None:
            attached(self._srtp.protect_rtcp(data) if self._srtp is not None else data)
            return
        transport = self._rtcp_transport
        if self._rtcp_mux or transport is None:
            transport = self._rtp_transport
        if transport is None or transport.is_closing():
            return
        if self._srtp is not None:
            data = self._srtp.protect_rtcp(data)
        transport.sendto(data, self._destination(destination))

    # ------------------------------------------------------------------ receiving

    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else time.monotonic()

    def defer_reads(self, on: bool) -> bool:
        """Stop (``on=True``) or resume waking the event loop for each datagram on the RTP socket.

        While reads are deferred the owner calls :meth:`read_deferred` on its own clock (the audio stream,
        every 20 ms, just before it plays a frame): one event loop wakeup a frame instead of two, about a
        third less CPU for a call.  The kernel timestamps each datagram (``SO_TIMESTAMPNS``), so
        ``on_packet`` gets the same arrival times as with immediate reads and the jitter buffer and RTCP
        jitter see no difference.  Returns False (and changes nothing) where that is not possible: not
        Linux, an event loop whose transport cannot pause reading, a transport attached with
        :meth:`attach_transport`, a closed session.  RTCP on its own port is always read at once.
        """
        transport = self._rtp_transport
        sock = self._rtp_sock
        if not on:
            if self._reads_deferred:
                self._reads_deferred = False
                resume = getattr(transport, "resume_reading", None)
                if resume is not None and transport is not None and not transport.is_closing():
                    resume()
            return True
        if self._reads_deferred and not self._closed:
            return True
        pause = getattr(transport, "pause_reading", None)  # selector event loops have it
        if (
            not self._timestamps
            or transport is None
            or sock is None
            or pause is None
            or self._closed
            or self._send_datagram is not None
            or transport.is_closing()
        ):
            return False
        pause()
        self._reads_deferred = True
        return True

    def read_deferred(self) -> None:
        """Handle the datagrams waiting on the RTP socket (while reads are deferred: :meth:`defer_reads`)."""
        sock = self._rtp_sock
        transport = self._rtp_transport
        if not self._reads_deferred or sock is None or transport is None or transport.is_closing():
            return
        if self._closed or self._send_datagram is not None:
            return
        for _ in range(MAX_DEFERRED_READS):
            try:
                data, ancillary, _flags, addr = sock.recvmsg(0x10000, ANCILLARY_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # ICMP errors, as the transport reports them to error_received
                logger.debug("RTP: socket error: %s", exc)
                continue
            self._on_rtp_datagram(data, _normalize_addr(addr), arrival_time(ancillary, self._now()))

    def _on_rtp_datagram(self, data: bytes, addr: Address, arrival: float | None = None) -> None:
        """``arrival``: when the datagram arrived (``loop.time()``), if not now (deferred reads)."""
        try:
            if is_rtcp_packet(data):
                self._handle_rtcp(data, addr, on_rtp_port=True)
            else:
                self._handle_rtp(data, addr, arrival)
        except Exception:
            self._invalid += 1
            logger.debug("RTP %08x: bad datagram from %s", self.ssrc, addr, exc_info=True)

    def _on_rtcp_datagram(self, data: bytes, addr: Address) -> None:
        try:
            if is_rtcp_packet(data):
                self._handle_rtcp(data, addr, on_rtp_port=False)
            else:
                self._invalid += 1
        except Exception:
            self._invalid += 1
            logger.debug("RTP %08x: bad RTCP datagram from %s", self.ssrc, addr, exc_info=True)

    def _handle_rtp(self, data: bytes, addr: Address, arrival: float | None = None) -> None:
        if len(data) < RTP_HEADER_LENGTH or data[0] >> 6 != 2:
            self._invalid += 1
            return
        if self._srtp is not None:
            try:
                data = self._srtp.unprotect_rtp(data)
            except SrtpError as exc:
                self._srtp_failures += 1
                logger.debug("RTP %08x: dropped SRTP packet from %s: %s", self.ssrc, addr, exc)
                return
        try:
            packet = parse_rtp(data)
        except (ValueError, struct.error):
            self._invalid += 1
            return
        now = self._now()
        if arrival is None:
            arrival = now
        if self._remote is not None and packet.ssrc not in self._rtp_decided:
            self._latch_rtp(packet.ssrc, addr)

        stream = self._rx.get(packet.ssrc)
        if stream is None:
            if len(self._rx) >= MAX_RX_STREAMS:
                oldest = next(iter(self._rx))
                del self._rx[oldest]
                self._last_sr.pop(oldest, None)
            stream = self._rx[packet.ssrc] = _RxStream(self.clock_rate)
            if self._rx_ssrc is not None:
                logger.info(
                    "RTP %08x: remote SSRC changed %08x -> %08x", self.ssrc, self._rx_ssrc, packet.ssrc
                )
        elif self._rx_ssrc != packet.ssrc:
            # back to an earlier stream: keep it most recent for eviction
            del self._rx[packet.ssrc]
            self._rx[packet.ssrc] = stream
        self._rx_ssrc = packet.ssrc
        stream.stats.add(packet, time.time() - (now - arrival))  # wall-clock arrival
        stream.heard_since_report = True
        self._packets_received += 1
        self._octets_received += len(packet.payload)
        self.last_received = arrival
        if self.on_packet is not None:
            try:
                self.on_packet(packet, arrival)
            except Exception:
                logger.exception("RTP %08x: on_packet callback failed", self.ssrc)

    def _latch_rtp(self, ssrc: int, source: Address) -> None:
        """Move the RTP destination to ``source`` on the first valid packet of a new SSRC from elsewhere."""
        if self._remote is None or ssrc in self._rtp_decided or len(self._rtp_decided) >= MAX_LATCH_DECISIONS:
            return
        self._rtp_decided.add(ssrc)
        if source != self._remote:
            logger.info(
                "RTP %08x: latching to %s:%d (SDP said %s:%d, SSRC %08x)",
                self.ssrc,
                *source,
                *self._remote,
                ssrc,
            )
            self._remote = source
            self._latched = True
            if self._rtcp_mux:
                self._rtcp_latched = True

    def _latch_rtcp(self, ssrc: int, source: Address) -> None:
        if self._remote_rtcp is None or ssrc in self._rtcp_decided:
            return
        if len(self._rtcp_decided) >= MAX_LATCH_DECISIONS:
            return
        self._rtcp_decided.add(ssrc)
        if source != self._remote_rtcp:
            logger.info(
                "RTP %08x: latching RTCP to %s:%d (SDP said %s:%d)", self.ssrc, *source, *self._remote_rtcp
            )
            self._remote_rtcp = source
            self._rtcp_latched = True

    def _handle_rtcp(self, data: bytes, addr: Address, *, on_rtp_port: bool) -> None:
        if len(data) < RTCP_MIN_LENGTH:
            self._invalid += 1
            return
        if self._srtp is not None:
            try:
                data = self._srtp.unprotect_rtcp(data)
            except SrtpError as exc:
                self._srtp_failures += 1
                logger.debug("RTP %08x: dropped SRTCP packet from %s: %s", self.ssrc, addr, exc)
                return
        try:
            packets = RtcpPacket.parse(data)
        except (ValueError, struct.error):
            self._invalid += 1
            return
        if not packets:
            return  # only APP/XR/unknown types: valid but nothing for us
        now = time.monotonic()
        self.last_rtcp_received = self._now()

        sender = next((p.ssrc for p in packets if isinstance(p, RtcpSrPacket | RtcpRrPacket)), None)
        if sender is not None:
            if on_rtp_port and self._rtcp_mux:
                self._latch_rtp(sender, addr)  # one decision for both, they share the address
            elif not on_rtp_port:
                self._latch_rtcp(sender, addr)

        for packet in packets:
            if isinstance(packet, RtcpSrPacket):
                lsr = (packet.sender_info.ntp_timestamp >> 16) & 0xFFFFFFFF
                self._last_sr[packet.ssrc] = (lsr, now)
                if len(self._last_sr) > 2 * MAX_RX_STREAMS:
                    del self._last_sr[next(iter(self._last_sr))]
                self._process_report_blocks(packet.reports)
            elif isinstance(packet, RtcpRrPacket):
                self._process_report_blocks(packet.reports)
            elif isinstance(packet, RtcpByePacket) and any(s != self.ssrc for s in packet.sources):
                logger.debug("RTP %08x: RTCP BYE from %s", self.ssrc, packet.sources)
                self.bye_received = True
            if self.on_rtcp is not None:
                try:
                    self.on_rtcp(packet)
                except Exception:
                    logger.exception("RTP %08x: on_rtcp callback failed", self.ssrc)

    def _process_report_blocks(self, reports: list[RtcpReceiverInfo]) -> None:
        for report in reports:
            if report.ssrc != self.ssrc:
                continue
            self._remote_report = report
            if report.lsr and report.lsr in self._sr_sent:
                # RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in units of 1/65536 s (mod 2^32)
                now_mid = (self._ntp_now() >> 16) & 0xFFFFFFFF
                rtt = (now_mid - report.lsr - report.dlsr) & 0xFFFFFFFF
                if rtt >= 0x80000000:
                    rtt -= 1 << 32
                if rtt >= -65536:  # tiny negatives are rounding of DLSR; larger ones are bogus
                    self._rtt_ms = max(rtt, 0) * 1000.0 / 65536.0

    # ------------------------------------------------------------------ RTCP

    def _ntp_now(self) -> int:
        seconds = time.monotonic() + self._ntp_base
        return int(seconds * (1 << 32)) & 0xFFFFFFFFFFFFFFFF

    def _build_report(self) -> bytes:
        """SR (when we sent since the last report) or RR, with report blocks, followed by SDES CNAME."""
        now = time.monotonic()
        blocks: list[RtcpReceiverInfo] = []
        for ssrc, stream in self._rx.items():
            if not stream.heard_since_report or len(blocks) >= MAX_REPORT_BLOCKS:
                continue
            stream.heard_since_report = False
            stats = stream.stats
            stream.fraction_lost = stats.fraction_lost  # property: also starts the next interval
            lsr = dlsr = 0
            last_sr = self._last_sr.get(ssrc)
            if last_sr is not None:
                lsr = last_sr[0]
                dlsr = min(int((now - last_sr[1]) * 65536), 0xFFFFFFFF)
            blocks.append(
                RtcpReceiverInfo(
                    ssrc=ssrc,
                    fraction_lost=stream.fraction_lost,
                    packets_lost=stats.packets_lost,
                    highest_sequence=(stats.cycles + (stats.max_seq or 0)) & 0xFFFFFFFF,
                    jitter=min(stats.jitter, 0xFFFFFFFF),
                    lsr=lsr,
                    dlsr=dlsr,
                )
            )
        report: RtcpSrPacket | RtcpRrPacket
        if self._sent_since_report:
            self._sent_since_report = False
            ntp = self._ntp_now()
            elapsed = int((now - self._last_timestamp_time) * self.clock_rate)
            report = RtcpSrPacket(
                ssrc=self.ssrc,
                sender_info=RtcpSenderInfo(
                    ntp_timestamp=ntp,
                    rtp_timestamp=(self._last_timestamp + elapsed) & 0xFFFFFFFF,
                    packet_count=self._packets_sent & 0xFFFFFFFF,
                    octet_count=self._octets_sent & 0xFFFFFFFF,
                ),
                reports=blocks,
            )
            self._sr_sent.append((ntp >> 16) & 0xFFFFFFFF)
        else:
            report = RtcpRrPacket(ssrc=self.ssrc, reports=blocks)
        sdes = RtcpSdesPacket(
            chunks=[RtcpSourceInfo(ssrc=self.ssrc, items=[(SDES_CNAME, self.cname.encode())])]
        )
        return bytes(report) + bytes(sdes)

    def send_rtcp_report(self) -> None:
        """Send an SR/RR + SDES compound now (the periodic timer calls this)."""
        if self._closed or self.remote_rtcp is None:
            return
        self._send_rtcp(self._build_report())

    async def _rtcp_loop(self) -> None:
        while True:
            # RFC 3550 §6.3.5, simplified: fixed interval randomized over [0.5, 1.5]
            await asyncio.sleep(self.rtcp_interval * random.uniform(0.5, 1.5))
            try:
                self.send_rtcp_report()
            except Exception:
                logger.exception("RTP %08x: sending RTCP failed", self.ssrc)

    # ------------------------------------------------------------------ stats / close

    def stats(self) -> RtpStats:
        stream = self._rx.get(self._rx_ssrc) if self._rx_ssrc is not None else None
        packets_lost = 0
        fraction_lost = 0.0
        jitter_ms = 0.0
        if stream is not None and stream.stats.max_seq is not None:
            packets_lost = max(stream.stats.packets_lost, 0)
            fraction_lost = stream.fraction_lost / 256.0
            jitter_ms = stream.stats.jitter * 1000.0 / self.clock_rate
        remote = self._remote_report
        return RtpStats(
            ssrc=self.ssrc,
            remote_ssrc=self._rx_ssrc,
            packets_sent=self._packets_sent,
            octets_sent=self._octets_sent,
            packets_received=self._packets_received,
            octets_received=self._octets_received,
            packets_lost=packets_lost,
            fraction_lost=fraction_lost,
            jitter_ms=jitter_ms,
            rtt_ms=self._rtt_ms,
            remote_packets_lost=remote.packets_lost if remote is not None else None,
            remote_fraction_lost=remote.fraction_lost / 256.0 if remote is not None else None,
            remote_jitter_ms=remote.jitter * 1000.0 / self.clock_rate if remote is not None else None,
            remote=self._remote,
            remote_rtcp=self.remote_rtcp,
            latched=self._latched,
            invalid=self._invalid,
            srtp_failures=self._srtp_failures,
            bye_received=self.bye_received,
        )

    async def close(self) -> None:
        """Send RTCP BYE (in an SR/RR + SDES compound) and close the socket(s). Idempotent."""
        if self._closed:
            return
        self._closed = True
        task, self._rtcp_task = self._rtcp_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._rtp_transport is not None and self.remote_rtcp is not None:
            try:
                bye = RtcpByePacket(sources=[self.ssrc])
                self._send_rtcp(self._build_report() + bytes(bye))
            except Exception:
                logger.debug("RTP %08x: could not send RTCP BYE", self.ssrc, exc_info=True)
        for transport in (self._rtp_transport, self._rtcp_transport):
            if transport is not None:
                transport.close()
        if self._rtp_transport is not None:
            await asyncio.sleep(0)  # let the transports run connection_lost
