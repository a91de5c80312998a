"""AudioStream: the send clock and the playout clock of one call.

Send: every 20 ms, a frame from the source is encoded and sent (or a DTMF event packet).
Receive: packets go into our own jitter buffer; every 20 ms the playout clock takes one
frame out, decoding it or concealing a loss, and gives it to the sink. aiortc's receive
path (a fixed 16-packet buffer, no concealment) is not used, for any profile.

Both clocks are one timer (one event loop wakeup per frame); where the RTP session supports it
(``RtpSession.defer_reads``, Linux) the packets are read on that timer too, just before playout,
rather than with a wakeup of their own.

On the way, the stream also applies the microphone gain and the speaker volume, mixes a local
tone (ringback, call waiting) into what the speaker plays, cancels the speaker's echo in the
microphone (``aec``, docs/AEC.md) and measures both levels (``on_levels``, every 100 ms).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import FRAME_MS
from .devices import FRAME_SAMPLES, AudioSink, AudioSource, silence
from .dtmf import DtmfReceiver, DtmfSender
from .jitter import JitterBuffer

if TYPE_CHECKING:  # not at run time: TonePlayer (tones before a call) needs no codec
    from .aec import EchoCanceller
    from .codecs import AudioCodec

log = logging.getLogger(__name__)

TICK = FRAME_MS / 1000.0
_SILENCE = silence()
RESYNC_AFTER = 0.2  # a loop that fell this far behind (a stalled event loop) starts afresh
LEVEL_FRAMES = 5  # levels are reported every 5 frames = 100 ms
LEVEL_FLOOR_DB = -96.0  # what silence reads as (16-bit range); JSON has no -inf
FULL_SCALE = 32768.0


@dataclass(frozen=True)
class Level:
    """Peak and RMS of 100 ms of audio, in dBFS (RMS relative to a full-scale square wave, so a
    full-scale sine reads -3 dB)."""

    peak_db: float
    rms_db: float

    def to_dict(self) -> dict[str, float]:
        return {"peak": self.peak_db, "rms": self.rms_db}


class LevelMeter:
    """Accumulates frames and gives one Level per LEVEL_FRAMES of them.

    A frame is only copied into a block; peak and energy are computed once per block (four numpy
    calls every 100 ms instead of four per frame: the meter runs on every frame of every call).
    """

    def __init__(self) -> None:
        self._block = np.zeros(LEVEL_FRAMES * FRAME_SAMPLES, dtype=np.int16)
        self._filled = 0  # samples in the block
        self._peak = 0  # of frames that did not fit the block (not 20 ms frames)
        self._energy = 0.0
        self._samples = 0
        self._frames = 0

    def add(self, frame: np.ndarray) -> Level | None:
        n = frame.size
        if n:
            filled = self._filled
            if filled + n <= len(self._block):
                self._block[filled : filled + n] = frame.ravel()
                self._filled = filled + n
            else:
                self._measure(frame.ravel())
        self._frames += 1
        if self._frames < LEVEL_FRAMES:
            return None
        if self._filled:
            self._measure(self._block[: self._filled])
        level = Level(
            _db(self._peak / FULL_SCALE), _db((self._energy / max(self._samples, 1)) ** 0.5 / FULL_SCALE)
        )
        self._peak, self._energy, self._samples, self._frames, self._filled = 0, 0.0, 0, 0, 0
        return level

    def _measure(self, samples: np.ndarray) -> None:
        self._peak = max(self._peak, int(samples.max()), -int(samples.min()))
        f = samples.astype(np.float64)  # exact: 4800 squares of int16 stay far below 2**53
        self._energy += float(np.dot(f, f))
        self._samples += samples.size


def _db(ratio: float) -> float:
    if ratio <= 0:
        return LEVEL_FLOOR_DB
    return round(max(LEVEL_FLOOR_DB, 20 * float(np.log10(ratio))), 1)


def scale(frame: np.ndarray, factor: float) -> np.ndarray:
    """The frame times a linear factor, clipped to int16."""
    if factor == 1.0:
        return frame
    out: np.ndarray = np.clip(frame.astype(np.float32) * factor, -32768, 32767).astype(np.int16)
    return out


def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.clip(a.astype(np.int32) + b.astype(np.int32), -32768, 32767).astype(np.int16)
    return out


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
        aec: EchoCanceller | None = None,
        on_levels: Callable[[Level, Level], None] | None = None,
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
        self.volume = 1.0  # speaker, linear factor
        self.gain = 1.0  # microphone, linear factor
        self.aec = aec
        self.tone: AudioSource | None = None  # mixed into what the speaker plays (ringback, call waiting)
        self.on_levels = on_levels
        self._far_end = silence()  # what the speaker played last tick: the echo canceller's reference
        self._sent = silence()  # what the other side got from us this tick (silence when muted or on hold)
        self.recorder: AudioSink | None = None  # the call recording: both sides mixed
        self._mic_meter = LevelMeter()
        self._speaker_meter = LevelMeter()
        self._mic_level: Level | None = None
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
                tick(loop.time())  # each its own time: packets read on this tick arrive after the send
            except Exception:
                log.exception("audio tick failed")
        if self._timer is not None:  # not stopped by a tick
            self._schedule_tick()

    def step(self, now: float) -> None:
        """One 20 ms tick: send a frame, then play one. The clock calls it; tests and benches may too."""
        for tick in (self._send_tick, self._read_tick, self._play_tick):
            try:
                tick(now)
            except Exception:
                log.exception("audio tick failed")

    def _send_tick(self, now: float) -> None:
        frame = self.source.read()
        if self.aec is not None:
            # on every tick, also muted or on hold, so that the filter stays adapted
            frame = self.aec.process(frame, self._far_end)
        frame = scale(frame, self.gain)
        if self.on_levels is not None:
            self._mic_level = self._mic_meter.add(frame) or self._mic_level
        step = self.codec.timestamp_step
        self._sent = _SILENCE
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
        self._sent = frame
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
        tone = self.tone
        if self.settings.receiving or tone is not None:
            frame = scale(frame, self.volume) if self.settings.receiving else silence()
            if tone is not None:
                frame = mix(frame, tone.read())
                if getattr(tone, "finished", False):
                    self.tone = None
            self.sink.write(frame)
            self._far_end = frame if frame.size == FRAME_SAMPLES else silence()
        else:
            self._far_end = silence()
        recorder = self.recorder
        if recorder is not None:
            try:
                sent = self._sent if self._sent.size == FRAME_SAMPLES else _SILENCE
                recorder.write(mix(sent, self._far_end))
            except Exception:  # a full disk must not stop the call: the recording ends, the call goes on
                log.exception("call recording failed; recording stopped")
                self.recorder = None
        if self.on_levels is not None:
            level = self._speaker_meter.add(self._far_end)
            if level is not None:
                mic = self._mic_level or Level(LEVEL_FLOOR_DB, LEVEL_FLOOR_DB)
                self._mic_level = None
                self.on_levels(mic, level)

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


class TonePlayer:
    """Plays a tone into a sink on its own 20 ms clock, when no AudioStream runs there: the
    ringback before the call's media starts, the ringtone on the ringing device."""

    def __init__(self, sink: AudioSink, tone: AudioSource, *, close_sink: bool = False) -> None:
        self.sink = sink
        self.tone = tone
        self.close_sink = close_sink
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._start = 0.0
        self._ticks = 0

    @property
    def playing(self) -> bool:
        return self._timer is not None

    def start(self) -> None:
        if self._timer is None:
            self._loop = asyncio.get_running_loop()
            self._start, self._ticks = self._loop.time(), 0
            self._tick()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.close_sink:
            self.close_sink = False
            self.sink.close()

    def _tick(self) -> None:
        assert self._loop is not None
        try:
            self.sink.write(self.tone.read())
        except Exception:
            log.exception("tone playback failed")
        if getattr(self.tone, "finished", False):
            self._timer = None
            self.stop()
            return
        self._ticks += 1
        if self._loop.time() - (self._start + self._ticks * TICK) > RESYNC_AFTER:
            self._start, self._ticks = self._loop.time(), 1
        self._timer = self._loop.call_at(self._start + self._ticks * TICK, self._tick)


def monotonic() -> float:
    return time.monotonic()
