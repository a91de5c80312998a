"""Network impairment the tests control: there is no netem here (no sch_netem kernel module).

* :class:`UdpRelay` -- a UDP forwarder in front of one server: clients send to :attr:`UdpRelay.address`,
  each client gets its own upstream socket (like a NAT), and each direction has its own random loss,
  delay and jitter (:class:`Impairment`).
* :class:`SipRelay` -- a two-party SIP-over-UDP relay between a caller ("a": whoever sends to the relay)
  and a callee ("b": the ``target``).  It behaves like a stateless proxy plus a tiny rtpproxy: it pushes
  its own Via on requests and pops it from responses, rewrites Contact and the Request-URI so that
  in-dialog requests come back through it too, and rewrites every SDP body (``c=``, ``m=`` ports,
  ``a=rtcp``; ICE candidates are removed) so that RTP and RTCP also run through relay ports.
  Content-Length is fixed up.  Signalling and media have separate impairments.
* :class:`TcpRelay` -- a TCP forwarder whose connections the test can reset (:meth:`TcpRelay.cut`).

Jitter is applied per packet as in netem: each datagram waits ``delay_ms`` +- ``jitter_ms`` (uniform,
clipped at 0), so datagrams reorder when the jitter exceeds the packet spacing.  Each direction and
each kind of traffic draws from its own :class:`random.Random` seeded from ``seed``, so the same
traffic meets the same fate on every run.  Counters (:class:`Counters`) say what was forwarded,
dropped and, for SIP, retransmitted (a message seen before: same first line, Via branch and CSeq).

Everything runs in one background thread per relay (a selector loop with a heap of timed sends), so
synchronous tests can use it; it has no dependency on the softphone package.  Example::

    with SipRelay(("127.0.0.1", callee_port), sip=Impairment(loss=20), seed=1) as relay:
        ...  # the caller calls sip:bob@127.0.0.1:<relay.port>
        print(relay.summary())
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import random
import re
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

__all__ = [
    "Counters",
    "Impairment",
    "SipMessageLog",
    "SipRelay",
    "TcpRelay",
    "UdpRelay",
]

Address = tuple[str, int]
Handler = Callable[[bytes, Address], None]


@dataclass(frozen=True)
class Impairment:
    """What one direction suffers: ``loss`` in percent, ``delay_ms`` +- ``jitter_ms``."""

    loss: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss <= 100.0:
            raise ValueError("loss is a percentage, 0-100")
        if self.delay_ms < 0 or self.jitter_ms < 0:
            raise ValueError("delay and jitter cannot be negative")

    @property
    def none(self) -> bool:
        return self.loss == 0 and self.delay_ms == 0 and self.jitter_ms == 0


NONE = Impairment()
Link = Impairment | tuple[Impairment, Impairment]
"""One impairment for both directions, or ``(a_to_b, b_to_a)``."""


def _pair(link: Link) -> tuple[Impairment, Impairment]:
    return link if isinstance(link, tuple) else (link, link)


@dataclass
class Counters:
    """Per kind of traffic and direction."""

    packets: int = 0
    dropped: int = 0
    forwarded: int = 0
    bytes: int = 0
    retransmissions: int = 0  # SIP only

    def __str__(self) -> str:
        extra = f" retransmitted={self.retransmissions}" if self.retransmissions else ""
        return f"packets={self.packets} dropped={self.dropped}{extra}"


class _Channel:
    """One kind of traffic in one direction: the impairment, its random source and its counters."""

    def __init__(self, impairment: Impairment, seed: int, name: str) -> None:
        self.impairment = impairment
        self.rng = random.Random(f"{seed}/{name}")
        self.counters = Counters()

    def fate(self, size: int) -> float | None:
        """The delay in seconds for the next datagram, or None when it is lost."""
        c = self.counters
        c.packets += 1
        c.bytes += size
        imp = self.impairment
        # Draw both numbers for every packet, so a loss setting does not shift the jitter sequence.
        lost = self.rng.random() * 100.0 < imp.loss
        wobble = self.rng.uniform(-imp.jitter_ms, imp.jitter_ms) if imp.jitter_ms else 0.0
        if lost:
            c.dropped += 1
            return None
        c.forwarded += 1
        return max(0.0, imp.delay_ms + wobble) / 1000.0


class _Reactor:
    """A selector loop in a daemon thread with timed sends; handlers run in that thread."""

    def __init__(self, name: str) -> None:
        self._sel = selectors.DefaultSelector()
        self._heap: list[tuple[float, int, socket.socket, bytes, Address]] = []
        self._seq = itertools.count()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.errors: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def register(self, sock: socket.socket, handler: Handler) -> None:
        """Only before start() or from a handler (the loop's own thread)."""
        sock.setblocking(False)
        self._sel.register(sock, selectors.EVENT_READ, handler)

    def unregister(self, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(sock)

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the loop's thread (from any thread)."""
        with self._lock:
            self._pending.append(fn)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def send(self, sock: socket.socket, data: bytes, addr: Address, delay: float) -> None:
        """Send now (delay 0: keeps the order) or after ``delay`` seconds; loop thread only."""
        if delay <= 0:
            self._sendto(sock, data, addr)
        else:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), sock, data, addr))

    def _sendto(self, sock: socket.socket, data: bytes, addr: Address) -> None:
        try:
            sock.sendto(data, addr)
        except OSError as exc:  # a peer that went away (ICMP port unreachable) is not our problem
            if len(self.errors) < 100:
                self.errors.append(f"send to {addr}: {exc}")

    def _run(self) -> None:
        while not self._stopping:
            now = time.monotonic()
            while self._heap and self._heap[0][0] <= now:
                _, _, sock, data, addr = heapq.heappop(self._heap)
                if sock.fileno() >= 0:
                    self._sendto(sock, data, addr)
            timeout = max(0.0, self._heap[0][0] - now) if self._heap else 0.5
            for key, _ in self._sel.select(timeout):
                if key.data is None:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    with self._lock:
                        pending, self._pending = self._pending, []
                    for fn in pending:
                        fn()
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                for _ in range(64):  # drain, but let timed sends through on a flood
                    try:
                        data, addr = sock.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break  # ECONNREFUSED from an earlier send, or the socket was closed
                    try:
                        key.data(data, (addr[0], addr[1]))
                    except Exception as exc:  # a bug in a handler must not stop the relay
                        if len(self.errors) < 100:
                            self.errors.append(f"handler: {exc!r}")

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for key in list(self._sel.get_map().values()):
            with contextlib.suppress(OSError):
                key.fileobj.close()  # type: ignore[union-attr]
        self._sel.close()
        self._wake_w.close()


def _udp_socket(host: str, port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))
    return sock


def _udp_pair(host: str) -> tuple[socket.socket, socket.socket]:
    """Two sockets on an even port and the next one (RTP, RTCP)."""
    for _ in range(200):
        first = _udp_socket(host)
        port = first.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            try:
                return first, _udp_socket(host, port + 1)
            except OSError:
                pass
        first.close()
    raise OSError("no free even/odd UDP port pair")


class _RelayBase:
    def __init__(self, name: str, seed: int) -> None:
        self.seed = seed
        self._reactor = _Reactor(name)
        self._channels: dict[tuple[str, str], _Channel] = {}
        self._closed = False

    def _channel(self, kind: str, direction: str, impairment: Impairment) -> _Channel:
        key = (kind, direction)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = _Channel(impairment, self.seed, f"{kind}/{direction}")
        return channel

    def counters(self, kind: str, direction: str) -> Counters:
        """``kind`` "udp", "sip", "rtp" or "rtcp"; ``direction`` "a->b" or "b->a"."""
        channel = self._channels.get((kind, direction))
        return channel.counters if channel is not None else Counters()

    def stats(self) -> dict[str, Counters]:
        return {
            f"{kind} {direction}": ch.counters for (kind, direction), ch in sorted(self._channels.items())
        }

    def summary(self) -> str:
        return "; ".join(f"{name}: {c}" for name, c in self.stats().items())

    @property
    def errors(self) -> list[str]:
        return self._reactor.errors

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._reactor.stop()

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class UdpRelay(_RelayBase):
    """Plain UDP forwarding to ``upstream`` with impairment per direction ("a->b": client to upstream)."""

    def __init__(
        self, upstream: Address, *, host: str = "127.0.0.1", link: Link = NONE, seed: int = 0
    ) -> None:
        super().__init__("udp-relay", seed)
        self.upstream = upstream
        self.host = host
        self._up, self._down = _pair(link)
        self._listen = _udp_socket(host)
        self._clients: dict[Address, socket.socket] = {}
        self._reactor.register(self._listen, self._from_client)
        self._reactor.start()

    @property
    def address(self) -> Address:
        host, port = self._listen.getsockname()[:2]
        return host, port

    @property
    def port(self) -> int:
        return self.address[1]

    def _from_client(self, data: bytes, addr: Address) -> None:
        sock = self._clients.get(addr)
        if sock is None:
            sock = self._clients[addr] = _udp_socket(self.host)
            self._reactor.register(sock, lambda d, _a, client=addr: self._from_upstream(d, client))
        delay = self._channel("udp", "a->b", self._up).fate(len(data))
        if delay is not None:
            self._reactor.send(sock, data, self.upstream, delay)

    def _from_upstream(self, data: bytes, client: Address) -> None:
        delay = self._channel("udp", "b->a", self._down).fate(len(data))
        if delay is not None:
            self._reactor.send(self._listen, data, client, delay)


# ---------------------------------------------------------------------------------------------- SIP

_COMPACT = {"v": "via", "m": "contact", "l": "content-length", "c": "content-type", "i": "call-id"}
_URI_HOSTPORT = re.compile(r"(sips?:(?:[^@;>?\s]*@)?)(\[[^\]]+\]|[^:;>?\s]+)(?::(\d+))?")


def _canon(name: str) -> str:
    lower = name.strip().lower()
    return _COMPACT.get(lower, lower)


@dataclass
class _SipMessage:
    start: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def is_request(self) -> bool:
        return not self.start.startswith("SIP/")

    @property
    def method(self) -> str:
        return self.start.split(" ", 1)[0] if self.is_request else ""

    @property
    def status(self) -> int:
        return int(self.start.split(" ", 2)[1]) if not self.is_request else 0

    def get(self, name: str) -> str | None:
        for n, v in self.headers:
            if _canon(n) == name:
                return v
        return None

    def top_via_branch(self) -> str:
        via = (self.get("via") or "").split(",")[0]
        m = re.search(r";\s*branch=([^;,\s]+)", via)
        return m.group(1) if m else ""

    def cseq(self) -> str:
        return " ".join((self.get("cseq") or "").split())

    def summary(self) -> str:
        if self.is_request:
            return self.method
        return f"{self.status} ({self.cseq().split(' ')[-1]})"

    def serialize(self) -> bytes:
        lines = [self.start]
        for n, v in self.headers:
            if _canon(n) != "content-length":
                lines.append(f"{n}: {v}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def _parse_sip(data: bytes) -> _SipMessage | None:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\r\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    msg = _SipMessage(lines[0], headers, body)
    length = msg.get("content-length")
    if length is not None and length.strip().isdigit():
        msg.body = body[: int(length)]
    return msg


@dataclass
class SipMessageLog:
    """One SIP message the relay saw."""

    time: float
    direction: str
    summary: str
    action: str  # "forwarded", "dropped"
    retransmission: bool


class _MediaLeg:
    """One m= line of one call: a socket pair facing each side (like rtpproxy)."""

    def __init__(self, relay: SipRelay) -> None:
        self.relay = relay
        self.socks: dict[str, tuple[socket.socket, socket.socket]] = {}
        self.remote: dict[str, list[Address | None]] = {"a": [None, None], "b": [None, None]}
        for side in ("a", "b"):
            rtp, rtcp = _udp_pair(relay.host)
            self.socks[side] = (rtp, rtcp)
            for index, sock in enumerate((rtp, rtcp)):
                relay._reactor.register(sock, self._handler(side, index))

    def port_facing(self, side: str) -> int:
        port: int = self.socks[side][0].getsockname()[1]
        return port

    def set_remote(self, side: str, rtp: Address, rtcp: Address) -> None:
        self.remote[side] = [rtp, rtcp]

    def _handler(self, side: str, index: int) -> Handler:
        other = "b" if side == "a" else "a"
        kind = "rtp" if index == 0 else "rtcp"
        direction = f"{side}->{other}"

        def handle(data: bytes, addr: Address) -> None:
            # Symmetric RTP: what the side sends from is where it listens (the source beats the SDP).
            self.remote[side][index] = addr
            # RTCP multiplexed on the RTP port (rtcp-mux) is counted as RTCP: payload types 200-204.
            kind_now = "rtcp" if index == 0 and len(data) > 1 and 200 <= data[1] <= 204 else kind
            dest = self.remote[other][index]
            channel = self.relay._channel(kind_now, direction, self.relay._media[direction])
            delay = channel.fate(len(data))
            if delay is not None and dest is not None:
                self.relay._reactor.send(self.socks[other][index], data, dest, delay)

        return handle


class SipRelay(_RelayBase):
    """SIP over UDP between a caller ("a", anyone) and ``target`` ("b"), media through relay ports.

    ``sip`` and ``media`` are impairments for signalling and for RTP/RTCP: one :class:`Impairment` for
    both directions or ``(a_to_b, b_to_a)``.  The caller dials ``sip:user@<host>:<port>`` (:attr:`uri`).
    """

    def __init__(
        self,
        target: Address,
        *,
        host: str = "127.0.0.1",
        sip: Link = NONE,
        media: Link = NONE,
        seed: int = 0,
        strip_ice: bool = True,
    ) -> None:
        super().__init__("sip-relay", seed)
        self.target = target
        self.host = host
        self.strip_ice = strip_ice
        sip_ab, sip_ba = _pair(sip)
        media_ab, media_ba = _pair(media)
        self._sip = {"a->b": sip_ab, "b->a": sip_ba}
        self._media = {"a->b": media_ab, "b->a": media_ba}
        self._sock = _udp_socket(host)
        self.caller: Address | None = None
        self._legs: dict[tuple[str, int], _MediaLeg] = {}
        self._seen: set[tuple[str, str, str, str]] = set()
        self.messages: list[SipMessageLog] = []
        self._reactor.register(self._sock, self._on_sip)
        self._reactor.start()

    @property
    def address(self) -> Address:
        host, port = self._sock.getsockname()[:2]
        return host, port

    @property
    def port(self) -> int:
        return self.address[1]

    def uri(self, user: str = "bob") -> str:
        return f"sip:{user}@{self.host}:{self.port}"

    def set_impairment(self, *, sip: Link | None = None, media: Link | None = None) -> None:
        """Change the impairment mid-call (thread-safe); counters carry on."""

        def apply() -> None:
            for kinds, link, table in ((("sip",), sip, self._sip), (("rtp", "rtcp"), media, self._media)):
                if link is None:
                    continue
                ab, ba = _pair(link)
                table["a->b"], table["b->a"] = ab, ba
                for (kind, direction), channel in self._channels.items():
                    if kind in kinds:
                        channel.impairment = table[direction]

        self._reactor.call(apply)

    def retransmissions(self, direction: str | None = None) -> int:
        """SIP messages seen again (both directions, or "a->b" / "b->a")."""
        return sum(
            ch.counters.retransmissions
            for (kind, d), ch in self._channels.items()
            if kind == "sip" and direction in (None, d)
        )

    def dropped(self, kind: str = "sip") -> int:
        return sum(ch.counters.dropped for (k, _), ch in self._channels.items() if k == kind)

    def dropped_messages(self) -> list[str]:
        return [f"{m.direction} {m.summary}" for m in self.messages if m.action == "dropped"]

    # -- signalling --
    def _on_sip(self, data: bytes, addr: Address) -> None:
        msg = _parse_sip(data)
        if msg is None:
            return  # keep-alive CRLFs, STUN, garbage: not part of the calls under test
        if addr == self.target:
            side, other, dest = "b", "a", self.caller
        else:
            self.caller = addr
            side, other, dest = "a", "b", self.target
        direction = f"{side}->{other}"
        key = (direction, msg.start, msg.top_via_branch(), msg.cseq())
        retransmission = key in self._seen
        self._seen.add(key)
        channel = self._channel("sip", direction, self._sip[direction])
        if retransmission:
            channel.counters.retransmissions += 1
        if dest is None:
            return
        out = self._rewrite(msg, side, other, dest)
        if out is None:
            return
        delay = channel.fate(len(out))
        self.messages.append(
            SipMessageLog(
                time.monotonic(),
                direction,
                msg.summary(),
                "dropped" if delay is None else "forwarded",
                retransmission,
            )
        )
        if delay is not None:
            self._reactor.send(self._sock, out, dest, delay)

    def _rewrite(self, msg: _SipMessage, side: str, other: str, dest: Address) -> bytes | None:
        me = f"{self.host}:{self.port}"
        headers = msg.headers
        if msg.is_request:
            method, uri, version = msg.start.split(" ", 2)
            # The request goes to the other side's own address, as if it had been sent there directly.
            uri = _URI_HOSTPORT.sub(lambda m: f"{m.group(1)}{dest[0]}:{dest[1]}", uri, count=1)
            msg.start = f"{method} {uri} {version}"
            branch = "z9hG4bK" + hashlib.sha1(msg.top_via_branch().encode()).hexdigest()[:20]
            headers.insert(0, ("Via", f"SIP/2.0/UDP {me};branch={branch};rport"))
        else:
            index = next((i for i, (n, _) in enumerate(headers) if _canon(n) == "via"), None)
            if index is None or f" {me};" not in headers[index][1].split(",")[0] + ";":
                return None  # not a response to something we relayed
            rest = headers[index][1].split(",", 1)
            if len(rest) == 2:
                headers[index] = (headers[index][0], rest[1].strip())
            else:
                del headers[index]
        for i, (name, value) in enumerate(headers):
            if _canon(name) == "contact" and value.strip() != "*":
                headers[i] = (name, _URI_HOSTPORT.sub(lambda m: f"{m.group(1)}{me}", value))
        if msg.body and "application/sdp" in (msg.get("content-type") or "").lower():
            call_id = msg.get("call-id") or ""
            msg.body = self._rewrite_sdp(msg.body, call_id, side, other)
        return msg.serialize()

    def _rewrite_sdp(self, body: bytes, call_id: str, side: str, other: str) -> bytes:
        lines = body.decode("utf-8", "replace").replace("\r\n", "\n").rstrip("\n").split("\n")
        session_addr: str | None = None
        sections: list[list[str]] = [[]]
        for line in lines:
            if line.startswith("m="):
                sections.append([])
            sections[-1].append(line)
        for line in sections[0]:
            if line.startswith("c="):
                session_addr = line.split()[-1]
        out = [self._relay_c(line) if line.startswith("c=") else line for line in sections[0]]
        for index, section in enumerate(sections[1:]):
            mparts = section[0].split(" ")
            port = int(mparts[1].split("/")[0])
            addr = session_addr
            rtcp: Address | None = None
            for line in section[1:]:
                if line.startswith("c="):
                    addr = line.split()[-1]
                elif line.startswith("a=rtcp:"):
                    parts = line[7:].split()
                    rtcp = (parts[3] if len(parts) >= 4 else "", int(parts[0]))
            if port == 0 or addr is None or addr in ("0.0.0.0", "::"):
                out += section  # declined stream or old-style hold: nothing to relay
                continue
            leg = self._legs.get((call_id, index))
            if leg is None:
                leg = self._legs[(call_id, index)] = _MediaLeg(self)
            rtcp_addr = (rtcp[0] or addr, rtcp[1]) if rtcp else (addr, port + 1)
            leg.set_remote(side, (addr, port), rtcp_addr)
            relay_port = leg.port_facing(other)
            mparts[1] = str(relay_port) + ("/" + mparts[1].split("/")[1] if "/" in mparts[1] else "")
            out.append(" ".join(mparts))
            for line in section[1:]:
                if line.startswith("c="):
                    out.append(self._relay_c(line))
                elif line.startswith("a=rtcp:"):
                    out.append(f"a=rtcp:{relay_port + 1} IN IP4 {self.host}")
                elif self.strip_ice and line.startswith(
                    ("a=candidate", "a=ice-", "a=end-of-candidates", "a=remote-candidates")
                ):
                    continue
                else:
                    out.append(line)
        return ("\r\n".join(out) + "\r\n").encode()

    def _relay_c(self, line: str) -> str:
        parts = line.split()
        if parts[-1] in ("0.0.0.0", "::"):
            return line
        return f"c=IN IP4 {self.host}"


# ---------------------------------------------------------------------------------------------- TCP


class TcpRelay:
    """TCP forwarding to ``upstream``; :meth:`cut` resets every open connection (both ends see RST)."""

    def __init__(self, upstream: Address, *, host: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self.host = host
        self._listen = socket.create_server((host, 0))
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self.accepted = 0
        self.cuts = 0
        self.refusing = False
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-relay", daemon=True)
        self._thread.start()

    @property
    def address(self) -> Address:
        host, port = self._listen.getsockname()[:2]
        return host, port

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listen.accept()
            except OSError:
                return
            if self.refusing:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._pairs.append((client, server))
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            return
        with self._lock:
            cut = not any(src in pair for pair in self._pairs)
        if not cut:  # an orderly close from one end: pass the FIN on
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def cut(self) -> int:
        """Reset every open connection now (RST to both ends); returns how many were cut."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
                # wakes the pump thread blocked in recv() without sending anything
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
        for pair in pairs:
            for sock in pair:
                _reset(sock)
        self.cuts += len(pairs)
        return len(pairs)

    def close(self) -> None:
        self._closed = True
        self._listen.close()
        self.cut()

    def __enter__(self) -> TcpRelay:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_LINGER_ZERO = struct.pack("ii", 1, 0)


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    with contextlib.suppress(OSError):
        sock.close()
