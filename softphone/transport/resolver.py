"""Locating SIP servers: RFC 3263 resolution on dnspython's asyncio resolver.

:meth:`SipResolver.resolve` turns the host part of a SIP/SIPS URI (plus the
optional port, ``transport`` parameter and the sip/sips scheme) into an
ordered list of :class:`Target` objects -- (transport, IP address, port)
triples to try one after another.  :func:`first_working` runs such a list
against a connection attempt and returns the first success.

The procedure follows RFC 3263 §4:

* numeric host -> no DNS at all (§4.1, §4.2);
* explicit port -> A/AAAA only (§4.2);
* explicit transport, no port -> SRV for that transport, then A/AAAA on the
  default port (§4.2);
* nothing explicit -> NAPTR (§4.1), else SRV for each supported transport,
  else A/AAAA on the default port with UDP (TLS for SIPS).

SRV records are ordered by priority and, within a priority, by RFC 2782
weighted random selection (see :func:`order_srv_records`).  Each SRV target
expands to its IPv4 addresses followed by its IPv6 addresses; duplicates of
(transport, address, port) are dropped.

A failing step (NXDOMAIN, no records, SERVFAIL/REFUSED, timeout) just moves
on to the next one.  The whole call is bounded by the resolver's ``timeout``;
when nothing at all is found, :class:`ResolutionError` names the host and
lists what went wrong in each step.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.resolver
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA
from dns.rdtypes.IN.NAPTR import NAPTR
from dns.rdtypes.IN.SRV import SRV

__all__ = [
    "DEFAULT_PORTS",
    "KNOWN_TRANSPORTS",
    "ResolutionError",
    "SipResolver",
    "SrvRecord",
    "Target",
    "first_working",
    "order_srv_records",
]

_log = logging.getLogger(__name__)

KNOWN_TRANSPORTS: Final[tuple[str, ...]] = ("udp", "tcp", "tls", "ws", "wss")

DEFAULT_PORTS: Final[dict[str, int]] = {
    "udp": 5060,
    "tcp": 5060,
    "tls": 5061,
    "ws": 80,
    "wss": 443,
}
"""RFC 3261 §19.1.2 (5060/5061); RFC 7118 WebSocket transports use HTTP(S) ports."""

_MAX_PORT: Final = 65535

_SECURE_TRANSPORTS: Final[frozenset[str]] = frozenset({"tls", "wss"})

# SRV owner-name prefix per transport (RFC 3263 §4.1, RFC 3261 §26.2.2).
# There is no standard SRV name for WebSocket (RFC 7118 only defines NAPTR
# services), so ws/wss go straight to A/AAAA unless a NAPTR points elsewhere.
_SRV_PREFIX: Final[dict[str, str]] = {
    "udp": "_sip._udp",
    "tcp": "_sip._tcp",
    "tls": "_sips._tcp",
}

# NAPTR service field (RFC 3263 §4.1, RFC 7118 §5) -> transport.
_NAPTR_SERVICES: Final[dict[str, str]] = {
    "SIP+D2U": "udp",
    "SIP+D2T": "tcp",
    "SIPS+D2T": "tls",
    "SIP+D2W": "ws",
    "SIPS+D2W": "wss",
}

# Transport used when the procedure falls back to a plain A/AAAA lookup
# without any transport information: UDP for SIP, TLS for SIPS (§4.1), or
# the next best supported one.
_FALLBACK_ORDER: Final[dict[bool, tuple[str, ...]]] = {
    False: ("udp", "tcp", "tls", "ws", "wss"),
    True: ("tls", "wss"),
}

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """One place to send a request to.

    ``host`` is the host the resolution started from (the URI's host, without
    brackets or trailing dot): per RFC 5922 §4 it is the name to use for TLS
    SNI / ``server_hostname`` and certificate checking, even when the address
    came from an SRV target.  ``address`` is an IP literal without brackets.
    ``dns_name`` is the DNS name whose A/AAAA record gave ``address`` (the SRV
    target, or ``host`` itself); it is informational only.
    """

    transport: str
    host: str
    address: str
    port: int
    dns_name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.dns_name:
            object.__setattr__(self, "dns_name", self.host)

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.address

    @property
    def secure(self) -> bool:
        return self.transport in _SECURE_TRANSPORTS

    @property
    def hostport(self) -> str:
        """``address:port`` with IPv6 addresses bracketed."""
        address = f"[{self.address}]" if self.is_ipv6 else self.address
        return f"{address}:{self.port}"

    def __str__(self) -> str:
        via = f" via {self.dns_name}" if self.dns_name != self.host else ""
        return f"{self.transport}:{self.hostport} ({self.host}{via})"


class ResolutionError(Exception):
    """No target could be found for a host (or the request cannot be served).

    ``host`` is the host that failed; ``failures`` lists one human-readable
    line per DNS step that went wrong.
    """

    def __init__(self, message: str, *, host: str = "", failures: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.host = host
        self.failures: tuple[str, ...] = tuple(failures)


@dataclass(frozen=True)
class SrvRecord:
    """The parts of an SRV record the ordering needs (RFC 2782)."""

    priority: int
    weight: int
    port: int
    target: str


def order_srv_records(records: Iterable[SrvRecord], rng: random.Random | None = None) -> list[SrvRecord]:
    """Order SRV records per RFC 2782.

    Lowest priority first; within one priority, repeatedly pick a record with
    probability proportional to its weight (weight-0 records are placed first
    in the running sum, so they are picked first only when the random number is
    0 or all weights are 0).  The input order does not matter: records are
    sorted before the random draws, so a seeded ``rng`` gives a reproducible
    result whatever order the DNS server returned them in.
    """
    rng = rng if rng is not None else random.Random()
    by_priority: dict[int, list[SrvRecord]] = {}
    for record in records:
        by_priority.setdefault(record.priority, []).append(record)
    ordered: list[SrvRecord] = []
    for priority in sorted(by_priority):
        group = sorted(by_priority[priority], key=lambda r: (r.target, r.port, r.weight))
        rng.shuffle(group)  # arbitrary order among equals, from the (seedable) rng
        group.sort(key=lambda r: r.weight != 0)  # stable: weight 0 first (RFC 2782)
        while group:
            total = sum(r.weight for r in group)
            pick = rng.randint(0, total)
            running = 0
            for index, record in enumerate(group):
                running += record.weight
                if running >= pick:
                    ordered.append(group.pop(index))
                    break
    return ordered


def _parse_ip(host: str) -> str | None:
    """The normalised IP literal if ``host`` is one (IPv6 with or without brackets)."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


@dataclass
class _Lookup:
    """State of one :meth:`SipResolver.resolve` call."""

    host: str
    deadline: float
    failures: list[str] = field(default_factory=list)
    addresses: dict[str, asyncio.Task[tuple[list[str], list[str]]]] = field(default_factory=dict)
    unavailable: bool = False  # an SRV answer said "service decidedly not available"

    def fail(self, message: str) -> None:
        _log.debug("%s: %s", self.host, message)
        self.failures.append(message)


class SipResolver:
    """RFC 3263 server location with dnspython's asyncio resolver.

    ``nameservers``: ``[(ip, port)]`` to query instead of the system's (tests
    pass dnsmasq's).  ``None`` reads ``resolv_conf``; if that file is missing
    or lists no nameserver, numeric hosts still resolve and anything needing
    DNS raises :class:`ResolutionError`.

    ``timeout`` bounds a whole :meth:`resolve` call (every DNS query gets what
    is left of it).  ``supported_transports`` limits what NAPTR/SRV results
    and fallbacks may use.  ``rng`` drives the RFC 2782 weighted selection
    (pass a seeded ``random.Random`` for reproducible orderings).
    """

    def __init__(
        self,
        nameservers: list[tuple[str, int]] | None = None,
        *,
        timeout: float = 3.0,
        supported_transports: tuple[str, ...] = ("udp", "tcp", "tls"),
        rng: random.Random | None = None,
        resolv_conf: str = "/etc/resolv.conf",
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        transports = tuple(t.lower() for t in supported_transports)
        unknown = [t for t in transports if t not in KNOWN_TRANSPORTS]
        if unknown or not transports:
            raise ValueError(
                "supported_transports must be a non-empty subset of "
                f"{KNOWN_TRANSPORTS}, got {supported_transports!r}"
            )
        self.timeout = timeout
        self.supported_transports = transports
        self._rng = rng if rng is not None else random.Random()
        self._resolver: dns.asyncresolver.Resolver | None
        if nameservers is None:
            try:
                self._resolver = dns.asyncresolver.Resolver(filename=resolv_conf)
            except (dns.resolver.NoResolverConfiguration, OSError) as exc:
                _log.warning(
                    "no usable DNS configuration in %s (%s); only numeric hosts will resolve",
                    resolv_conf,
                    exc,
                )
                self._resolver = None
        else:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in nameservers]
        if self._resolver is not None:
            # timeout is per attempt (retries fit in the lifetime); lifetime is
            # per query and further capped by the deadline of each resolve().
            self._resolver.timeout = min(2.0, timeout)
            self._resolver.lifetime = timeout
            self._resolver.cache = None

    # -- public API ----------------------------------------------------

    async def resolve(
        self,
        host: str,
        *,
        port: int | None = None,
        transport: str | None = None,
        secure: bool = False,
    ) -> list[Target]:
        """Ordered list of targets to try for ``host`` (RFC 3263 §4).

        ``port``/``transport`` are the URI's explicit port and ``transport``
        parameter, ``secure`` is True for a ``sips:`` URI (only TLS-based
        transports are then used; ``transport=tcp`` means TLS, RFC 3261
        §26.2.2).  Raises :class:`ResolutionError` if nothing resolves, or
        if the requested transport is not supported.
        """
        host = host.strip()
        if port is not None and not 0 < port <= _MAX_PORT:
            raise ValueError(f"port out of range: {port!r}")
        chosen = self._transport(host, transport, secure)

        address = _parse_ip(host)
        if address is not None:  # §4.1/§4.2: numeric host, no DNS
            chosen = chosen or self._fallback_transport(host, secure)
            return [
                Target(
                    chosen,
                    address,
                    address,
                    port if port is not None else DEFAULT_PORTS[chosen],
                )
            ]

        name = host.rstrip(".")
        if not name or name.startswith("."):
            raise ResolutionError(f"invalid SIP host {host!r}", host=host)
        loop = asyncio.get_running_loop()
        lookup = _Lookup(host=name, deadline=loop.time() + self.timeout)
        try:
            targets = await self._resolve_name(lookup, name, port, chosen, secure)
        finally:
            # Address lookups still running here means we were cancelled.
            for task in lookup.addresses.values():
                task.cancel()

        targets = _dedupe(targets)
        if not targets:
            detail = "; ".join(lookup.failures) or "no usable records"
            raise ResolutionError(
                f"could not resolve SIP server for {name!r}: {detail}",
                host=name,
                failures=lookup.failures,
            )
        _log.debug("%s resolved to %s", name, ", ".join(map(str, targets)))
        return targets

    async def _resolve_name(
        self,
        lookup: _Lookup,
        name: str,
        port: int | None,
        chosen: str | None,
        secure: bool,
    ) -> list[Target]:
        if port is not None:  # §4.2: explicit port -> A/AAAA only
            chosen = chosen or self._fallback_transport(name, secure)
            targets = await self._address_targets(lookup, name, name, port, chosen)
        elif chosen is not None:  # §4.2: transport known -> SRV, then A/AAAA
            targets = await self._srv_targets(lookup, [chosen])
            if not targets and not lookup.unavailable:
                targets = await self._address_targets(lookup, name, name, DEFAULT_PORTS[chosen], chosen)
        else:  # §4.1: NAPTR, then SRV per transport, then A/AAAA
            targets = await self._naptr_targets(lookup, secure)
            if not targets:
                targets = await self._srv_targets(lookup, self._srv_transports(secure))
            if not targets and not lookup.unavailable:
                chosen = self._fallback_transport(name, secure)
                targets = await self._address_targets(lookup, name, name, DEFAULT_PORTS[chosen], chosen)
        return targets

    # -- transport selection -------------------------------------------

    def _transport(self, host: str, transport: str | None, secure: bool) -> str | None:
        if transport is None:
            return None
        chosen = transport.strip().lower()
        if secure:  # RFC 3261 §26.2.2: sips + transport=tcp means TLS over TCP
            chosen = {"tcp": "tls", "ws": "wss"}.get(chosen, chosen)
            if chosen not in _SECURE_TRANSPORTS:
                raise ResolutionError(
                    f"transport {transport!r} cannot be used for a SIPS URI ({host})",
                    host=host,
                )
        if chosen not in self.supported_transports:
            raise ResolutionError(
                f"transport {transport!r} for {host} is not supported "
                f"(supported: {', '.join(self.supported_transports)})",
                host=host,
            )
        return chosen

    def _fallback_transport(self, host: str, secure: bool) -> str:
        for candidate in _FALLBACK_ORDER[secure]:
            if candidate in self.supported_transports:
                return candidate
        raise ResolutionError(f"no secure transport supported for SIPS host {host}", host=host)

    def _srv_transports(self, secure: bool) -> list[str]:
        """Transports to try SRV for when there is no NAPTR (§4.1)."""
        wanted = ("tls",) if secure else ("udp", "tcp")
        return [t for t in wanted if t in self.supported_transports]

    def _naptr_transport(self, service: str, secure: bool) -> str | None:
        transport = _NAPTR_SERVICES.get(service.upper())
        if transport is None or transport not in self.supported_transports:
            return None
        if secure and transport not in _SECURE_TRANSPORTS:
            return None
        return transport

    # -- DNS steps -----------------------------------------------------

    async def _naptr_targets(self, lookup: _Lookup, secure: bool) -> list[Target]:
        records = [r for r in await self._query(lookup, lookup.host, "NAPTR") if isinstance(r, NAPTR)]
        usable: list[tuple[int, int, str, str, str]] = []
        for record in records:
            service = record.service.decode("ascii", "replace")
            flags = record.flags.decode("ascii", "replace").lower()
            transport = self._naptr_transport(service, secure)
            if transport is None or flags not in ("s", "a"):
                continue
            replacement = record.replacement.to_text(omit_final_dot=True)
            if replacement in ("", ".", "@"):  # regexp NAPTRs: not used by SIP
                continue
            usable.append((record.order, record.preference, flags, transport, replacement))
        if records and not usable:
            lookup.fail(f"NAPTR {lookup.host}: no record for a supported service")
        usable.sort(key=lambda item: (item[0], item[1]))  # order, then preference

        async def expand(flags: str, transport: str, replacement: str) -> list[Target]:
            if flags == "s":
                return await self._srv_name_targets(lookup, replacement, transport)
            port = DEFAULT_PORTS[transport]  # "a": the replacement is a host name
            return await self._address_targets(lookup, lookup.host, replacement, port, transport)

        groups = await asyncio.gather(
            *(expand(flags, transport, repl) for _, _, flags, transport, repl in usable)
        )
        # A NAPTR pointing at a "." SRV must not block the SRV/A fallbacks.
        lookup.unavailable = False
        return [target for group in groups for target in group]

    async def _srv_targets(self, lookup: _Lookup, transports: Sequence[str]) -> list[Target]:
        names = [(t, f"{_SRV_PREFIX[t]}.{lookup.host}") for t in transports if t in _SRV_PREFIX]
        groups = await asyncio.gather(*(self._srv_name_targets(lookup, name, t) for t, name in names))
        return [target for group in groups for target in group]

    async def _srv_name_targets(self, lookup: _Lookup, srv_name: str, transport: str) -> list[Target]:
        answer = await self._query(lookup, srv_name, "SRV")
        records = [
            SrvRecord(r.priority, r.weight, r.port, r.target.to_text(omit_final_dot=True))
            for r in answer
            if isinstance(r, SRV)
        ]
        available = [r for r in records if r.target not in ("", ".")]
        if records and not available:  # RFC 2782: target "." = decidedly not available
            lookup.fail(f"SRV {srv_name}: service not available (target '.')")
            lookup.unavailable = True
            return []
        ordered = order_srv_records(available, self._rng)
        groups = await asyncio.gather(
            *(self._address_targets(lookup, lookup.host, r.target, r.port, transport) for r in ordered)
        )
        return [target for group in groups for target in group]

    async def _address_targets(
        self, lookup: _Lookup, host: str, dns_name: str, port: int, transport: str
    ) -> list[Target]:
        """A then AAAA addresses of ``dns_name`` as targets.

        Each name is queried only once per :meth:`resolve` call.
        """
        key = dns_name.lower()
        task = lookup.addresses.get(key)
        if task is None:
            task = asyncio.ensure_future(self._addresses(lookup, dns_name))
            lookup.addresses[key] = task
        ipv4, ipv6 = await task
        return [Target(transport, host, address, port, dns_name) for address in [*ipv4, *ipv6]]

    async def _addresses(self, lookup: _Lookup, dns_name: str) -> tuple[list[str], list[str]]:
        literal = _parse_ip(dns_name)  # NAPTR/SRV targets are names, but be lenient
        if literal is not None:
            return ([literal], []) if "." in literal and ":" not in literal else ([], [literal])
        a, aaaa = await asyncio.gather(
            self._query(lookup, dns_name, "A"), self._query(lookup, dns_name, "AAAA")
        )
        return (
            [r.address for r in a if isinstance(r, A)],
            [r.address for r in aaaa if isinstance(r, AAAA)],
        )

    async def _query(self, lookup: _Lookup, name: str, rdtype: str) -> list[dns.rdata.Rdata]:
        """Records of one type, or [] with the reason recorded in ``lookup``."""
        what = f"{rdtype} {name}"
        if self._resolver is None:
            lookup.fail(f"{what}: no DNS nameservers configured")
            return []
        loop = asyncio.get_running_loop()
        remaining = lookup.deadline - loop.time()
        if remaining <= 0:
            lookup.fail(f"{what}: not queried, the {self.timeout:g}s resolution timeout had already expired")
            return []
        try:
            qname = dns.name.from_text(name)
            # dnspython can overrun its lifetime by a backoff step; the
            # deadline of the whole resolve() is a hard limit.
            async with asyncio.timeout_at(lookup.deadline):
                answer = await self._resolver.resolve(
                    qname,
                    dns.rdatatype.from_text(rdtype),
                    search=False,
                    raise_on_no_answer=False,
                    lifetime=remaining,
                )
        except dns.resolver.NXDOMAIN:
            lookup.fail(f"{what}: no such domain (NXDOMAIN)")
            return []
        except (TimeoutError, dns.exception.Timeout):
            lookup.fail(f"{what}: timed out after {self.timeout:g}s")
            return []
        except dns.resolver.NoNameservers as exc:
            lookup.fail(f"{what}: no nameserver gave a usable answer ({exc})")
            return []
        except dns.exception.DNSException as exc:
            lookup.fail(f"{what}: {type(exc).__name__}: {exc}")
            return []
        if answer.rrset is None:
            lookup.fail(f"{what}: no records")
            return []
        return list(answer.rrset)


def _dedupe(targets: Iterable[Target]) -> list[Target]:
    seen: set[tuple[str, str, int]] = set()
    unique: list[Target] = []
    for target in targets:
        key = (target.transport, target.address, target.port)
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


async def first_working(targets: Iterable[Target], attempt: Callable[[Target], Awaitable[T]]) -> T:
    """Return ``await attempt(target)`` for the first target that does not raise.

    Targets are tried strictly in order.  If every attempt raises, the last
    exception is re-raised (so callers can keep catching e.g. ``OSError``)
    with a note listing every target's failure.  An empty ``targets`` raises
    :class:`ResolutionError`.  Cancellation is never swallowed.
    """
    failures: list[tuple[Target, Exception]] = []
    for target in targets:
        try:
            return await attempt(target)
        except Exception as exc:  # noqa: BLE001 -- any failure means "try the next target"
            _log.debug("target %s failed: %r", target, exc)
            failures.append((target, exc))
    if not failures:
        raise ResolutionError("no targets to try")
    last = failures[-1][1]
    lines = [f"  {target}: {type(exc).__name__}: {exc}" for target, exc in failures]
    last.add_note(f"all {len(failures)} target(s) failed:\n" + "\n".join(lines))
    raise last
