"""Added one-way latency between two headless engines on loopback, per codec.

A click train is the microphone of the caller; the callee's speaker notes when each click
comes out. Latency = time a click sample is played - time it was captured: encoding,
packetisation, the network, the jitter buffer and decoding, without sound-card buffers.

Run: .venv/bin/python bench/latency.py [--seconds 8] [--codecs PCMU,opus]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from softphone.core.engine import Engine, MediaOptions  # noqa: E402
from softphone.core.events import EngineEvent  # noqa: E402

FRAME = 960
RATE = 48000
CLICK_EVERY = 0.5  # seconds


class ClickSource:
    """A short 1 kHz burst every CLICK_EVERY seconds; notes the loop time of each burst's start."""

    def __init__(self) -> None:
        self.frame_no = 0
        self.sent: list[float] = []
        burst = np.sin(2 * np.pi * 1000 * np.arange(240) / RATE) * 20000
        self.burst = burst.astype(np.int16)

    def read(self) -> np.ndarray:
        out = np.zeros(FRAME, dtype=np.int16)
        every = int(CLICK_EVERY * RATE / FRAME)
        if self.frame_no % every == 0:
            out[: self.burst.size] = self.burst
            self.sent.append(asyncio.get_running_loop().time())
        self.frame_no += 1
        return out

    def close(self) -> None:
        pass


class ClickSink:
    """Notes the loop time at which each burst's first loud sample is played."""

    def __init__(self) -> None:
        self.heard: list[float] = []
        self.loud = False

    def write(self, frame: np.ndarray) -> None:
        now = asyncio.get_running_loop().time()
        idx = np.flatnonzero(np.abs(frame.astype(np.int32)) > 4000)
        if idx.size and not self.loud:
            self.heard.append(now + idx[0] / RATE)
            self.loud = True
        elif not idx.size:
            self.loud = False

    def close(self) -> None:
        pass


async def measure(codec: str, seconds: float) -> list[float]:
    source, sink = ClickSource(), ClickSink()
    callee = Engine(
        listen=("127.0.0.1", 0),
        media=MediaOptions(codecs=[codec], srtp="off", sink_factory=lambda: sink),
    )
    caller = Engine(
        listen=("127.0.0.1", 0),
        media=MediaOptions(codecs=[codec], srtp="off", source_factory=lambda: source),
    )
    callee.auto_answer = True
    answered = asyncio.Event()

    def watch(event: EngineEvent) -> None:
        if event.name == "answered":
            answered.set()

    caller.subscribe(watch)
    await callee.start()
    await caller.start()
    assert callee.local is not None
    call = await caller.call(f"sip:bench@127.0.0.1:{callee.local[1]}")
    await asyncio.wait_for(answered.wait(), 10)
    await asyncio.sleep(seconds)
    await call.hangup()
    await caller.stop()
    await callee.stop()
    # Pair each heard click with the latest click sent before it.
    latencies = []
    for t in sink.heard:
        before = [s for s in source.sent if s <= t]
        if before and t - before[-1] < CLICK_EVERY:
            latencies.append((t - before[-1]) * 1000)
    return latencies[2:]  # the first clicks meet an empty jitter buffer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--codecs", default="PCMU,PCMA,G722,opus")
    args = parser.parse_args()
    print(f"{'codec':8} {'clicks':>6} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for codec in args.codecs.split(","):
        values = asyncio.run(measure(codec, args.seconds))
        if not values:
            print(f"{codec:8} no clicks heard")
            continue
        print(
            f"{codec:8} {len(values):>6} {statistics.median(values):>10.1f} "
            f"{min(values):>8.1f} {max(values):>8.1f}"
        )


if __name__ == "__main__":
    main()
