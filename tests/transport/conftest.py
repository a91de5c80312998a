"""Fixtures for transport tests: a real dnsmasq on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.peers.dnsmasq import DnsmasqServer, Record, dnsmasq_available


class StartDnsmasq(Protocol):
    def __call__(self, *records: Record, log_queries: bool = False) -> DnsmasqServer: ...


@pytest.fixture
def dnsmasq() -> Iterator[StartDnsmasq]:
    """Factory: ``dnsmasq(SrvRecord(...), HostRecord(...))`` -> running server.

    Every server started through it is stopped at the end of the test.  The
    test is skipped if the dnsmasq binary (Debian: dnsmasq-base) is missing.
    """
    if not dnsmasq_available():
        pytest.skip("dnsmasq is not installed (apt-get install dnsmasq-base)")
    servers: list[DnsmasqServer] = []

    def start(*records: Record, log_queries: bool = False) -> DnsmasqServer:
        server = DnsmasqServer(*records, log_queries=log_queries)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests here that start dnsmasq talk to a real peer: mark them ``interop``."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here) and "dnsmasq" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.interop)
