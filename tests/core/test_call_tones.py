"""Local call tones played by the engine (softphone.core.call_tones), between engines on loopback,
checked by what reaches the speaker and the ringing device: ringback while the callee rings
(RFC 3261 §13.3.1.1 180 Ringing without SDP), ringtone, call waiting, busy (486)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np

from softphone.core.call import Call
from softphone.core.call_tones import CallTones
from softphone.core.engine import Engine, MediaOptions

RATE = 48000


class Capture:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.closed = False

    def write(self, frame: np.ndarray) -> None:
        self.frames.append(frame.copy())

    def close(self) -> None:
        self.closed = True

    def take(self) -> np.ndarray:
        out = np.concatenate(self.frames) if self.frames else np.zeros(0, dtype=np.int16)
        self.frames = []
        return out


def has_tone(samples: np.ndarray, freq: float) -> bool:
    """``freq`` stands out of the spectrum (20 dB over the median bin) and is audible."""
    if samples.size < RATE // 10 or np.abs(samples).max() < 300:
        return False
    x = samples.astype(float)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    band = spectrum[np.abs(freqs - freq) < 8].max()
    return bool(band > 0.1 * spectrum.max() and band > 10 * np.median(spectrum))


async def engine(**media: object) -> Engine:
    e = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"], srtp="off", **media))  # type: ignore[arg-type]
    await e.start()
    return e


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_ringback_plays_while_the_callee_rings_and_stops_when_it_answers() -> None:
    async def scenario() -> None:
        speaker = Capture()
        caller, callee = await engine(sink_factory=lambda: speaker), await engine()
        CallTones(caller)
        try:
            assert callee.local is not None
            call = await caller.call(f"sip:bob@127.0.0.1:{callee.local[1]}")
            incoming = await asyncio.wait_for(callee.incoming_calls.get(), 5)
            await until(lambda: call.state == "ringing")
            await asyncio.sleep(0.8)
            assert has_tone(speaker.take(), 425)  # the first second of the 1 s on / 4 s off cadence
            await incoming.answer()
            await until(lambda: call.state == "connected")
            await asyncio.sleep(0.3)
            speaker.take()
            await asyncio.sleep(0.8)
            after = speaker.take()
            assert after.size > RATE // 2 and not has_tone(after, 425)  # the callee's (silent) audio now
        finally:
            await caller.stop()
            await callee.stop()

    run(scenario)


def test_incoming_call_rings_on_the_ringing_device_until_answered() -> None:
    async def scenario() -> None:
        ringer, speaker = Capture(), Capture()
        caller, callee = await engine(), await engine(sink_factory=lambda: speaker)
        tones = CallTones(callee, ringer=lambda: ringer)
        try:
            assert callee.local is not None
            await caller.call(f"sip:bob@127.0.0.1:{callee.local[1]}")
            incoming = await asyncio.wait_for(callee.incoming_calls.get(), 5)
            await until(lambda: tones.ringing)
            await asyncio.sleep(0.35)
            rung = ringer.take()
            assert has_tone(rung, 660) and has_tone(rung, 880)
            assert not speaker.frames  # not on the call's speaker
            await incoming.answer()
            await until(lambda: ringer.closed)
            assert not tones.ringing
        finally:
            await caller.stop()
            await callee.stop()

    run(scenario)


def test_second_incoming_call_during_a_call_beeps_in_the_call_instead_of_ringing() -> None:
    async def scenario() -> None:
        ringer, speaker = Capture(), Capture()
        a = await engine(sink_factory=lambda: speaker)
        b, c = await engine(), await engine()
        tones = CallTones(a, ringer=lambda: ringer)
        a.auto_answer = False
        try:
            assert a.local is not None
            first = await b.call(f"sip:a@127.0.0.1:{a.local[1]}")
            incoming: Call = await asyncio.wait_for(a.incoming_calls.get(), 5)
            await incoming.answer()
            await until(lambda: first.state == "connected")
            ringer.take()
            await c.call(f"sip:a@127.0.0.1:{a.local[1]}")
            waiting = await asyncio.wait_for(a.incoming_calls.get(), 5)
            await until(lambda: waiting.state == "ringing")
            speaker.take()
            await asyncio.sleep(0.6)
            assert has_tone(speaker.take(), 425)  # the beep, mixed into the first call
            assert not tones.ringing and not ringer.frames
            await waiting.reject(486)
            await asyncio.sleep(0.3)
            speaker.take()
            await asyncio.sleep(1.0)
            assert not has_tone(speaker.take(), 425)
        finally:
            for e in (a, b, c):
                await e.stop()

    run(scenario)


def test_busy_callee_gives_a_few_seconds_of_busy_tone() -> None:
    async def scenario() -> None:
        speaker = Capture()
        caller, callee = await engine(), await engine()
        callee.do_not_disturb = True  # answers 486
        CallTones(caller, speaker=lambda: speaker)
        try:
            assert callee.local is not None
            call = await caller.call(f"sip:bob@127.0.0.1:{callee.local[1]}")
            await until(lambda: call.ended)
            assert call.end_status == 486
            await asyncio.sleep(0.4)
            assert has_tone(speaker.take(), 425)
            await until(lambda: speaker.closed, timeout=5)  # 3 s, then the device is let go
        finally:
            await caller.stop()
            await callee.stop()

    run(scenario)
