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


def test_three_way_conference_mixes_everyone() -> None:
    """A joins its calls with B and C: B hears C's voice and C hears B's, through A's mix."""
    import numpy as np

    from softphone.media.devices import FRAME_SAMPLES

    class Tone:
        def __init__(self, freq: float) -> None:
            self.n = 0
            self.freq = freq

        def read(self) -> np.ndarray:
            t = (np.arange(FRAME_SAMPLES) + self.n * FRAME_SAMPLES) / 48000
            self.n += 1
            return (np.sin(2 * np.pi * self.freq * t) * 8000).astype(np.int16)

        def close(self) -> None:
            pass

    class Ear:
        def __init__(self) -> None:
            self.frames: list[np.ndarray] = []

        def write(self, frame: np.ndarray) -> None:
            self.frames.append(frame)

        def close(self) -> None:
            pass

    def tone_level(frames: list[np.ndarray], freq: float) -> float:
        x = np.concatenate(frames[-50:]).astype(float)
        spectrum = np.abs(np.fft.rfft(x)) / x.size
        return float(spectrum[int(round(freq * x.size / 48000))])

    async def scenario() -> None:
        ears = {"b": Ear(), "c": Ear()}
        tones = {"b": 700.0, "c": 1300.0}
        a = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"], srtp="off"))
        others = {
            name: Engine(
                listen=("127.0.0.1", 0),
                media=MediaOptions(
                    codecs=["PCMU"],
                    srtp="off",
                    source_factory=lambda f=tones[name]: Tone(f),
                    sink_factory=lambda e=ears[name]: e,
                ),
            )
            for name in ("b", "c")
        }
        for engine in (a, *others.values()):
            engine.auto_answer = True
            await engine.start()
        try:
            calls = []
            for name, engine in others.items():
                assert engine.local
                calls.append(await a.call(f"sip:{name}@127.0.0.1:{engine.local[1]}"))
            await _until(lambda: all(c.state == "connected" for c in calls))
            assert await a.conference([c.id for c in calls])
            await asyncio.sleep(2.0)
            # B hears C's tone and C hears B's, relayed by A's bridge.
            assert tone_level(ears["b"].frames, tones["c"]) > 500
            assert tone_level(ears["c"].frames, tones["b"]) > 500
        finally:
            for engine in (a, *others.values()):
                await engine.stop()

    _run(scenario)
