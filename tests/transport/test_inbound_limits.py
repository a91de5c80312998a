"""Connections peers open to our TCP listener are bounded in number and closed when idle."""

from __future__ import annotations

import asyncio

import pytest

from softphone.transport import manager as manager_module
from softphone.transport.manager import MAX_INBOUND_PER_ADDRESS, TransportManager


async def _closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), timeout) == b""
    except TimeoutError:
        return False


def test_connections_from_one_address_beyond_the_cap_are_refused() -> None:
    async def main() -> None:
        tm = TransportManager(lambda data, source: None)
        host, port = await tm.start_tcp_listener("127.0.0.1", 0)
        streams = [await asyncio.open_connection(host, port) for _ in range(MAX_INBOUND_PER_ADDRESS + 4)]
        await asyncio.sleep(0.2)
        closed = [await _closed_by_server(reader, 0.3) for reader, _ in streams]
        assert closed.count(True) == 4
        assert closed[:MAX_INBOUND_PER_ADDRESS] == [False] * MAX_INBOUND_PER_ADDRESS
        for _, writer in streams:
            writer.close()
        await tm.close()

    asyncio.run(asyncio.wait_for(main(), 20))


def test_an_idle_inbound_connection_is_closed_but_keepalives_keep_one_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(manager_module, "INBOUND_IDLE_TIMEOUT", 0.3)

    async def main() -> None:
        tm = TransportManager(lambda data, source: None)
        host, port = await tm.start_tcp_listener("127.0.0.1", 0)
        idle_reader, idle_writer = await asyncio.open_connection(host, port)
        live_reader, live_writer = await asyncio.open_connection(host, port)
        for _ in range(8):  # a CRLF keep-alive every 0.1 s (RFC 5626 §4.4.1 pings)
            live_writer.write(b"\r\n")
            await asyncio.sleep(0.1)
        assert await _closed_by_server(idle_reader, 0.5)
        assert not await _closed_by_server(live_reader, 0.1)
        idle_writer.close()
        live_writer.close()
        await tm.close()

    asyncio.run(asyncio.wait_for(main(), 20))
