"""Where a request goes next: outbound proxy, Route set or the target itself (RFC 3261 §8.1.2, RFC 3263)."""

from __future__ import annotations

from ..sip.address import Address
from ..sip.uri import SipUri
from ..transport.base import Destination
from ..transport.resolver import SipResolver


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
