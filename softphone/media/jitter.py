"""Adaptive jitter buffer with loss detection (pure: fed arrival times, no clock of its own).

``put`` is called for each received RTP packet of the audio payload type with its arrival time;
the playout clock calls ``pop(now)`` every 20 ms (``now`` and ``arrival`` on the same clock, in
seconds, e.g. ``loop.time()``). ``pop`` returns the payload to decode, ``"lost"`` when the caller
must conceal one frame, or ``None`` when there is nothing to play (buffering, silence between
talk spurts, or the peer stopped sending: play silence or comfort noise).

How it works
------------
*Delay model.* Each packet's relative transit ``d = arrival - timestamp / clock_rate`` is kept for
the last ``window_s`` seconds. The smallest ``d`` in the window (``base``) is the transit of the
fastest packets; ``d - base`` is how late a packet is compared to them. The target delay is the
99th percentile of ``d - base`` over the window, clamped to ``[min_delay_ms, max_delay_ms]``, so
that about 1% of packets or fewer miss their playout time. The interarrival jitter of RFC 3550
§6.4.1 is computed too and reported as ``jitter_ms`` (for RTCP; for the uniform delay
distribution of the tests the target is about 3 times it). Because the window minimum moves with
the peer's clock, a peer whose clock runs fast or slow (drift) is followed as well.

*Playout.* Playing starts when the first packet's playout delay ``P = now - timestamp/clock -
base`` reaches the target (for the very first packet: once it has waited the target delay).
Afterwards every pop plays the next 20 ms slot of the RTP timeline (``timestamp_step``); packets
are ordered by their (unwrapped, 32-bit) timestamp and numbered by their unwrapped 16-bit
sequence number. ``P`` for the current slot is the buffering delay an on-time packet gets; it is
reported as ``current_delay_ms``.

*Missing packet at its slot.*
- a later packet is buffered and sequence numbers are missing before it: if the slot is past its
  deadline (``P >= target``) the packet is declared lost (``"lost"``; ``lost`` counts it when the
  next packet is played); if not, the buffer waits one frame for it (``"lost"`` too, the caller
  conceals, but the timeline does not move: the delay grows by one frame);
- a later packet is buffered and no sequence number is missing: this is a gap in the timestamps
  (silence suppression / DTX): ``None`` is returned and playout restarts at the next packet's
  ideal time (the marker bit is not needed but a new talk spurt is handled that way);
- nothing is buffered (underrun): ``"lost"`` for up to three frames (60 ms, when concealment
  has faded out), then ``None`` and re-buffering: the next packet starts playing at its ideal
  time (immediately if it is a delayed continuation, after the target delay if it is on time).
  During those three frames, a slot past its deadline is given up (a packet for it arriving
  later is late), one before its deadline is waited for (the delay grows by one frame).

*Delay control* (adaptation happens during speech too, since G.711 peers send continuously):
- when the target rises above ``P`` the buffer inserts a frame (``"lost"``; at most one every
  100 ms) so that ``P`` catches up;
- when ``P`` has stayed above ``target + 30 ms`` for 5 pops (100 ms) one frame is dropped
  (``dropped_for_latency``); so at most one frame in five is dropped and an excess of 500 ms is gone
  in 2.5 s. If an ``is_silent(payload)`` callback is given, frames it accepts are dropped first; a
  non-silent frame is dropped only after 1 s of waiting for a silent one;
- if ``P`` exceeds ``max_delay_ms`` by more than two frames (say, a burst of packets after a
  network stall) the buffer skips straight to the packet whose ``P`` is closest to the target.

Packets of the same RTP stream that are not audio (telephone-events, comfort noise) share the
sequence numbers: give their sequence numbers to ``skip`` so that they do not count as losses.

Late packets (their slot has been played or declared lost) are counted in ``late`` and dropped,
but their transit still feeds the delay estimate. A lost packet that arrives later is counted in
both ``lost`` and ``late``. Duplicates are counted and dropped. A packet whose timing is off by
more than 3 s from the stream's, or whose sequence number jumps by more than 3000, restarts the
buffer (the peer restarted its stream); so does a marker-bit packet whose timing moved by more than
``max_delay_ms`` (for the delay estimate only). Call ``reset`` when the SSRC changes.

Assumes the peer sends one packet per ``timestamp_step`` (ptime 20) while it talks.

Not thread-safe: call ``put`` and ``pop`` from one thread (the event loop).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

LOST: Literal["lost"] = "lost"
PopResult = bytes | None | Literal["lost"]

RESTART_TIMING_S = 3.0
RESTART_SEQ_JUMP = 3000
MAX_UNDERRUN_FRAMES = 3
CONTROL_POPS = 5  # pops a condition must hold before inserting or dropping (100 ms)
DROP_MARGIN_S = 0.010  # drop when P > target + one frame + this
SKIP_MARGIN_S = 0.040  # skip ahead when P > max_delay + this
SILENT_DROP_WAIT_POPS = 50  # with is_silent: wait up to 1 s for a silent frame to drop
TARGET_QUANTILE = 0.99
MAX_PACKETS = 1000  # hard cap on buffered packets (20 s of 20 ms frames)


@dataclass(frozen=True)
class JitterStats:
    target_delay_ms: float  # delay the buffer aims for (percentile of recent lateness)
    current_delay_ms: float  # buffering delay of an on-time packet at the last pop (P)
    buffered_ms: float  # audio currently queued (from the next slot to the newest packet)
    jitter_ms: float  # RFC 3550 interarrival jitter
    received: int  # packets given to put (including duplicates and late ones)
    late: int  # arrived after their slot had been played or declared lost
    lost: int  # sequence numbers missing at playout time
    concealed: int  # pops that returned "lost" (losses, waits for late packets, inserted frames)
    duplicates: int
    dropped_for_latency: int  # frames thrown away to bring the delay down

    @property
    def delay_ms(self) -> float:
        """The target delay (name used by docs/MEDIA.md)."""
        return self.target_delay_ms


@dataclass
class _Packet:
    seq: int  # unwrapped
    timestamp: int  # unwrapped
    payload: bytes
    arrival: float
    marker: bool


def _quantile(ordered: list[float], q: float) -> float:
    """``numpy.quantile(ordered, q)`` (method "linear", same arithmetic) of a sorted list.

    The jitter buffer keeps its window sorted, so the quantile costs O(1) instead of a numpy
    partition of the whole window at every packet.
    """
    n = len(ordered)
    index = (n - 1) * q
    if index >= n - 1:
        return ordered[-1]
    below = math.floor(index)
    a, b = ordered[below], ordered[below + 1]
    t = index - below
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def _unwrap(value: int, reference: int, bits: int) -> int:
    """The unwrapped value nearest to ``reference`` whose low ``bits`` bits are ``value``."""
    modulus = 1 << bits
    half = modulus >> 1
    return reference + ((value - reference + half) % modulus) - half


class JitterBuffer:
    """Adaptive playout buffer for one RTP audio stream (see the module documentation)."""

    def __init__(
        self,
        *,
        timestamp_step: int,
        clock_rate: int,
        min_delay_ms: float = 20,
        max_delay_ms: float = 200,
        window_s: float = 2.0,
        is_silent: Callable[[bytes], bool] | None = None,
    ) -> None:
        if timestamp_step <= 0 or clock_rate <= 0:
            raise ValueError("timestamp_step and clock_rate must be positive")
        if not 0 <= min_delay_ms <= max_delay_ms:
            raise ValueError("need 0 <= min_delay_ms <= max_delay_ms")
        self.timestamp_step = timestamp_step
        self.clock_rate = clock_rate
        self.min_delay = min_delay_ms / 1000.0
        self.max_delay = max_delay_ms / 1000.0
        self.window_s = window_s
        self.is_silent = is_silent
        self._frame_s = timestamp_step / clock_rate
        # counters
        self._received = 0
        self._late = 0
        self._lost = 0
        self._concealed = 0
        self._duplicates = 0
        self._dropped = 0
        self._jitter = 0.0
        self._current_delay = 0.0
        # stream state (see _reset_stream)
        self._packets: dict[int, _Packet] = {}  # by unwrapped timestamp
        self._seen: set[int] = set()  # recent unwrapped sequence numbers, for duplicates
        self._seen_order: deque[int] = deque()
        self._max_seq: int | None = None
        self._max_ts: int | None = None
        self._expected_seq: int | None = None  # the sequence number after the last one played
        self._other_seqs: set[int] = set()  # unwrapped sequence numbers of non-audio packets
        self._next_ts: int | None = None  # the slot the next pop plays
        self._skipped = 0  # slots declared lost since the last packet left the buffer
        self._playing = False
        self._underruns = 0
        self._window: deque[tuple[float, float]] = deque()  # (arrival, transit)
        self._window_min: deque[tuple[float, float]] = deque()  # monotonic, for the window minimum
        self._sorted_transits: list[float] = []  # the window's transits, sorted (for the quantile)
        self._last_transit: float | None = None
        self._target = self.min_delay
        self._target_dirty = False
        self._p_history: deque[float] = deque(maxlen=CONTROL_POPS)  # P at the last pops
        self._pops_since_control = 0  # pops since the last insert or drop
        self._drop_wait = 0  # pops the buffer has been too full (waiting for a silent frame)

    # -- public ---------------------------------------------------------------------------

    @property
    def stats(self) -> JitterStats:
        buffered = 0.0
        if self._packets:
            newest = max(self._packets)
            oldest = self._next_ts if self._playing and self._next_ts is not None else min(self._packets)
            buffered = max(0, newest + self.timestamp_step - oldest) / self.clock_rate
        return JitterStats(
            target_delay_ms=self._target * 1000.0,
            current_delay_ms=self._current_delay * 1000.0,
            buffered_ms=buffered * 1000.0,
            jitter_ms=self._jitter * 1000.0,
            received=self._received,
            late=self._late,
            lost=self._lost,
            concealed=self._concealed,
            duplicates=self._duplicates,
            dropped_for_latency=self._dropped,
        )

    @property
    def playing(self) -> bool:
        """True while playing a talk spurt; False while (re-)buffering."""
        return self._playing

    def reset(self) -> None:
        """Forget the stream (e.g. the peer's SSRC changed); counters are kept."""
        self._reset_stream()

    def skip(self, seq: int) -> None:
        """Sequence number ``seq`` of this RTP stream carried something else than audio
        (telephone-event, comfort noise): its absence from the buffer is not a loss."""
        reference = self._max_seq if self._max_seq is not None else self._expected_seq
        if reference is None:
            return
        ext = _unwrap(seq & 0xFFFF, reference, 16)
        if self._expected_seq is None or ext >= self._expected_seq:
            self._other_seqs.add(ext)
            if len(self._other_seqs) > 4096:
                self._other_seqs.discard(min(self._other_seqs))

    def put(self, seq: int, timestamp: int, payload: bytes, arrival: float, marker: bool = False) -> None:
        self._received += 1
        seq &= 0xFFFF
        timestamp &= 0xFFFFFFFF
        if self._max_seq is None or self._max_ts is None:
            ext_seq, ext_ts = seq, timestamp
        else:
            ext_seq = _unwrap(seq, self._max_seq, 16)
            ext_ts = _unwrap(timestamp, self._max_ts, 32)
            transit = arrival - ext_ts / self.clock_rate
            base = self._base()
            if abs(ext_seq - self._max_seq) > RESTART_SEQ_JUMP or (
                base is not None and abs(transit - base) > RESTART_TIMING_S
            ):
                self._reset_stream()
                ext_seq, ext_ts = seq, timestamp
        if ext_seq in self._seen:
            self._duplicates += 1
            return
        base = self._base()
        if marker and base is not None and abs(arrival - ext_ts / self.clock_rate - base) > self.max_delay:
            # a new talk spurt whose timing moved (the peer's timestamps jumped): re-learn the delay
            self._window.clear()
            self._window_min.clear()
            self._sorted_transits.clear()
            self._last_transit = None
        self._remember_seq(ext_seq)
        self._observe(arrival, ext_ts)
        if self._max_seq is None or ext_seq > self._max_seq:
            self._max_seq = ext_seq
        if self._max_ts is None or ext_ts > self._max_ts:
            self._max_ts = ext_ts
        if (
            marker
            and not self._playing
            and self._next_ts is not None
            and ext_ts < self._next_ts
            and (self._expected_seq is None or ext_seq >= self._expected_seq)
        ):
            self._next_ts = None  # a new talk spurt whose timestamps went back: follow them
        if (self._expected_seq is not None and ext_seq < self._expected_seq) or (
            self._next_ts is not None and ext_ts < self._next_ts
        ):
            self._late += 1
            return
        if ext_ts in self._packets:  # same timestamp, another sequence number: keep the first
            self._duplicates += 1
            return
        self._packets[ext_ts] = _Packet(ext_seq, ext_ts, payload, arrival, marker)
        if len(self._packets) > MAX_PACKETS:
            self._dropped += 1
            self._consume(self._packets.pop(min(self._packets)))

    def pop(self, now: float) -> PopResult:
        """The next 20 ms: a payload to decode, ``"lost"`` (conceal one frame) or ``None``."""
        base = self._base()
        if base is None:
            return None
        self._update_target()
        if not self._playing:
            if not self._packets:
                return None
            first = self._packets[min(self._packets)]
            if self._delay(now, first.timestamp, base) < self._target:
                return None
            self._start(first)
        p = self._delay(now, self._slot(), base)
        self._p_history.append(p)
        self._pops_since_control += 1
        if p > self.max_delay + SKIP_MARGIN_S and self._packets:
            self._skip_to_target(now, base)
            p = self._delay(now, self._slot(), base)
        head = self._packets.get(self._slot())
        if head is not None and self._should_drop(head):
            del self._packets[head.timestamp]
            self._dropped += 1
            self._consume(head)
            self._advance()
            self._pops_since_control = 0
            self._drop_wait = 0
            head = self._packets.get(self._slot())
        if head is None:
            return self._missing(p)
        if self._should_insert():
            self._pops_since_control = 0
            return self._conceal()
        del self._packets[head.timestamp]
        self._consume(head)
        self._advance()
        self._underruns = 0
        self._current_delay = p
        return head.payload

    # -- playout decisions ------------------------------------------------------------------

    def _missing(self, p: float) -> PopResult:
        if self._packets:
            self._underruns = 0
            nxt = self._packets[min(self._packets)]
            expected = nxt.seq if self._expected_seq is None else self._expected_seq
            if self._audio_seqs_between(expected, nxt.seq) > self._skipped:
                if p < self._target:
                    return self._conceal()  # may still arrive in time: wait one frame
                self._skipped += 1
                self._advance()
                return self._conceal()
            # no sequence number missing: a gap in the timestamps (DTX, silence suppression)
            self._playing = False
            return None
        self._underruns += 1
        if self._underruns > MAX_UNDERRUN_FRAMES:
            self._playing = False
            return None
        if p >= self._target:
            # past its deadline: most likely lost (a late arrival will be counted late)
            self._skipped += 1
            self._advance()
        return self._conceal()

    def _should_drop(self, head: _Packet) -> bool:
        if len(self._p_history) < CONTROL_POPS or self._pops_since_control < CONTROL_POPS:
            return False
        if min(self._p_history) <= self._target + self._frame_s + DROP_MARGIN_S:
            self._drop_wait = 0
            return False
        self._drop_wait += 1
        if self.is_silent is None or self.is_silent(head.payload):
            return True
        return self._drop_wait >= SILENT_DROP_WAIT_POPS

    def _should_insert(self) -> bool:
        if len(self._p_history) < CONTROL_POPS or self._pops_since_control < CONTROL_POPS:
            return False
        return max(self._p_history) < self._target

    def _skip_to_target(self, now: float, base: float) -> None:
        """Jump to the buffered packet whose delay is closest to (not below) the target."""
        chosen = None
        for ts in sorted(self._packets):
            if self._delay(now, ts, base) < self._target:
                break
            chosen = ts
        if chosen is None or chosen <= self._slot():
            return
        for ts in sorted(t for t in self._packets if t < chosen):
            self._dropped += 1
            self._consume(self._packets.pop(ts))
        self._next_ts = chosen
        self._p_history.clear()
        self._pops_since_control = 0

    def _start(self, head: _Packet) -> None:
        self._playing = True
        self._next_ts = head.timestamp
        self._underruns = 0
        self._skipped = 0
        self._p_history.clear()
        self._pops_since_control = 0

    def _audio_seqs_between(self, first: int, end: int) -> int:
        """Sequence numbers in ``[first, end)`` not used by other payload types."""
        others = sum(1 for s in self._other_seqs if first <= s < end)
        return max(0, end - first - others)

    def _slot(self) -> int:
        assert self._next_ts is not None, "not started"
        return self._next_ts

    def _advance(self) -> None:
        self._next_ts = self._slot() + self.timestamp_step

    def _consume(self, packet: _Packet) -> None:
        """``packet`` leaves the buffer in order: sequence numbers skipped before it were lost."""
        if self._expected_seq is not None and packet.seq > self._expected_seq:
            self._lost += self._audio_seqs_between(self._expected_seq, packet.seq)
        self._expected_seq = packet.seq + 1
        if self._other_seqs:
            self._other_seqs = {s for s in self._other_seqs if s > packet.seq}
        self._skipped = 0

    def _conceal(self) -> PopResult:
        self._concealed += 1
        return LOST

    def _delay(self, now: float, ts: int, base: float) -> float:
        """Playout delay ``P`` of slot ``ts`` at ``now`` (plus 1 us against float rounding)."""
        return now - ts / self.clock_rate - base + 1e-6

    # -- delay estimation -------------------------------------------------------------------

    def _observe(self, arrival: float, ext_ts: int) -> None:
        transit = arrival - ext_ts / self.clock_rate
        if self._last_transit is not None:
            self._jitter += (abs(transit - self._last_transit) - self._jitter) / 16.0
        self._last_transit = transit
        window = self._window
        window.append((arrival, transit))
        ordered = self._sorted_transits
        bisect.insort(ordered, transit)
        while window and window[0][0] < arrival - self.window_s:
            del ordered[bisect.bisect_left(ordered, window.popleft()[1])]
        mins = self._window_min
        while mins and mins[-1][1] >= transit:
            mins.pop()
        mins.append((arrival, transit))
        while mins[0][0] < arrival - self.window_s:
            mins.popleft()
        self._target_dirty = True

    def _base(self) -> float | None:
        return self._window_min[0][1] if self._window_min else None

    def _update_target(self) -> None:
        if not self._target_dirty or not self._window:
            return
        self._target_dirty = False
        base = self._window_min[0][1]
        spread = _quantile(self._sorted_transits, TARGET_QUANTILE) - base
        self._target = min(self.max_delay, max(self.min_delay, spread))

    # -- state ------------------------------------------------------------------------------

    def _reset_stream(self) -> None:
        self._packets = {}
        self._seen = set()
        self._seen_order = deque()
        self._max_seq = None
        self._max_ts = None
        self._expected_seq = None
        self._other_seqs = set()
        self._next_ts = None
        self._skipped = 0
        self._playing = False
        self._underruns = 0
        self._window = deque()
        self._window_min = deque()
        self._sorted_transits = []
        self._last_transit = None
        self._target = self.min_delay
        self._target_dirty = False
        self._p_history = deque(maxlen=CONTROL_POPS)
        self._pops_since_control = 0
        self._drop_wait = 0

    def _remember_seq(self, ext_seq: int) -> None:
        self._seen.add(ext_seq)
        self._seen_order.append(ext_seq)
        if len(self._seen_order) > 2048:
            self._seen.discard(self._seen_order.popleft())
