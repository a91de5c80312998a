"""Where a request goes next: outbound proxy, Route set or the target itself (RFC 3261 §8.1.2, RFC 3263)."""

from __future__ import annotations

from ..sip.address import Address
from ..sip.uri import SipUri
from ..transport.base import Destination
from ..transport.resolver import SipResolver
from ..transport.websocket import url_endpoint
from .account import AccountConfig


async def resolve_uri(resolver: SipResolver, uri: SipUri, default_transport: str = "udp") -> Destination:
    """The first destination RFC 3263 gives for ``uri``; maddr wins over the host (§8.1.2)."""
    host = uri.params.get("maddr") or uri.host
    transport = uri.transport or (None if uri.port is None and uri.transport is None else default_transport)
    if transport is None and default_transport != "udp":
        transport = default_transport
    targets = await resolver.resolve(
        host, port=uri.port, transport=transport, secure=uri.secure or transport == "tls"
    )
    targets.sort(key=lambda t: t.transport != (transport or default_transport))
    target = targets[0]
    return Destination(target.transport, target.address, target.port, target.host)


def next_hop(route_set: list[Address], target: SipUri, proxy: SipUri | None = None) -> SipUri:
    """The URI whose address a request is sent to: the first Route, else the proxy, else the target."""
    if route_set:
        first = route_set[0].uri
        if isinstance(first, SipUri):
            return first
    if proxy is not None:
        return proxy
    return target


async def websocket_destinations(resolver: SipResolver, account: AccountConfig) -> list[Destination]:
    """The servers a ws/wss account connects to, in order: its WebSocket URL's host.

    A WebSocket client cannot open a connection to anyone else, so every request of
    the account goes there, whatever its Request-URI or Route set (RFC 7118 §5). The
    URL's host is an HTTP host: it is looked up by A/AAAA only (no NAPTR/SRV).
    """
    url = account.websocket_url
    if url is None:
        raise ValueError(f"account {account.id} does not use a WebSocket")
    scheme, host, port, _ = url_endpoint(url)
    # With an explicit port the resolver only looks up addresses (RFC 3263 §4.2); asking
    # for "tcp" keeps it from refusing ws/wss, which it does not resolve by NAPTR/SRV.
    targets = await resolver.resolve(host, port=port, transport="tcp")
    return [Destination(scheme, t.address, port, host, url=url) for t in targets]
