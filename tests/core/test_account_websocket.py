"""Which WebSocket server a ws/wss account uses (RFC 7118), and where its requests go."""

from __future__ import annotations

import asyncio

import pytest

from softphone.core.account import AccountConfig, AccountError
from softphone.core.routing import websocket_destinations
from softphone.transport.base import Destination
from softphone.transport.resolver import SipResolver


def test_explicit_websocket_url_is_used_as_given() -> None:
    config = AccountConfig(aor="sip:alice@example.com", transport="ws", ws_url="ws://10.0.0.1:8080/sip")
    assert config.websocket_url == "ws://10.0.0.1:8080/sip"


def test_url_scheme_decides_between_ws_and_wss() -> None:
    config = AccountConfig(aor="sip:alice@example.com", transport="ws", ws_url="wss://sip.example.com/ws")
    assert config.transport == "wss"


def test_without_url_the_proxy_host_and_port_are_used() -> None:
    config = AccountConfig(aor="sip:alice@example.com", transport="ws", proxy="sip:edge.example.com:8080")
    assert config.websocket_url == "ws://edge.example.com:8080/"


def test_without_url_or_proxy_the_registrar_on_the_https_port_is_used() -> None:
    config = AccountConfig(aor="sip:alice@example.com", transport="wss")
    assert config.websocket_url == "wss://example.com:443/"


def test_sips_address_over_websocket_means_wss() -> None:
    """RFC 3261 §26.2.2: sips needs TLS on the hop; for a WebSocket that is wss."""
    assert AccountConfig(aor="sips:alice@example.com", transport="ws").transport == "wss"


def test_accounts_on_other_transports_have_no_websocket_url() -> None:
    config = AccountConfig(aor="sip:alice@example.com", transport="udp", ws_url="ws://10.0.0.1/")
    assert config.websocket_url is None


@pytest.mark.parametrize("url", ["http://example.com/", "ws://", "example.com:80"])
def test_a_url_that_is_not_a_websocket_url_is_refused(url: str) -> None:
    with pytest.raises(AccountError, match="WebSocket URL"):
        AccountConfig(aor="sip:alice@example.com", transport="ws", ws_url=url)


def test_every_request_goes_to_the_websocket_server_with_its_url() -> None:
    """RFC 7118 §5: the client reaches no one but the server it is connected to."""
    config = AccountConfig(aor="sip:alice@example.com", transport="ws", ws_url="ws://127.0.0.1:8088/sip")
    destinations = asyncio.run(websocket_destinations(SipResolver(), config))
    assert destinations == [Destination("ws", "127.0.0.1", 8088, "127.0.0.1")]
    assert destinations[0].url == "ws://127.0.0.1:8088/sip"
