"""AudioStream: the send clock and the playout clock of one call.

Send: every 20 ms, a frame from the source is encoded and sent (or a DTMF event packet).
Receive: packets go into our own jitter buffer; every 20 ms the playout clock takes one
frame out, decoding it or concealing a loss, and gives it to the sink. aiortc's receive
path (a fixed 16-packet buffer, no concealment) is not used, for any profile.

Both clocks are one timer (one event loop wakeup per frame); where the RTP session supports it
(``RtpSession.defer_reads``, Linux) the packets are read on that timer too, just before playout,
rather than with a wakeup of their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .audio import FRAME_MS
from .codecs import AudioCodec
from .devices import AudioSink, AudioSource, silence
from .dtmf import DtmfReceiver, DtmfSender
from .jitter import JitterBuffer

log = logging.getLogger(__name__)

TICK = FRAME_MS / 1000.0
RESYNC_AFTER = 0.2  # a loop that fell this far behind (a stalled event loop) starts afresh


@dataclass
class StreamSettings:
    send_pt: int
    recv_pt: int
    dtmf_send_pt: int | None = None
    dtmf_recv_pt: int | None = None
    dtmf_rate: int = 8000
    sending: bool = True
    receiving: bool = True


class AudioStream:
    def __init__(
        self,
        rtp: Any,
        codec: AudioCodec,
        settings: StreamSettings,
        source: AudioSource,
        sink: AudioSink,
        *,
        on_dtmf: Callable[[str], None] | None = None,
        min_delay_ms: float = 20,
        max_delay_ms: float = 200,
    ) -> None:
        self.rtp = rtp
        self.codec = codec
        self.settings = settings
        self.source = source
        self.sink = sink
        self.on_dtmf = on_dtmf
        self.jitter = JitterBuffer(
            timestamp_step=codec.timestamp_step,
            clock_rate=codec.clock_rate,
            min_delay_ms=min_delay_ms,
            max_delay_ms=max_delay_ms,
        )
        self.muted = False
        self._timestamp = int.from_bytes(np.random.bytes(4), "big")
        self._dtmf_sender = DtmfSender(clock_rate=settings.dtmf_rate)
        self._dtmf_receiver = DtmfReceiver(clock_rate=settings.dtmf_rate)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None  # the next tick of the clock
        self._clock_start = 0.0
        self._ticks = 0
        self._reads_deferred = False  # RTP is read on this clock (RtpSession.defer_reads)
        self._first_packet = True
        self.frames_played = 0
        self.frames_concealed = 0
        self.frames_sent = 0
        rtp.on_packet = self._on_packet

    # -- control --
    def start(self) -> None:
        if self._timer is None:
            self._loop = asyncio.get_running_loop()
            self._clock_start = self._loop.time()
            self._ticks = 0
            defer_reads = getattr(self.rtp, "defer_reads", None)
            self._reads_deferred = bool(defer_reads is not None and defer_reads(True))
            self._schedule_tick()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._reads_deferred:
            self._reads_deferred = False
            self.rtp.defer_reads(False)

    def update(self, settings: StreamSettings) -> None:
        self.settings = settings

    def send_dtmf(self, digits: str) -> bool:
        if self.settings.dtmf_send_pt is None:
            return False
        try:
            self._dtmf_sender.send(digits)
        except ValueError:
            return False
        return True

    # -- clock --
    # One timer drives both directions: every 20 ms the send tick, then the playout tick. A
    # plain loop.call_at callback (no task, no future) is the cheapest wakeup asyncio has, and
    # one wakeup a frame instead of two (the two ticks used to be two tasks) halves their cost.
    # Where the RTP session can defer its reads (Linux), the packets that arrived since the last
    # tick are read here too, just before playout, instead of waking the loop for each one; they
    # keep their kernel arrival times, so the jitter buffer sees the same timing.
    def _schedule_tick(self) -> None:
        assert self._loop is not None
        self._ticks += 1
        self._timer = self._loop.call_at(self._clock_start + self._ticks * TICK, self._on_tick)

    def _on_tick(self) -> None:
        assert self._loop is not None
        loop = self._loop
        if loop.time() - (self._clock_start + self._ticks * TICK) > RESYNC_AFTER:
            self._clock_start, self._ticks = loop.time(), 0  # the loop stalled: start afresh
        for tick in (self._send_tick, self._read_tick, self._play_tick):
            try:
                tick(loop.time())
            except Exception:
                log.exception("audio tick failed")
        if self._timer is not None:  # not stopped by a tick
            self._schedule_tick()

    def _send_tick(self, now: float) -> None:
        frame = self.source.read()
        step = self.codec.timestamp_step
        if not self.settings.sending:
            self._timestamp = (self._timestamp + step) & 0xFFFFFFFF
            return
        if self._dtmf_sender.busy and self.settings.dtmf_send_pt is not None:
            packets = self._dtmf_sender.tick(self._timestamp)
            for packet in packets:
                self.rtp.send(
                    packet.payload,
                    payload_type=self.settings.dtmf_send_pt,
                    timestamp=packet.timestamp,
                    marker=packet.marker,
                )
            if packets or self._dtmf_sender.in_event:
                # RFC 4733 §2.5.1.2: no audio while an event is sent, so nothing plays twice.
                self._timestamp = (self._timestamp + step) & 0xFFFFFFFF
                return
        if self.muted:
            frame = silence()
        payload = self.codec.encode(frame)
        self.rtp.send(
            payload, payload_type=self.settings.send_pt, timestamp=self._timestamp, marker=self._first_packet
        )
        self._first_packet = False
        self.frames_sent += 1
        self._timestamp = (self._timestamp + step) & 0xFFFFFFFF

    def _read_tick(self, now: float) -> None:
        if self._reads_deferred:
            self.rtp.read_deferred()

    def _play_tick(self, now: float) -> None:
        item = self.jitter.pop(now)
        if item is None:
            frame = silence()
        elif item == "lost":
            frame = self.codec.conceal()
            self.frames_concealed += 1
        else:
            assert isinstance(item, bytes)
            frame = self.codec.decode(item)
            self.frames_played += 1
        if self.settings.receiving:
            self.sink.write(frame)

    # -- receive --
    def _on_packet(self, packet: Any, arrival: float) -> None:
        pt = packet.payload_type
        if self.settings.dtmf_recv_pt is not None and pt == self.settings.dtmf_recv_pt:
            self.jitter.skip(packet.sequence_number)  # an event, not a lost audio frame
            event = self._dtmf_receiver.feed(packet.payload, packet.timestamp, packet.sequence_number)
            if event is not None and self.on_dtmf is not None:
                self.on_dtmf(event.digit)
            return
        if pt != self.settings.recv_pt:
            self.jitter.skip(packet.sequence_number)  # comfort noise and friends
            return
        self.jitter.put(packet.sequence_number, packet.timestamp, packet.payload, arrival, packet.marker)

    def stats(self) -> dict[str, Any]:
        j = self.jitter.stats
        return {
            "jitter_buffer_ms": round(float(getattr(j, "target_delay_ms", 0.0)), 1),
            "concealed_frames": self.frames_concealed,
            "played_frames": self.frames_played,
            "late_packets": int(getattr(j, "late", 0)),
        }


def monotonic() -> float:
    return time.monotonic()
