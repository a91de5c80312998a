"""Transfer between three engines on loopback: blind (RFC 3515) and attended (RFC 3891)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from softphone.core.engine import Engine, MediaOptions
from softphone.core.events import EngineEvent


async def _engines(n: int) -> tuple[list[Engine], list[list[EngineEvent]]]:
    engines, logs = [], []
    for _ in range(n):
        engine = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"], srtp="off"))
        engine.auto_answer = True
        log: list[EngineEvent] = []
        engine.subscribe(log.append)
        await engine.start()
        engines.append(engine)
        logs.append(log)
    return engines, logs


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def _names(log: list[EngineEvent]) -> list[str]:
    return [e.name for e in log]


def _run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())


def test_blind_transfer_connects_the_transferee_to_the_target() -> None:
    """RFC 3515: A refers B to C; B calls C, NOTIFYs 200, and A leaves the call."""

    async def scenario() -> None:
        (a, b, c), (log_a, log_b, log_c) = await _engines(3)
        try:
            assert b.local and c.local
            call = await a.call(f"sip:b@127.0.0.1:{b.local[1]}")
            await _until(lambda: call.state == "connected")
            assert await a.transfer(call.id, f"sip:c@127.0.0.1:{c.local[1]}")
            await _until(lambda: call.ended)
            assert call.end_reason == "transferred"
            await _until(
                lambda: any(x.state == "connected" and x.direction == "incoming" for x in c.calls.values())
            )
            assert "transfer_requested" in _names(log_b)
            statuses = [e.fields["status"] for e in log_a if e.name == "transfer_progress"]
            assert statuses[0] == 202 and statuses[-1] == 200
        finally:
            for engine in (a, b, c):
                await engine.stop()

    _run(scenario)


def test_attended_transfer_replaces_the_consultation_call() -> None:
    """RFC 3891: A talks to B and to C, then joins them; C's call with A is replaced by B's."""

    async def scenario() -> None:
        (a, b, c), (log_a, log_b, log_c) = await _engines(3)
        try:
            assert b.local and c.local
            to_b = await a.call(f"sip:b@127.0.0.1:{b.local[1]}")
            to_c = await a.call(f"sip:c@127.0.0.1:{c.local[1]}")
            await _until(lambda: to_b.state == "connected" and to_c.state == "connected")
            await to_b.hold(True)
            assert await a.transfer_attended(to_b.id, to_c.id)
            await _until(lambda: to_b.ended and to_c.ended)
            assert "replacing" in _names(log_c)
            await _until(
                lambda: (
                    any(x.state == "connected" and x.direction == "outgoing" for x in b.calls.values())
                    and any(x.state == "connected" and x.direction == "incoming" for x in c.calls.values())
                )
            )
            # C talks to B now; A is in no call any more.
            assert not a.calls
        finally:
            for engine in (a, b, c):
                await engine.stop()

    _run(scenario)
