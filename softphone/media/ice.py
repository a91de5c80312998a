"""ICE (RFC 8445, RFC 8839) for the audio stream of a classic SIP call, through aioice.

:class:`IceTransport` wraps one :class:`aioice.Connection` with a single component: RTP and RTCP share it
(rtcp-mux, RFC 5761).  It is a datagram pipe, nothing more; :class:`~softphone.media.rtp.RtpSession` sends
through :meth:`IceTransport.send` and gets what arrives through the ``on_datagram`` callback (see
``RtpSession.attach_transport``).

Typical use (``AudioCallMedia`` does this when ``MediaOptions.ice`` is set)::

    ice = IceTransport(on_datagram=rtp.receive_datagram)
    await ice.gather(stun_server="stun.example.com:3478")       # host (+ srflx, + relay) candidates
    local = ice.local_parameters()                               # into the SDP: a=ice-ufrag/pwd/candidate
    default = ice.default_candidate()                            # into c= and the m= port
    ...
    await ice.connect(remote_parameters, controlling=True)       # offerer: controlling; answerer: controlled
    ice.send(datagram)
    ...
    await ice.close()

A peer that does not do ICE (no ICE attributes in its SDP) is reached with :meth:`connect_plain`: the media
goes from our default candidate to its c=/m= address, without connectivity checks (RFC 8445 §5.1.1.2,
the default candidate is what a non-ICE peer uses).

An ICE restart (RFC 8445 §9, RFC 8839 §4.4.1.1.1) is a new :class:`IceTransport`: new credentials, new
candidates, new checks; its owner keeps sending over the old one until the new one has a pair, then closes
the old one (``AudioCallMedia.restart_ice``).  :func:`is_ice_restart` tells a re-offer that restarts ICE.

Host sockets are read by us rather than by aioice where the event loop allows it (selector loops:
Linux, macOS), so that each datagram comes with the kernel's arrival time (``arrival.py``): aioice
would hand it over through a queue and a task, and a datagram that waited there, or that came while
the checks were still running, would look late to the jitter buffer, which then grows its delay and
shifts the playout. STUN still goes to aioice's protocol (checks, consent freshness); relayed data
(TURN) keeps aioice's path.

aioice exposes no public accessor for the selected pair; ``_nominated_pair`` reads it in one place, and
``_StampedReader`` takes the host sockets from its protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import aioice
from aioice.ice import CandidatePair

from .arrival import ANCILLARY_SIZE, arrival_time, enable_timestamps
from .sdp import Candidate, IceParameters, SessionDescription

__all__ = [
    "IceError",
    "IceTransport",
    "SelectedPair",
    "is_ice_restart",
    "offered_ice",
    "parse_server",
    "to_aioice_candidate",
    "to_sdp_candidate",
]

logger = logging.getLogger(__name__)

Address = tuple[str, int]

COMPONENT: Final = 1  # RTP, with RTCP multiplexed
DEFAULT_STUN_PORT: Final = 3478
DEFAULT_TURNS_PORT: Final = 5349
CONNECT_TIMEOUT: Final = 20.0
CLOSE_TIMEOUT: Final = 5.0
PLAIN_FOUNDATION: Final = "sdpdefault"
MAX_EARLY_DATAGRAMS: Final = 64  # media that came before a pair was selected, kept for it (1.3 s of audio)
MAX_READS: Final = 64  # datagrams read from one socket per wakeup at most
# RFC 8839 §4.2.1.2: relayed candidates are the most likely to work with a peer that does not do ICE.
_DEFAULT_ORDER: Final = ("relay", "srflx", "prflx", "host")


class IceError(OSError):
    """Gathering or connectivity checks failed (an OSError: the call cannot get its media through)."""


@dataclass(frozen=True)
class SelectedPair:
    """The candidate pair the media goes over."""

    local: Candidate
    remote: Candidate

    @property
    def local_type(self) -> str:
        return self.local.type

    @property
    def remote_type(self) -> str:
        return self.remote.type


def to_sdp_candidate(candidate: aioice.Candidate) -> Candidate:
    return Candidate.parse(candidate.to_sdp())


def to_aioice_candidate(candidate: Candidate) -> aioice.Candidate:
    return aioice.Candidate.from_sdp(str(candidate))


def offered_ice(description: SessionDescription) -> IceParameters | None:
    """The ICE parameters of the audio stream we would answer (the first one not refused)."""
    audio = next((m for m in description.media if m.kind == "audio" and m.port != 0), None)
    return None if audio is None else audio.ice_parameters(description)


def is_ice_restart(previous: tuple[str, str] | None, offered: IceParameters | None) -> bool:
    """RFC 8839 §4.4.3.1.1: an offer restarts ICE when its a=ice-ufrag or a=ice-pwd differs from the
    peer's previous ones (``previous``: that (ufrag, pwd)).  Nothing to restart without both."""
    if previous is None or offered is None:
        return False
    return (offered.ufrag, offered.pwd) != previous


def parse_server(value: str | None, *, turn: bool = False) -> tuple[Address, str, bool] | None:
    """``host:port``, ``[v6]:port`` or a ``stun:``/``turn:``/``turns:`` URI (RFC 7064/7065).

    Returns ((host, port), transport, tls), or None for None/empty.  ``?transport=tcp`` is honoured for
    TURN; ``turns:`` means TLS over TCP.
    """
    if not value:
        return None
    text = value.strip()
    tls = False
    transport = "udp"
    scheme, sep, rest = text.partition(":")
    if sep and scheme.lower() in ("stun", "stuns", "turn", "turns") and not rest.startswith("//"):
        tls = scheme.lower() in ("stuns", "turns")
        text = rest
    text, _, query = text.partition("?")
    for item in query.split("&") if query else []:
        name, _, val = item.partition("=")
        if name.lower() == "transport" and val.lower() in ("udp", "tcp"):
            transport = val.lower()
    if tls:
        transport = "tcp"
    default_port = DEFAULT_TURNS_PORT if tls else DEFAULT_STUN_PORT
    if text.startswith("["):
        host, _, after = text[1:].partition("]")
        port_text = after.lstrip(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ValueError(f"no host in server address {value!r}")
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ValueError(f"bad port in server address {value!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"bad port in server address {value!r}")
    if not turn and (tls or transport != "udp"):
        raise ValueError(f"only plain UDP STUN servers are supported, not {value!r}")
    return (host, port), transport, tls


def _family(host: str) -> int:
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return 0


def _nominated_pair(connection: aioice.Connection) -> CandidatePair | None:
    """The pair aioice sends over for our component (aioice keeps it in a private dict)."""
    nominated: dict[int, CandidatePair] = getattr(connection, "_nominated", {})
    return nominated.get(COMPONENT)


DatagramHandler = Callable[[bytes, float], None]


class _StampedReader:
    """Reads one of aioice's host sockets in its place, with the kernel's arrival time of each datagram.

    aioice's transport stops reading (``pause_reading``); a duplicate of its socket is watched instead.
    STUN (first byte 0-3, RFC 7983) goes to aioice's protocol as if its transport had read it; anything
    else to ``on_data(data, arrival)``.
    """

    def __init__(self, protocol: Any, sock: socket.socket, on_data: DatagramHandler) -> None:
        self._protocol = protocol
        self._sock = sock
        self._on_data = on_data
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._read_ready)

    @classmethod
    def take_over(cls, protocol: Any, on_data: DatagramHandler) -> _StampedReader | None:
        """A reader for ``protocol``'s socket, or None where that cannot be done (no socket to share, a
        loop without ``add_reader``, no kernel timestamps) and aioice keeps reading it."""
        transport = getattr(protocol, "transport", None)
        pause = getattr(transport, "pause_reading", None)
        if transport is None or pause is None or transport.is_closing():
            return None
        shared = transport.get_extra_info("socket")
        if shared is None:
            return None
        sock = socket.socket(shared.family, shared.type, shared.proto, fileno=os.dup(shared.fileno()))
        try:
            sock.setblocking(False)
            if not enable_timestamps(sock):
                raise NotImplementedError("no kernel timestamps")
            reader = cls(protocol, sock, on_data)
        except (NotImplementedError, OSError, RuntimeError):
            sock.close()
            return None
        pause()
        return reader

    def _read_ready(self) -> None:
        protocol = self._protocol
        for _ in range(MAX_READS):
            try:
                data, ancillary, _flags, addr = self._sock.recvmsg(0x10000, ANCILLARY_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # ICMP errors: aioice's transport would report them to error_received
                logger.debug("ICE: socket error: %s", exc)
                continue
            if data and data[0] < 4:
                try:
                    protocol.datagram_received(data, addr)
                except Exception:
                    logger.exception("ICE: STUN handling failed")
            else:
                self._on_data(data, arrival_time(ancillary, self._loop.time()))

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()


class IceTransport:
    """One ICE agent (full, RFC 8445) for one media stream, with one component.

    ``on_datagram(data, source, arrival)`` gets every non-STUN datagram received once a pair is selected
    (and those that came a little before, when it is); ``source`` is the remote address of the selected
    pair (aioice does not tell the real one), ``arrival`` the ``loop.time()`` at which the datagram reached
    the host, or None where only aioice's queue knows it (then: now).  Exceptions raised by the callback
    are logged.

    States: ``new`` -> ``gathering`` -> ``gathered`` -> ``checking`` -> ``connected`` (ICE) or ``plain``
    (peer without ICE); ``failed`` when the checks fail, ``closed`` after :meth:`close` or when consent
    (RFC 7675) is lost.
    """

    def __init__(
        self,
        *,
        on_datagram: Callable[[bytes, Address, float | None], None] | None = None,
        use_ipv4: bool = True,
        use_ipv6: bool = True,
    ) -> None:
        self.on_datagram = on_datagram
        self._use_ipv4 = use_ipv4
        self._use_ipv6 = use_ipv6
        self._connection: aioice.Connection | None = None
        self._pair: CandidatePair | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._readers: list[_StampedReader] = []
        self._early: deque[tuple[bytes, float]] = deque(maxlen=MAX_EARLY_DATAGRAMS)
        self.state = "new"
        self.controlling: bool | None = None
        self.packets_sent = 0
        self.packets_dropped = 0  # send() before a pair was selected, or after close
        self.packets_received = 0

    # ------------------------------------------------------------------ gathering

    @property
    def connection(self) -> aioice.Connection:
        if self._connection is None:
            raise RuntimeError("gather() first")
        return self._connection

    async def gather(
        self,
        stun_server: str | None = None,
        turn_server: str | None = None,
        turn_username: str | None = None,
        turn_password: str | None = None,
        relay_only: bool = False,
    ) -> list[Candidate]:
        """Gather host candidates (every interface but loopback), server-reflexive ones from the STUN server
        and a relayed one from the TURN server (long-term credentials).  ``relay_only`` gathers only the
        relayed candidate (and hides its related address), so no local address reaches the peer.

        Raises IceError when no candidate at all could be gathered (or, with ``relay_only``, no relayed one).
        """
        if self._connection is not None:
            raise RuntimeError("already gathered")
        stun = parse_server(stun_server)
        turn = parse_server(turn_server, turn=True)
        if relay_only and turn is None:
            raise IceError("relay-only ICE needs a TURN server")
        if turn is not None and (not turn_username or turn_password is None):
            raise IceError("the TURN server needs a user name and a password")
        self._connection = aioice.Connection(
            ice_controlling=True,  # the role is set at connect()
            components=1,
            stun_server=stun[0] if stun else None,
            turn_server=turn[0] if turn else None,
            turn_username=turn_username if turn else None,
            turn_password=turn_password if turn else None,
            turn_ssl=turn[2] if turn else False,
            turn_transport=turn[1] if turn else "udp",
            use_ipv4=self._use_ipv4,
            use_ipv6=self._use_ipv6,
            transport_policy=aioice.TransportPolicy.RELAY if relay_only else aioice.TransportPolicy.ALL,
        )
        self.state = "gathering"
        await self._connection.gather_candidates()
        self.state = "gathered"
        for protocol in self._connection._protocols:  # aioice has no public accessor for them
            candidate = getattr(protocol, "local_candidate", None)
            if candidate is not None and candidate.type == "host":
                reader = _StampedReader.take_over(protocol, self._on_stamped)
                if reader is not None:
                    self._readers.append(reader)
        candidates = self.local_candidates()
        logger.info("ICE gathered %s", ", ".join(f"{c.type} {c.address}:{c.port}" for c in candidates))
        if turn is not None and not any(c.type == "relay" for c in candidates):
            logger.warning("ICE: no relayed candidate from TURN server %s:%d", *turn[0])
        if stun is not None and not any(c.type == "srflx" for c in candidates):
            logger.info("ICE: no server-reflexive candidate from STUN server %s:%d", *stun[0])
        if not candidates:
            raise IceError("no ICE candidate" + (" (TURN allocation failed)" if relay_only else ""))
        return candidates

    def local_candidates(self) -> list[Candidate]:
        return [to_sdp_candidate(c) for c in self.connection.local_candidates if c.component == COMPONENT]

    def local_parameters(self) -> IceParameters:
        """Our ICE credentials and candidates, for a=ice-ufrag, a=ice-pwd, a=ice-options and a=candidate."""
        connection = self.connection
        return IceParameters(
            ufrag=connection.local_username,
            pwd=connection.local_password,
            candidates=self.local_candidates(),
            options=["ice2"],  # RFC 8445 §10
        )

    def default_candidate(self, family: int | None = None) -> Candidate:
        """The candidate for c= and the m= port (RFC 8839 §4.2.1.2): relayed, else server-reflexive, else
        host; of IP ``family`` (4 or 6) when there is one, IPv4 before IPv6 otherwise."""
        candidates = self.local_candidates()
        if not candidates:
            raise IceError("no ICE candidate")

        def rank(candidate: Candidate) -> tuple[int, int, int]:
            version = _family(candidate.address)
            family_rank = 0 if version == (family or 4) else 1
            kind = _DEFAULT_ORDER.index(candidate.type) if candidate.type in _DEFAULT_ORDER else 9
            return family_rank, kind, -candidate.priority

        return min(candidates, key=rank)

    # ------------------------------------------------------------------ connecting

    async def connect(
        self, remote: IceParameters, *, controlling: bool, timeout: float = CONNECT_TIMEOUT
    ) -> SelectedPair:
        """Run the connectivity checks against the peer's candidates and select a pair (RFC 8445 §6-8).

        The offerer is controlling, the answerer controlled; facing an ICE-lite peer we are controlling
        whatever the offer/answer roles.  Candidates for other components (RTCP without rtcp-mux) and other
        transports than UDP are ignored.  Raises IceError when no pair works within ``timeout``.
        """
        connection = self.connection
        if self.state not in ("gathered",):
            raise RuntimeError(f"cannot connect in state {self.state}")
        self.controlling = controlling or remote.lite
        connection.ice_controlling = self.controlling
        connection.remote_is_lite = remote.lite
        connection.remote_username = remote.ufrag
        connection.remote_password = remote.pwd
        self.state = "checking"
        usable = 0
        for candidate in remote.candidates:
            if candidate.component != COMPONENT or candidate.transport.lower() != "udp":
                continue
            try:
                await connection.add_remote_candidate(to_aioice_candidate(candidate))
            except ValueError as exc:
                logger.info("ICE: ignoring remote candidate %s: %s", candidate, exc)
                continue
            usable += 1
        await connection.add_remote_candidate(None)  # not trickle ICE: that was all of them
        logger.info(
            "ICE checks (%s) against %d remote candidate(s)",
            "controlling" if self.controlling else "controlled",
            usable,
        )
        try:
            await asyncio.wait_for(connection.connect(), timeout)
        except (ConnectionError, TimeoutError) as exc:
            if self.state == "closed":
                raise IceError("ICE closed during the connectivity checks") from None
            self.state = "failed"
            raise IceError(f"ICE connectivity checks failed: {exc or 'timeout'}") from None
        if self.state == "closed":
            raise IceError("ICE closed during the connectivity checks")
        return self._selected()

    async def connect_plain(self, host: str, port: int) -> SelectedPair:
        """Send to ``host:port`` (the c=/m= address of a peer that does not do ICE) from our default
        candidate, without checks; everything that reaches our candidates is received."""
        connection = self.connection
        if self.state not in ("gathered",):
            raise RuntimeError(f"cannot connect in state {self.state}")
        if _family(host) == 0:
            raise IceError(f"the peer's media address {host!r} is not an IP address")
        default = self.default_candidate(_family(host))
        base = default
        if default.type in ("srflx", "prflx"):  # sent from its base, the host candidate
            base = next(
                c
                for c in self.local_candidates()
                if c.type == "host" and (c.address, c.port) == (default.related_address, default.related_port)
            )
        remote = aioice.Candidate(
            foundation=PLAIN_FOUNDATION,
            component=COMPONENT,
            transport="udp",
            priority=1,
            host=host,
            port=port,
            type="host",
        )
        await connection.add_remote_candidate(remote)
        try:
            connection.set_selected_pair(COMPONENT, base.foundation, PLAIN_FOUNDATION)
        except AssertionError:
            raise IceError(f"cannot pair {base} with {host}:{port}") from None
        self.controlling = None
        return self._selected(state="plain")

    def _selected(self, state: str = "connected") -> SelectedPair:
        pair = _nominated_pair(self.connection)
        if pair is None:
            self.state = "failed"
            raise IceError("ICE completed without a selected pair")
        self._pair = pair
        self.state = state
        selected = self.selected_pair()
        assert selected is not None
        logger.info(
            "ICE %s: %s %s:%d -> %s %s:%d",
            state,
            selected.local.type,
            selected.local.address,
            selected.local.port,
            selected.remote.type,
            selected.remote.address,
            selected.remote.port,
        )
        self._receiver = asyncio.ensure_future(self._receive_loop(pair.remote_addr))
        early, self._early = list(self._early), deque(maxlen=MAX_EARLY_DATAGRAMS)
        for data, arrival in early:
            self._deliver(data, pair.remote_addr, arrival)
        return selected

    def selected_pair(self) -> SelectedPair | None:
        """The pair in use, None before connect()/connect_plain() succeeded or after close()."""
        pair = self._pair
        if pair is None or self.state not in ("connected", "plain"):
            return None
        return SelectedPair(
            local=to_sdp_candidate(pair.local_candidate), remote=to_sdp_candidate(pair.remote_candidate)
        )

    # ------------------------------------------------------------------ data

    def send(self, data: bytes) -> None:
        """Send one datagram over the selected pair; dropped (and counted) before there is one."""
        pair = self._pair
        if pair is None or self.state not in ("connected", "plain"):
            self.packets_dropped += 1
            return
        transport = pair.protocol.transport
        is_closing = getattr(transport, "is_closing", None)  # aioice's TurnTransport has none
        if is_closing is not None and is_closing():
            self.packets_dropped += 1
            return
        transport.sendto(data, pair.remote_addr)  # a TURN transport binds a channel as needed
        self.packets_sent += 1

    def _on_stamped(self, data: bytes, arrival: float) -> None:
        """A datagram from one of our host sockets (``_StampedReader``)."""
        pair = self._pair
        if pair is not None and self.state in ("connected", "plain"):
            self._deliver(data, pair.remote_addr, arrival)
        elif self.state in ("gathered", "checking"):
            self._early.append((data, arrival))  # the peer finished its checks first

    def _deliver(self, data: bytes, source: Address, arrival: float | None) -> None:
        self.packets_received += 1
        if self.on_datagram is not None:
            try:
                self.on_datagram(data, source, arrival)
            except Exception:
                logger.exception("ICE: on_datagram callback failed")

    async def _receive_loop(self, source: Address) -> None:
        """What aioice still reads: relayed data, and host sockets it was not possible to read here."""
        connection = self.connection
        while True:
            try:
                data, _component = await connection.recvfrom()
            except ConnectionError:
                break
            self._deliver(data, source, None)
        if self.state in ("connected", "plain"):
            logger.info("ICE: connection lost (consent expired or closed)")
            self.state = "closed"

    # ------------------------------------------------------------------ closing

    async def close(self) -> None:
        """Stop the checks and consent freshness, free the TURN allocation and close the sockets."""
        if self.state == "closed" and self._connection is None:
            return
        self.state = "closed"
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver
        connection, self._connection = self._connection, None
        self._pair = None
        self._early.clear()
        for reader in self._readers:
            reader.close()
        self._readers = []
        if connection is not None:
            try:
                await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT)
            except TimeoutError:
                logger.info("ICE: closing took longer than %.0f s", CLOSE_TIMEOUT)
            except Exception:
                logger.debug("ICE: error while closing", exc_info=True)

    def stats(self) -> dict[str, Any]:
        selected = self.selected_pair()
        return {
            "ice_state": self.state,
            "ice_local": f"{selected.local.type} {selected.local.address}:{selected.local.port}"
            if selected
            else None,
            "ice_remote": f"{selected.remote.type} {selected.remote.address}:{selected.remote.port}"
            if selected
            else None,
        }
