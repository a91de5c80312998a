"""RFC 3263 server location (softphone.transport.resolver) against a real dnsmasq.

Every DNS answer here comes from a dnsmasq process on 127.0.0.1 serving only
the records the test declares (see tests/peers/dnsmasq.py).
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from softphone.transport.resolver import (
    ResolutionError,
    SipResolver,
    SrvRecord,
    Target,
    first_working,
    order_srv_records,
)
from tests.peers.dnsmasq import HostRecord, NaptrRecord
from tests.peers.dnsmasq import SrvRecord as Srv
from tests.transport.conftest import StartDnsmasq

T = TypeVar("T")

DOMAIN = "example.test"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def summary(targets: list[Target]) -> list[tuple[str, str, int]]:
    return [(t.transport, t.address, t.port) for t in targets]


@pytest.fixture
def closed_port() -> int:
    """A loopback UDP port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback UDP port that receives queries and never answers them."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


# --- numeric hosts ---------------------------------------------------------


def test_numeric_ipv4_host_bypasses_dns(closed_port: int) -> None:
    """RFC 3263 §4.1/§4.2: a numeric host needs no DNS; UDP (TLS for SIPS), 5060/5061."""
    resolver = SipResolver([("127.0.0.1", closed_port)], timeout=0.5)

    assert run(resolver.resolve("192.0.2.10")) == [Target("udp", "192.0.2.10", "192.0.2.10", 5060)]
    assert run(resolver.resolve("192.0.2.10", secure=True)) == [
        Target("tls", "192.0.2.10", "192.0.2.10", 5061)
    ]
    assert run(resolver.resolve("192.0.2.10", port=5080, transport="TCP")) == [
        Target("tcp", "192.0.2.10", "192.0.2.10", 5080)
    ]


def test_numeric_ipv6_host_with_or_without_brackets_bypasses_dns(
    closed_port: int,
) -> None:
    """RFC 3263 §4.1/§4.2 (and RFC 5118): IPv6 literals, bracketed or not, skip DNS."""
    resolver = SipResolver([("127.0.0.1", closed_port)], timeout=0.5)
    expected = [Target("udp", "2001:db8::1", "2001:db8::1", 5060)]

    assert run(resolver.resolve("[2001:db8:0::1]")) == expected
    assert run(resolver.resolve("2001:db8::1")) == expected
    assert run(resolver.resolve("[::1]", port=5070, transport="tls")) == [Target("tls", "::1", "::1", 5070)]


# --- explicit port / transport ---------------------------------------------


def test_explicit_port_uses_address_records_only(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.2: with a port in the URI only A/AAAA are looked up (no NAPTR/SRV)."""
    server = dnsmasq(
        NaptrRecord(DOMAIN, 10, 50, "s", "SIP+D2T", "", f"_sip._tcp.{DOMAIN}"),
        Srv(f"_sip._tcp.{DOMAIN}", f"sip1.{DOMAIN}", 5070),
        HostRecord(f"sip1.{DOMAIN}", "127.0.0.2"),
        HostRecord(DOMAIN, "127.0.0.5"),
        log_queries=True,
    )
    resolver = SipResolver(server.nameservers)

    targets = run(resolver.resolve(DOMAIN, port=5080))

    assert targets == [Target("udp", DOMAIN, "127.0.0.5", 5080)]
    log = server.log_text()
    assert "query[NAPTR]" not in log and "query[SRV]" not in log, log


def test_explicit_transport_queries_only_that_srv(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.2: transport known, no port -> SRV for that transport only."""
    server = dnsmasq(
        NaptrRecord(DOMAIN, 10, 50, "s", "SIP+D2U", "", f"_sip._udp.{DOMAIN}"),
        Srv(f"_sip._udp.{DOMAIN}", f"udp.{DOMAIN}", 5090),
        Srv(f"_sip._tcp.{DOMAIN}", f"tcp.{DOMAIN}", 5070),
        HostRecord(f"udp.{DOMAIN}", "127.0.0.3"),
        HostRecord(f"tcp.{DOMAIN}", "127.0.0.4"),
    )
    resolver = SipResolver(server.nameservers)

    targets = run(resolver.resolve(DOMAIN, transport="tcp"))

    assert summary(targets) == [("tcp", "127.0.0.4", 5070)]
    assert targets[0].host == DOMAIN  # RFC 5922 §4: the URI's domain, for TLS
    assert targets[0].dns_name == f"tcp.{DOMAIN}"


def test_explicit_tls_transport_without_srv_falls_back_to_5061(
    dnsmasq: StartDnsmasq,
) -> None:
    """RFC 3263 §4.2: no SRV for the transport -> A/AAAA with its default port."""
    server = dnsmasq(HostRecord(DOMAIN, "127.0.0.6"))
    resolver = SipResolver(server.nameservers)

    assert summary(run(resolver.resolve(DOMAIN, transport="tls"))) == [("tls", "127.0.0.6", 5061)]


def test_sips_with_transport_tcp_means_tls_via_sips_srv(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1 / RFC 3261 §26.2.2: sips + transport=tcp is TLS (_sips._tcp)."""
    server = dnsmasq(
        Srv(f"_sips._tcp.{DOMAIN}", f"tls.{DOMAIN}", 5071),
        Srv(f"_sip._tcp.{DOMAIN}", f"tcp.{DOMAIN}", 5070),
        HostRecord(f"tls.{DOMAIN}", "127.0.0.7"),
        HostRecord(f"tcp.{DOMAIN}", "127.0.0.8"),
    )
    resolver = SipResolver(server.nameservers)

    targets = run(resolver.resolve(DOMAIN, transport="tcp", secure=True))

    assert summary(targets) == [("tls", "127.0.0.7", 5071)]


def test_websocket_transport_uses_address_records_on_http_ports(
    dnsmasq: StartDnsmasq,
) -> None:
    """RFC 3263 §4.2 with RFC 7118 transports: no standard SRV, so A/AAAA on 80/443."""
    server = dnsmasq(HostRecord(DOMAIN, "127.0.0.9"))
    resolver = SipResolver(server.nameservers, supported_transports=("ws", "wss"))

    assert summary(run(resolver.resolve(DOMAIN, transport="ws"))) == [("ws", "127.0.0.9", 80)]
    assert summary(run(resolver.resolve(DOMAIN, transport="ws", secure=True))) == [("wss", "127.0.0.9", 443)]


def test_unsupported_or_insecure_transport_is_rejected() -> None:
    """RFC 3263 §4.1: only supported transports; a SIPS URI never uses UDP."""
    resolver = SipResolver([("127.0.0.1", 9)], supported_transports=("udp", "tls"))

    with pytest.raises(ResolutionError, match=r"'tcp'.*not supported"):
        run(resolver.resolve("192.0.2.1", transport="tcp"))
    with pytest.raises(ResolutionError, match="SIPS"):
        run(resolver.resolve("192.0.2.1", transport="udp", secure=True))


# --- NAPTR -> SRV -> A/AAAA --------------------------------------------------


def test_naptr_srv_address_chain(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1: NAPTR SIP+D2T -> _sip._tcp SRV -> A records of the SRV target."""
    server = dnsmasq(
        NaptrRecord(DOMAIN, 10, 50, "s", "SIP+D2T", "", f"_sip._tcp.{DOMAIN}"),
        Srv(f"_sip._tcp.{DOMAIN}", f"sip1.{DOMAIN}", 5070, 10, 60),
        HostRecord(f"sip1.{DOMAIN}", "127.0.0.1"),
        # Present but not reachable through the NAPTR: must not be used.
        Srv(f"_sip._udp.{DOMAIN}", f"sip2.{DOMAIN}", 5060),
        HostRecord(f"sip2.{DOMAIN}", "127.0.0.2"),
    )
    resolver = SipResolver(server.nameservers)

    targets = run(resolver.resolve(DOMAIN))

    assert targets == [Target("tcp", DOMAIN, "127.0.0.1", 5070, f"sip1.{DOMAIN}")]


def test_naptr_order_then_preference_respected(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1 (RFC 3403): NAPTRs are used by order, then by preference."""
    server = dnsmasq(
        NaptrRecord(DOMAIN, 20, 10, "s", "SIP+D2U", "", f"_sip._udp.{DOMAIN}"),
        NaptrRecord(DOMAIN, 10, 90, "s", "SIP+D2T", "", f"_sip._tcp.{DOMAIN}"),
        NaptrRecord(DOMAIN, 10, 10, "s", "SIPS+D2T", "", f"_sips._tcp.{DOMAIN}"),
        Srv(f"_sip._udp.{DOMAIN}", f"sip.{DOMAIN}", 5060),
        Srv(f"_sip._tcp.{DOMAIN}", f"sip.{DOMAIN}", 5060),
        Srv(f"_sips._tcp.{DOMAIN}", f"sip.{DOMAIN}", 5061),
        HostRecord(f"sip.{DOMAIN}", "127.0.0.1"),
    )
    resolver = SipResolver(server.nameservers)

    targets = run(resolver.resolve(DOMAIN))

    assert summary(targets) == [
        ("tls", "127.0.0.1", 5061),
        ("tcp", "127.0.0.1", 5060),
        ("udp", "127.0.0.1", 5060),
    ]


def test_naptr_unsupported_services_are_skipped(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1: NAPTRs for transports the client lacks are discarded."""
    server = dnsmasq(
        NaptrRecord(DOMAIN, 10, 10, "s", "SIP+D2S", "", f"_sip._sctp.{DOMAIN}"),
        NaptrRecord(DOMAIN, 20, 10, "s", "SIP+D2W", "", f"_sip._ws.{DOMAIN}"),
        NaptrRecord(DOMAIN, 30, 10, "s", "SIP+D2U", "", f"_sip._udp.{DOMAIN}"),
        Srv(f"_sip._sctp.{DOMAIN}", f"sip.{DOMAIN}", 5060),
        Srv(f"_sip._ws.{DOMAIN}", f"sip.{DOMAIN}", 8080),
        Srv(f"_sip._udp.{DOMAIN}", f"sip.{DOMAIN}", 5060),
        HostRecord(f"sip.{DOMAIN}", "127.0.0.1"),
    )
    default = SipResolver(server.nameservers)
    with_ws = SipResolver(server.nameservers, supported_transports=("udp", "ws"))

    assert summary(run(default.resolve(DOMAIN))) == [("udp", "127.0.0.1", 5060)]
    assert summary(run(with_ws.resolve(DOMAIN))) == [
        ("ws", "127.0.0.1", 8080),
        ("udp", "127.0.0.1", 5060),
    ]


def test_secure_uses_only_sips_naptr_records(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1: for a SIPS URI, NAPTRs whose service is not SIPS are discarded."""
    server = dnsmasq(
        NaptrRecord(DOMAIN, 10, 10, "s", "SIP+D2U", "", f"_sip._udp.{DOMAIN}"),
        NaptrRecord(DOMAIN, 20, 10, "s", "SIPS+D2T", "", f"_sips._tcp.{DOMAIN}"),
        Srv(f"_sip._udp.{DOMAIN}", f"sip.{DOMAIN}", 5060),
        Srv(f"_sips._tcp.{DOMAIN}", f"sips.{DOMAIN}", 5061),
        HostRecord(f"sip.{DOMAIN}", "127.0.0.1"),
        HostRecord(f"sips.{DOMAIN}", "127.0.0.2"),
    )
    resolver = SipResolver(server.nameservers)

    targets = run(resolver.resolve(DOMAIN, secure=True))

    assert targets == [Target("tls", DOMAIN, "127.0.0.2", 5061, f"sips.{DOMAIN}")]


def test_secure_without_naptr_queries_sips_tcp_srv(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1: no NAPTR + SIPS URI -> SRV query for _sips._tcp only."""
    server = dnsmasq(
        Srv(f"_sip._udp.{DOMAIN}", f"sip.{DOMAIN}", 5060),
        Srv(f"_sips._tcp.{DOMAIN}", f"sips.{DOMAIN}", 5063),
        HostRecord(f"sip.{DOMAIN}", "127.0.0.1"),
        HostRecord(f"sips.{DOMAIN}", "127.0.0.2"),
    )
    resolver = SipResolver(server.nameservers)

    assert summary(run(resolver.resolve(DOMAIN, secure=True))) == [("tls", "127.0.0.2", 5063)]


def test_no_naptr_falls_back_to_srv_udp_then_tcp(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1: without NAPTR, SRV is queried for each supported transport."""
    server = dnsmasq(
        Srv(f"_sip._tcp.{DOMAIN}", f"tcp.{DOMAIN}", 5070),
        Srv(f"_sip._udp.{DOMAIN}", f"udp.{DOMAIN}", 5080),
        HostRecord(f"tcp.{DOMAIN}", "127.0.0.3"),
        HostRecord(f"udp.{DOMAIN}", "127.0.0.4"),
        HostRecord(DOMAIN, "127.0.0.99"),  # must not be used: SRV records exist
    )
    resolver = SipResolver(server.nameservers)

    assert summary(run(resolver.resolve(DOMAIN))) == [
        ("udp", "127.0.0.4", 5080),
        ("tcp", "127.0.0.3", 5070),
    ]


def test_no_srv_falls_back_to_address_records_on_default_port(
    dnsmasq: StartDnsmasq,
) -> None:
    """RFC 3263 §4.1/§4.2: no NAPTR/SRV -> A/AAAA, UDP 5060 (TLS 5061 for SIPS)."""
    server = dnsmasq(HostRecord(DOMAIN, "127.0.0.10", "::1"))
    resolver = SipResolver(server.nameservers)

    assert summary(run(resolver.resolve(DOMAIN))) == [
        ("udp", "127.0.0.10", 5060),
        ("udp", "::1", 5060),
    ]
    assert summary(run(resolver.resolve(DOMAIN, secure=True))) == [
        ("tls", "127.0.0.10", 5061),
        ("tls", "::1", 5061),
    ]


def test_srv_target_dot_means_service_not_available(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.2 / RFC 2782: an SRV target of "." -> no A/AAAA fallback."""
    server = dnsmasq(
        Srv(f"_sip._tcp.{DOMAIN}", None),
        HostRecord(DOMAIN, "127.0.0.11"),
    )
    resolver = SipResolver(server.nameservers)

    with pytest.raises(ResolutionError, match="not available"):
        run(resolver.resolve(DOMAIN, transport="tcp"))


# --- SRV ordering and address expansion ----------------------------------------


def test_srv_priority_order(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.3 / RFC 2782: lower SRV priority values are tried first."""
    server = dnsmasq(
        Srv(f"_sip._udp.{DOMAIN}", f"c.{DOMAIN}", 5063, 30, 100),
        Srv(f"_sip._udp.{DOMAIN}", f"a.{DOMAIN}", 5061, 10, 0),
        Srv(f"_sip._udp.{DOMAIN}", f"b.{DOMAIN}", 5062, 20, 50),
        HostRecord(f"a.{DOMAIN}", "127.0.1.1"),
        HostRecord(f"b.{DOMAIN}", "127.0.1.2"),
        HostRecord(f"c.{DOMAIN}", "127.0.1.3"),
    )
    resolver = SipResolver(server.nameservers, rng=random.Random(1))

    assert summary(run(resolver.resolve(DOMAIN, transport="udp"))) == [
        ("udp", "127.0.1.1", 5061),
        ("udp", "127.0.1.2", 5062),
        ("udp", "127.0.1.3", 5063),
    ]


def test_srv_weight_distribution_with_seeded_random(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.3 / RFC 2782: within a priority, first pick is weight-proportional."""
    server = dnsmasq(
        Srv(f"_sip._udp.{DOMAIN}", f"heavy.{DOMAIN}", 5060, 10, 70),
        Srv(f"_sip._udp.{DOMAIN}", f"medium.{DOMAIN}", 5060, 10, 20),
        Srv(f"_sip._udp.{DOMAIN}", f"light.{DOMAIN}", 5060, 10, 10),
        HostRecord(f"heavy.{DOMAIN}", "127.0.2.70"),
        HostRecord(f"medium.{DOMAIN}", "127.0.2.20"),
        HostRecord(f"light.{DOMAIN}", "127.0.2.10"),
    )

    async def first_picks(seed: int, rounds: int) -> list[str]:
        resolver = SipResolver(server.nameservers, rng=random.Random(seed))
        picks = []
        for _ in range(rounds):
            targets = await resolver.resolve(DOMAIN, transport="udp")
            assert len(targets) == 3
            picks.append(targets[0].address)
        return picks

    picks = run(first_picks(seed=3263, rounds=150))
    counts = Counter(picks)

    assert run(first_picks(seed=3263, rounds=30)) == picks[:30]  # deterministic
    assert 85 <= counts["127.0.2.70"] <= 125, counts  # expected 105
    assert 18 <= counts["127.0.2.20"] <= 44, counts  # expected 30
    assert 6 <= counts["127.0.2.10"] <= 26, counts  # expected 15


def test_order_srv_records_weights_ignore_answer_order() -> None:
    """RFC 2782 (used by RFC 3263 §4.3): selection depends on weights, not answer order."""
    records = [
        SrvRecord(0, 0, 5060, "zero"),
        SrvRecord(0, 60, 5060, "sixty"),
        SrvRecord(0, 40, 5060, "forty"),
    ]
    rng = random.Random(2782)
    firsts = Counter(order_srv_records(records, rng)[0].target for _ in range(5000))

    assert order_srv_records(records, random.Random(5)) == order_srv_records(
        list(reversed(records)), random.Random(5)
    )
    assert 2700 <= firsts["sixty"] <= 3200, firsts  # ~ 60/101 of 5000
    assert 1750 <= firsts["forty"] <= 2200, firsts  # ~ 40/101
    assert firsts["zero"] < 150, firsts  # weight 0: only when the draw is 0


def test_aaaa_addresses_follow_a_addresses(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.2: each SRV target yields its A then its AAAA addresses."""
    server = dnsmasq(
        Srv(f"_sip._udp.{DOMAIN}", f"first.{DOMAIN}", 5060, 10),
        Srv(f"_sip._udp.{DOMAIN}", f"second.{DOMAIN}", 5062, 20),
        HostRecord(f"first.{DOMAIN}", "::1", "127.0.0.1", "fd00::1", "127.0.0.2"),
        HostRecord(f"second.{DOMAIN}", "fd00::2", "127.0.0.3"),
    )
    resolver = SipResolver(server.nameservers)

    addresses = [t.address for t in run(resolver.resolve(DOMAIN, transport="udp"))]

    assert addresses[:2] and set(addresses[:2]) == {"127.0.0.1", "127.0.0.2"}
    assert set(addresses[2:4]) == {"::1", "fd00::1"}
    assert addresses[4:] == ["127.0.0.3", "fd00::2"]


def test_duplicate_targets_are_removed(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.3: the same (transport, address, port) is not tried twice."""
    server = dnsmasq(
        Srv(f"_sip._udp.{DOMAIN}", f"a.{DOMAIN}", 5060, 10),
        Srv(f"_sip._udp.{DOMAIN}", f"alias.{DOMAIN}", 5060, 20),
        Srv(f"_sip._udp.{DOMAIN}", f"alias.{DOMAIN}", 5090, 30),
        HostRecord(f"a.{DOMAIN}", "127.0.0.1"),
        HostRecord(f"alias.{DOMAIN}", "127.0.0.1"),
    )
    resolver = SipResolver(server.nameservers)

    assert summary(run(resolver.resolve(DOMAIN, transport="udp"))) == [
        ("udp", "127.0.0.1", 5060),
        ("udp", "127.0.0.1", 5090),
    ]


# --- failures -----------------------------------------------------------------


def test_unknown_host_raises_resolution_error_naming_host(dnsmasq: StartDnsmasq) -> None:
    """RFC 3263 §4.1/§4.2: when NAPTR, SRV and A/AAAA all fail, resolution fails."""
    server = dnsmasq(HostRecord(DOMAIN, "127.0.0.1"))
    resolver = SipResolver(server.nameservers)

    with pytest.raises(ResolutionError, match=r"nope\.example\.test") as info:
        run(resolver.resolve("nope.example.test"))

    assert info.value.host == "nope.example.test"
    assert any("NXDOMAIN" in failure for failure in info.value.failures)


def test_closed_nameserver_port_fails_within_timeout(closed_port: int) -> None:
    """RFC 3263 §4: an unreachable DNS server -> ResolutionError, bounded by timeout."""
    resolver = SipResolver([("127.0.0.1", closed_port)], timeout=0.5)

    started = time.monotonic()
    with pytest.raises(ResolutionError, match=r"example\.test.*timed out"):
        run(resolver.resolve(DOMAIN))

    assert time.monotonic() - started < 0.5 + 0.3


def test_silent_nameserver_fails_within_timeout(silent_port: int) -> None:
    """RFC 3263 §4: a DNS server that never answers -> ResolutionError within timeout."""
    resolver = SipResolver([("127.0.0.1", silent_port)], timeout=0.4)

    started = time.monotonic()
    with pytest.raises(ResolutionError, match=r"example\.test"):
        run(resolver.resolve(DOMAIN, transport="udp"))

    assert time.monotonic() - started < 0.4 + 0.3


def test_missing_resolv_conf_still_resolves_numeric_hosts(tmp_path: Path) -> None:
    """RFC 3263 §4.2: numeric hosts need no DNS, even with no resolver configured."""
    for conf in (tmp_path / "missing", tmp_path / "empty"):
        if conf.name == "empty":
            conf.write_text("# no nameserver lines\n")
        resolver = SipResolver(resolv_conf=str(conf))

        assert run(resolver.resolve("192.0.2.1")) == [Target("udp", "192.0.2.1", "192.0.2.1", 5060)]
        with pytest.raises(ResolutionError, match="no DNS nameservers configured"):
            run(resolver.resolve(DOMAIN))


# --- first_working --------------------------------------------------------------

TARGETS = [
    Target("udp", DOMAIN, "127.0.0.1", 5060),
    Target("udp", DOMAIN, "::1", 5060),
    Target("tcp", DOMAIN, "127.0.0.1", 5060),
]


def test_first_working_moves_to_next_target_on_failure() -> None:
    """RFC 3263 §4.3: on a transport failure the next target is tried, in order."""
    tried: list[Target] = []

    async def attempt(target: Target) -> str:
        tried.append(target)
        if target.address == "127.0.0.1":
            raise ConnectionRefusedError("refused")
        return f"connected to {target.hostport}"

    assert run(first_working(TARGETS, attempt)) == "connected to [::1]:5060"
    assert tried == TARGETS[:2]


def test_first_working_reports_all_failures_when_all_fail() -> None:
    """RFC 3263 §4.3: if every target fails, the request fails with all reasons."""

    async def attempt(target: Target) -> None:
        raise ConnectionRefusedError(f"refused by {target.hostport}")

    with pytest.raises(ConnectionRefusedError, match=r"refused by 127\.0\.0\.1") as info:
        run(first_working(TARGETS, attempt))

    note = "\n".join(info.value.__notes__)
    assert "3 target(s) failed" in note
    for target in TARGETS:
        assert f"refused by {target.hostport}" in note


def test_first_working_with_no_targets_raises_resolution_error() -> None:
    """RFC 3263 §4.3: nothing to try is a resolution failure, not a silent success."""

    async def attempt(target: Target) -> None:
        raise AssertionError("must not be called")

    with pytest.raises(ResolutionError):
        run(first_working([], attempt))
