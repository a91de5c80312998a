"""DTMF: RFC 4733 telephone-events (encode, decode, sender and receiver state machines) and in-band
dual tones (generator and Goertzel detector).

RFC 4733 payload (§2.3)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    |     event     |E|R| volume    |          duration             |

Events 0-9 are the digits, 10 ``*``, 11 ``#``, 12-15 ``A``-``D``, 16 flash (written ``!`` here,
as in SIP INFO ``application/dtmf-relay``). ``volume`` is the power level in -dBm0 (0-63),
``duration`` is in RTP timestamp units of the telephone-event clock, which is the audio codec's
RTP clock (8000 for PCMU, PCMA and G722, 48000 for opus).

``DtmfSender`` and ``DtmfReceiver`` are sans-IO: the stream gives the sender its send-clock ticks
and sends what it returns (with the audio stream's SSRC, the telephone-event payload type and the
next sequence number for every packet, including the repeated end packets), and feeds the
receiver the telephone-event packets it receives. Neither is thread-safe.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from .audio import FRAME_SAMPLES, RATE, FloatArray, Int16Array, to_int16

DIGITS = "0123456789*#ABCD!"
FLASH = 16
MAX_DURATION = 0xFFFF
DEFAULT_VOLUME = 10  # -10 dBm0
DEFAULT_DURATION_MS = 100
DEFAULT_GAP_MS = 60

DTMF_FREQUENCIES: dict[str, tuple[float, float]] = {
    d: (row, col)
    for row, keys in zip((697.0, 770.0, 852.0, 941.0), ("123A", "456B", "789C", "*0#D"), strict=True)
    for d, col in zip(keys, (1209.0, 1336.0, 1477.0, 1633.0), strict=True)
}
ROW_FREQUENCIES = (697.0, 770.0, 852.0, 941.0)
COL_FREQUENCIES = (1209.0, 1336.0, 1477.0, 1633.0)


def digit_to_event(digit: str) -> int:
    """``"5"`` -> 5, ``"*"`` -> 10, ``"#"`` -> 11, ``"a"``/``"A"`` -> 12, ``"!"``/``"flash"`` -> 16."""
    d = digit.strip().upper()
    if d == "FLASH":
        return FLASH
    if len(d) != 1 or d not in DIGITS:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return DIGITS.index(d)


def event_to_digit(event: int) -> str | None:
    """5 -> ``"5"``, 10 -> ``"*"``, 16 -> ``"!"``; ``None`` for events that are not DTMF (17-255)."""
    return DIGITS[event] if 0 <= event < len(DIGITS) else None


class TelephoneEvent(NamedTuple):
    event: int
    end: bool
    volume: int
    duration: int


def encode_event(
    digit: str | int, volume: int = DEFAULT_VOLUME, duration: int = 0, end: bool = False
) -> bytes:
    """The 4-byte RFC 4733 payload. ``digit`` is a digit string or an event code (0-255)."""
    event = digit if isinstance(digit, int) else digit_to_event(digit)
    if not 0 <= event <= 255:
        raise ValueError(f"event code out of range: {event}")
    if not 0 <= volume <= 63:
        raise ValueError(f"volume out of range (0-63): {volume}")
    if not 0 <= duration <= MAX_DURATION:
        raise ValueError(f"duration out of range (0-65535): {duration}")
    return struct.pack("!BBH", event, (0x80 if end else 0) | volume, duration)


def decode_event(payload: bytes) -> TelephoneEvent:
    """Parses the first event of a payload (the R bit is ignored). Raises ValueError if short."""
    if len(payload) < 4:
        raise ValueError("telephone-event payload shorter than 4 bytes")
    event, flags, duration = struct.unpack_from("!BBH", payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


# --------------------------------------------------------------------------------------------
# Sender
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DtmfPacket:
    payload: bytes
    timestamp: int  # RTP timestamp: the start of the event (segment), the same for all its packets
    marker: bool  # set on the first packet of an event
    end: bool  # E bit (the final packet, sent three times)


@dataclass
class _Outgoing:
    event: int
    units: int  # total duration, in timestamp units
    start: int | None = None  # RTP timestamp of the current segment
    elapsed: int = 0  # units sent in the current segment
    sent_before: int = 0  # units covered by earlier segments
    end_sent: int = 0


class DtmfSender:
    """Sends digits as RFC 4733 events, driven by the stream's 20 ms send clock.

    ``send("123")`` queues digits; then on every tick the stream calls ``tick(timestamp)`` with
    the RTP timestamp it would give an audio packet now, and sends the returned packets (zero or
    one per tick). For a 100 ms digit at 8 kHz, ticks 0-6 give: start packet (marker, duration
    160), updates 320, 480, 640, then the end packet (E bit, duration 800) three times (§2.5.1.4).
    All carry the timestamp of tick 0. ``gap_ms`` of silence (no packets) separates digits.
    While ``in_event`` is true the stream should not send audio packets (§2.5.1.2 allows either;
    not sending avoids the receiver playing both). Events longer than 65535 units (1.36 s at
    48 kHz) are cut into segments (§2.5.1.3).
    """

    def __init__(
        self,
        *,
        clock_rate: int = 8000,
        duration_ms: int = DEFAULT_DURATION_MS,
        volume: int = DEFAULT_VOLUME,
        packet_ms: int = 20,
        gap_ms: int = DEFAULT_GAP_MS,
        end_repeats: int = 3,
    ) -> None:
        self.clock_rate = clock_rate
        self.duration_ms = duration_ms
        self.volume = volume
        self.packet_units = clock_rate * packet_ms // 1000
        self.gap_ticks = math.ceil(gap_ms / packet_ms)
        self.end_repeats = end_repeats
        self._queue: deque[_Outgoing] = deque()
        self._current: _Outgoing | None = None
        self._gap = 0

    @property
    def busy(self) -> bool:
        """Digits are being sent or wait to be sent (gaps included)."""
        return self._current is not None or bool(self._queue) or self._gap > 0

    @property
    def in_event(self) -> bool:
        """An event is being sent (from its start packet to its last end packet)."""
        return self._current is not None

    def send(self, digits: str, duration_ms: int | None = None) -> None:
        """Queues digits (``0-9 * # A-D !``); raises ValueError on anything else, queuing none."""
        ms = self.duration_ms if duration_ms is None else duration_ms
        units = max(self.packet_units, ms * self.clock_rate // 1000)
        events = [digit_to_event(d) for d in digits if not d.isspace()]
        self._queue.extend(_Outgoing(e, units) for e in events)

    def cancel(self) -> None:
        """Drops queued digits; an event in progress still ends properly (end packets)."""
        self._queue.clear()

    def tick(self, timestamp: int) -> list[DtmfPacket]:
        if self._current is None:
            if self._gap > 0:
                self._gap -= 1
                return []
            if not self._queue:
                return []
            self._current = self._queue.popleft()
        ev = self._current
        marker = False
        if ev.start is None:
            ev.start = timestamp & 0xFFFFFFFF
            marker = ev.sent_before == 0
        remaining = ev.units - ev.sent_before
        if ev.end_sent == 0 and ev.elapsed + self.packet_units < min(remaining, MAX_DURATION + 1):
            ev.elapsed += self.packet_units
            return [self._packet(ev, ev.elapsed, marker, end=False)]
        if remaining > MAX_DURATION and ev.end_sent == 0:
            # close this segment at 0xFFFF and go on with a new one (RFC 4733 §2.5.1.3)
            packet = self._packet(ev, MAX_DURATION, marker, end=False)
            ev.sent_before += MAX_DURATION
            ev.start = (ev.start + MAX_DURATION) & 0xFFFFFFFF
            ev.elapsed = 0
            return [packet]
        ev.elapsed = remaining
        ev.end_sent += 1
        packet = self._packet(ev, remaining, marker, end=True)
        if ev.end_sent >= self.end_repeats:
            self._current = None
            self._gap = self.gap_ticks
        return [packet]

    def _packet(self, ev: _Outgoing, duration: int, marker: bool, *, end: bool) -> DtmfPacket:
        assert ev.start is not None
        payload = encode_event(ev.event, self.volume, duration, end)
        return DtmfPacket(payload, ev.start, marker, end)


# --------------------------------------------------------------------------------------------
# Receiver
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DtmfDigit:
    digit: str
    event: int
    timestamp: int  # RTP timestamp of the event
    volume: int


@dataclass
class _Incoming:
    event: int
    timestamp: int
    duration: int
    ended: bool


def _ts_diff(a: int, b: int) -> int:
    """Signed ``a - b`` for 32-bit RTP timestamps."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


class DtmfReceiver:
    """Turns received telephone-event packets into digits, each exactly once (RFC 4733 §2.5.2).

    An event is identified by its RTP timestamp: the first packet seen with a new timestamp
    reports the digit, whether it is the start packet, an update (start lost) or an end packet
    (all others lost); further packets of the event (updates, the repeated end packets) only update
    it. Packets with a timestamp older than the current event's (reordered stragglers) are
    ignored, and so is a new segment of a long event (§2.5.1.3: same event, timestamp = previous
    timestamp + previous duration, previous segment not ended). Events that are not DTMF
    (codes above 16) are ignored. ``last_duration_ms`` gives the length of the latest event.
    """

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate
        self._current: _Incoming | None = None
        self._last_seq: int | None = None

    @property
    def last_duration_ms(self) -> float:
        return 0.0 if self._current is None else self._current.duration * 1000.0 / self.clock_rate

    @property
    def in_event(self) -> bool:
        """An event has started and its end packet has not been seen."""
        return self._current is not None and not self._current.ended

    def feed(self, payload: bytes, timestamp: int, seq: int | None = None) -> DtmfDigit | None:
        try:
            ev = decode_event(payload)
        except ValueError:
            return None
        digit = event_to_digit(ev.event)
        if digit is None:
            return None
        timestamp &= 0xFFFFFFFF
        if seq is not None:
            if seq == self._last_seq:
                return None  # a duplicated packet
            self._last_seq = seq
        cur = self._current
        if cur is not None:
            if timestamp == cur.timestamp:
                cur.duration = max(cur.duration, ev.duration)
                cur.ended = cur.ended or ev.end
                return None
            if _ts_diff(timestamp, cur.timestamp) < 0:
                return None  # straggler from an older event
            if (
                not cur.ended
                and ev.event == cur.event
                and cur.duration >= MAX_DURATION
                and timestamp == (cur.timestamp + cur.duration) & 0xFFFFFFFF
            ):
                cur.timestamp = timestamp  # next segment of a long event
                cur.duration = ev.duration
                cur.ended = ev.end
                return None
        self._current = _Incoming(ev.event, timestamp, ev.duration, ev.end)
        return DtmfDigit(digit, ev.event, timestamp, ev.volume)


# --------------------------------------------------------------------------------------------
# In-band tones
# --------------------------------------------------------------------------------------------


def dtmf_tone(
    digit: str,
    duration_ms: float = DEFAULT_DURATION_MS,
    *,
    rate: int = RATE,
    level_dbfs: float = -12.0,
    ramp_ms: float = 2.0,
) -> Int16Array:
    """The dual tone of a digit (``0-9 * # A-D``), each tone at ``level_dbfs`` (RMS), with raised
    cosine ramps of ``ramp_ms`` at both ends so that it starts and stops without a click."""
    d = digit.strip().upper()
    if d not in DTMF_FREQUENCIES:
        raise ValueError(f"no DTMF tone for {digit!r}")
    low, high = DTMF_FREQUENCIES[d]
    n = int(round(duration_ms * rate / 1000.0))
    t = np.arange(n) / rate
    amp = 32768.0 * math.sqrt(2.0) * 10.0 ** (level_dbfs / 20.0)
    x = amp * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t))
    ramp = min(int(round(ramp_ms * rate / 1000.0)), n // 2)
    if ramp > 0:
        w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)
        x[:ramp] *= w
        x[n - ramp :] *= w[::-1]
    return to_int16(x)


class DtmfToneGenerator:
    """Frame source for in-band DTMF: ``send("12")`` then ``read()`` every 20 ms.

    ``read`` returns the next frame (tone, or the silent gap after a tone) while ``busy``, and
    ``None`` when there is nothing to play (the caller sends its normal audio).
    """

    def __init__(
        self,
        *,
        rate: int = RATE,
        frame_samples: int = FRAME_SAMPLES,
        duration_ms: float = DEFAULT_DURATION_MS,
        gap_ms: float = DEFAULT_GAP_MS,
        level_dbfs: float = -12.0,
    ) -> None:
        self.rate = rate
        self.frame_samples = frame_samples
        self.duration_ms = duration_ms
        self.gap_ms = gap_ms
        self.level_dbfs = level_dbfs
        self._pending: deque[Int16Array] = deque()
        self._buffer: Int16Array = np.zeros(0, dtype=np.int16)

    @property
    def busy(self) -> bool:
        return bool(self._pending) or len(self._buffer) > 0

    def send(self, digits: str) -> None:
        tones = [
            dtmf_tone(d, self.duration_ms, rate=self.rate, level_dbfs=self.level_dbfs)
            for d in digits
            if not d.isspace()
        ]
        gap = np.zeros(int(round(self.gap_ms * self.rate / 1000.0)), dtype=np.int16)
        for tone in tones:
            self._pending.append(np.concatenate((tone, gap)))

    def read(self) -> Int16Array | None:
        while len(self._buffer) < self.frame_samples and self._pending:
            self._buffer = np.concatenate((self._buffer, self._pending.popleft()))
        if len(self._buffer) == 0:
            return None
        frame = np.zeros(self.frame_samples, dtype=np.int16)
        n = min(self.frame_samples, len(self._buffer))
        frame[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return frame


def goertzel_power(samples: npt.ArrayLike, freq: float, rate: int = RATE) -> float:
    """Power of the ``freq`` component of ``samples``: ``(2|X(f)|/N)^2 / 2``, i.e. the mean
    power of a sine of that frequency (and a sine of amplitude A gives A^2/2).

    This is the quantity the Goertzel recursion computes; it is evaluated here as the equivalent
    single-bin DFT, which numpy vectorises.
    """
    return float(goertzel_powers(samples, (freq,), rate)[0])


def goertzel_powers(samples: npt.ArrayLike, freqs: tuple[float, ...], rate: int = RATE) -> FloatArray:
    x = np.asarray(samples, dtype=np.float64).ravel()
    n = len(x)
    if n == 0:
        return np.zeros(len(freqs))
    t = np.arange(n) / rate
    basis = np.exp(-2j * np.pi * np.outer(np.asarray(freqs), t))
    spectrum = basis @ x
    amplitude = 2.0 * np.abs(spectrum) / n
    result: FloatArray = amplitude**2 / 2.0
    return result


_ALL_FREQUENCIES = ROW_FREQUENCIES + COL_FREQUENCIES
_KEYPAD = ("123A", "456B", "789C", "*0#D")


def detect_dtmf(
    frame: npt.ArrayLike,
    rate: int = RATE,
    *,
    min_level_dbfs: float = -40.0,
    max_twist_db: float = 8.0,
    min_tone_ratio: float = 0.7,
) -> str | None:
    """The DTMF digit present in ``frame`` (best with 20-40 ms), or None.

    A digit needs: one row and one column tone each above ``min_level_dbfs`` (RMS), within
    ``max_twist_db`` of each other, each at least 10 dB above the other tones of its group, and
    together holding at least ``min_tone_ratio`` of the frame's power (rejects speech).
    """
    x = np.asarray(frame, dtype=np.float64).ravel()
    if len(x) == 0:
        return None
    powers = goertzel_powers(x, _ALL_FREQUENCIES, rate)
    rows, cols = powers[:4], powers[4:]
    r, c = int(np.argmax(rows)), int(np.argmax(cols))
    pr, pc = float(rows[r]), float(cols[c])
    floor = (32768.0 * 10.0 ** (min_level_dbfs / 20.0)) ** 2
    if pr < floor or pc < floor:
        return None
    if abs(10.0 * math.log10(pr / pc)) > max_twist_db:
        return None
    if np.sort(rows)[-2] * 10.0 > pr or np.sort(cols)[-2] * 10.0 > pc:
        return None
    total = float(np.mean(x * x))
    if pr + pc < min_tone_ratio * total:
        return None
    return _KEYPAD[r][c]


class DtmfDetector:
    """Streaming in-band detector: ``feed`` each frame; a digit is reported once, when it has been
    present in ``min_frames`` consecutive frames (2 x 20 ms = 40 ms, the ITU-T Q.24 minimum), and
    again only after a frame without it."""

    def __init__(self, rate: int = RATE, min_frames: int = 2) -> None:
        self.rate = rate
        self.min_frames = min_frames
        self._candidate: str | None = None
        self._count = 0
        self._reported = False

    def feed(self, frame: npt.ArrayLike) -> str | None:
        digit = detect_dtmf(frame, self.rate)
        if digit is None or digit != self._candidate:
            self._candidate = digit
            self._count = 1 if digit is not None else 0
            self._reported = False
        else:
            self._count += 1
        if digit is not None and not self._reported and self._count >= self.min_frames:
            self._reported = True
            return digit
        return None


def tone_frames(x: Int16Array, frame_samples: int = FRAME_SAMPLES) -> list[Int16Array]:
    """Cuts a signal into whole frames, padding the last one with silence."""
    n = -(-len(x) // frame_samples) * frame_samples
    padded = np.zeros(n, dtype=np.int16)
    padded[: len(x)] = x
    return [padded[i : i + frame_samples] for i in range(0, n, frame_samples)]


__all__ = [
    "DIGITS",
    "DTMF_FREQUENCIES",
    "FLASH",
    "DtmfDetector",
    "DtmfDigit",
    "DtmfPacket",
    "DtmfReceiver",
    "DtmfSender",
    "DtmfToneGenerator",
    "TelephoneEvent",
    "decode_event",
    "detect_dtmf",
    "digit_to_event",
    "dtmf_tone",
    "encode_event",
    "event_to_digit",
    "goertzel_power",
    "goertzel_powers",
    "tone_frames",
]
