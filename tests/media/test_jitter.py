"""Adaptive jitter buffer: simulated networks with a deterministic RNG (pure, no clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from softphone.media.jitter import JitterBuffer, JitterStats

FRAME = 0.020
STEP = 160  # PCMU: 160 timestamp units per 20 ms at 8000 Hz
RATE = 8000
BASE_DELAY = 0.040  # one-way network delay of the fastest packets

# jitter(k, send_time, rng) -> extra delay in seconds (None: the packet is lost)
Jitter = Callable[[int, float, np.random.Generator], float | None]


@dataclass
class Run:
    buffer: JitterBuffer
    sent: list[int]  # frame indexes sent (whether or not they arrive)
    arrived: set[int]
    results: list[tuple[float, int | str | None]] = field(default_factory=list)  # (now, k|"lost"|None)
    stats_log: list[tuple[float, JitterStats]] = field(default_factory=list)

    @property
    def played(self) -> list[int]:
        return [r for _, r in self.results if isinstance(r, int)]

    def stats_at(self, t: float) -> JitterStats:
        return min(self.stats_log, key=lambda e: abs(e[0] - t))[1]

    def between(self, t0: float, t1: float) -> list[JitterStats]:
        return [s for t, s in self.stats_log if t0 <= t < t1]


def simulate(
    seconds: float,
    jitter: Jitter | None = None,
    *,
    seed: int = 7,
    loss: float = 0.0,
    seq0: int = 1000,
    ts0: int = 123456,
    drift_ppm: float = 0.0,
    stop_after: float | None = None,
    duplicate: bool = False,
    pop_phase: float = 0.0073,
    timestamps: Callable[[int], int] | None = None,
    buffer: JitterBuffer | None = None,
    run_for: float | None = None,
) -> Run:
    """Sends one packet per 20 ms (of the sender's clock, ``drift_ppm`` fast) for ``seconds``;
    the receiver pops every 20 ms of its own clock and records what the buffer returns.
    Payloads are the frame index k, so the result says exactly which frame was played."""
    rng = np.random.default_rng(seed)
    jb = buffer or JitterBuffer(timestamp_step=STEP, clock_rate=RATE)
    arrivals: list[tuple[float, int]] = []
    sent: list[int] = []
    for k in range(int(round(seconds / FRAME))):
        send_time = k * FRAME / (1.0 + drift_ppm * 1e-6)
        if stop_after is not None and send_time >= stop_after:
            break
        sent.append(k)
        if rng.random() < loss:
            continue
        extra = jitter(k, send_time, rng) if jitter else 0.0
        if extra is None:
            continue
        arrivals.append((send_time + BASE_DELAY + extra, k))
        if duplicate:
            arrivals.append((send_time + BASE_DELAY + extra + 0.001, k))
    arrivals.sort()
    run = Run(jb, sent, {k for _, k in arrivals})
    end = (run_for if run_for is not None else seconds) + 1.0
    i = 0
    n = 0
    while (now := pop_phase + n * FRAME) < end:
        while i < len(arrivals) and arrivals[i][0] <= now:
            arrival, k = arrivals[i]
            ts = timestamps(k) if timestamps else ts0 + k * STEP
            jb.put((seq0 + k) & 0xFFFF, ts & 0xFFFFFFFF, k.to_bytes(4, "big"), arrival, marker=k == 0)
            i += 1
        r = jb.pop(now)
        run.results.append((now, int.from_bytes(r, "big") if isinstance(r, bytes) else r))
        run.stats_log.append((now, jb.stats))
        n += 1
    return run


def assert_in_order(run: Run) -> None:
    played = run.played
    assert played == sorted(played), "frames played out of order"
    assert len(played) == len(set(played)), "a frame was played twice"


def uniform(max_ms: float) -> Jitter:
    return lambda k, t, rng: float(rng.uniform(0.0, max_ms / 1000.0))


# --------------------------------------------------------------------------------------------


def test_nothing_to_play_before_the_first_packet() -> None:
    jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE)
    assert jb.pop(0.0) is None
    assert jb.stats.received == 0
    assert jb.stats.delay_ms == jb.stats.target_delay_ms == 20


def test_first_packet_waits_the_target_delay_then_plays() -> None:
    jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE, min_delay_ms=40)
    jb.put(1, 0, b"a", arrival=10.000)
    assert jb.pop(10.000) is None
    assert jb.pop(10.020) is None
    jb.put(2, 160, b"b", arrival=10.020)
    assert jb.pop(10.040) == b"a"
    assert jb.pop(10.060) == b"b"


def test_no_jitter_keeps_the_minimum_delay_and_loses_nothing() -> None:
    run = simulate(20.0)
    assert_in_order(run)
    assert run.played == run.sent
    final = run.stats_at(19.9)
    assert final.target_delay_ms == 20
    assert final.lost == final.late == final.concealed == final.dropped_for_latency == 0
    delays = [s.current_delay_ms for s in run.between(0.1, 20.0)]
    assert max(delays) <= 40  # added delay with no jitter: at most 40 ms
    assert min(delays) >= 20


@pytest.mark.parametrize("phase", [0.0, 0.005, 0.0199])
def test_no_jitter_delay_bound_holds_for_any_pop_phase(phase: float) -> None:
    run = simulate(5.0, pop_phase=phase)
    assert run.played == run.sent
    assert 20 <= run.stats_at(4.9).current_delay_ms <= 40


def test_30ms_jitter_grows_the_target_and_keeps_late_packets_under_one_percent() -> None:
    # one-way delay uniform in 40..115 ms: RFC 3550 interarrival jitter of about 30 ms
    run = simulate(30.0, uniform(75.0))
    assert_in_order(run)
    st = run.stats_at(29.9)
    assert 25 <= st.jitter_ms <= 38
    assert 60 <= st.target_delay_ms <= 90
    assert st.late / st.received < 0.01
    assert len(run.played) >= 0.99 * len(run.sent)
    # the delay follows the target (within the control band) once adapted
    for s in run.between(5.0, 30.0):
        assert s.target_delay_ms - 20 <= s.current_delay_ms <= s.target_delay_ms + 50


def test_small_jitter_gives_a_small_target() -> None:
    run = simulate(20.0, uniform(10.0))
    st = run.stats_at(19.9)
    assert st.target_delay_ms <= 25
    assert st.late == 0


def test_random_loss_is_reported_exactly_at_the_missing_frames() -> None:
    run = simulate(20.0, loss=0.10, seed=3)
    missing = [k for k in run.sent if k not in run.arrived]
    assert 70 <= len(missing) <= 130
    # the sequence of pops while playing, read as frames: lost ones are exactly the missing ones
    # (from the first frame that arrived: nothing can be known about frames before it)
    first = min(run.arrived)
    expected: list[int | str] = ["lost" if k in missing else k for k in run.sent if k >= first]
    stream = [r for _, r in run.results if r is not None][: len(expected)]
    if expected[-1] == "lost":  # a loss at the very end is seen as the stream stopping
        expected = expected[: len(expected) - 1]
        stream = stream[: len(expected)]
    assert stream == expected
    st = run.buffer.stats
    assert st.lost == len([k for k in missing if first < k < run.played[-1]])
    assert st.late == 0


def test_reordered_packets_are_played_in_sequence() -> None:
    def swap_pairs(k: int, t: float, rng: np.random.Generator) -> float:
        return 0.025 if k % 2 == 0 else 0.0  # every even frame arrives after the next odd one

    run = simulate(10.0, swap_pairs)
    assert_in_order(run)
    assert run.played == run.sent
    assert run.buffer.stats.lost == run.buffer.stats.late == 0


def test_sequence_number_wrap() -> None:
    run = simulate(4.0, uniform(20.0), seq0=65536 - 50)  # wraps after 50 frames
    assert_in_order(run)
    assert run.played == run.sent
    assert run.buffer.stats.lost == 0


def test_timestamp_wrap() -> None:
    run = simulate(4.0, uniform(20.0), ts0=(1 << 32) - 30 * STEP)  # wraps after 30 frames
    assert_in_order(run)
    assert run.played == run.sent


def test_timestamp_and_sequence_wrap_with_reordering_across_the_wrap() -> None:
    def reorder(k: int, t: float, rng: np.random.Generator) -> float:
        return 0.025 if k in (29, 49) else 0.0  # arrive after the next frame, before their turn

    run = simulate(4.0, reorder, seq0=65536 - 50, ts0=(1 << 32) - 30 * STEP)
    assert_in_order(run)
    assert run.played == run.sent


def test_duplicates_are_dropped_and_counted() -> None:
    run = simulate(5.0, duplicate=True)
    assert_in_order(run)
    assert run.played == run.sent
    assert run.buffer.stats.duplicates == len(run.sent)
    assert run.buffer.stats.received == 2 * len(run.sent)


def test_a_packet_after_its_playout_time_is_late_and_dropped() -> None:
    def one_very_late(k: int, t: float, rng: np.random.Generator) -> float:
        return 0.300 if k == 100 else 0.0

    run = simulate(5.0, one_very_late)
    assert 100 not in run.played
    assert_in_order(run)
    st = run.buffer.stats
    assert st.late == 1
    assert st.lost == 1  # it was missing when its turn came
    i = [r for _, r in run.results].index(99)
    assert run.results[i + 1][1] == "lost"
    assert run.results[i + 2][1] == 101


def test_delay_spike_then_normal_shrinks_back_within_a_few_seconds() -> None:
    def spike(k: int, t: float, rng: np.random.Generator) -> float:
        # the link stalls for 500 ms at t=5 s and then delivers everything at once
        return 5.5 - t if 5.0 <= t < 5.5 else 0.0

    run = simulate(15.0, spike)
    assert_in_order(run)
    assert max(s.current_delay_ms for s in run.between(1.0, 5.0)) <= 40
    assert max(s.current_delay_ms for s in run.between(5.5, 7.0)) >= 150  # it did grow
    after = run.between(9.0, 15.0)  # 3.5 s after the spike
    assert max(s.current_delay_ms for s in after) <= 60
    assert after[-1].target_delay_ms == 20
    # nothing but the stalled frames is lost
    assert run.buffer.stats.lost <= 5


def test_clock_drift_fast_peer_does_not_grow_the_buffer() -> None:
    run = simulate(60.0, drift_ppm=1000.0)  # 60 ms more audio than we play in 60 s
    assert_in_order(run)
    delays = [s.current_delay_ms for s in run.between(1.0, 60.0)]
    assert max(delays) <= 60
    st = run.buffer.stats
    assert 1 <= st.dropped_for_latency <= 4
    assert st.lost == st.late == 0


def test_clock_drift_slow_peer_keeps_playing() -> None:
    run = simulate(60.0, drift_ppm=-1000.0)
    assert_in_order(run)
    assert run.played == run.sent
    delays = [s.current_delay_ms for s in run.between(1.0, 60.0)]
    assert min(delays) >= 0
    assert max(delays) <= 60


def test_peer_stops_sending_gives_none_not_lost_forever() -> None:
    run = simulate(10.0, stop_after=2.0, run_for=10.0)
    assert run.played == run.sent
    after = [r for t, r in run.results if t > 2.2]
    assert after.count("lost") <= 3
    assert all(r is None for r in after[3:])


def test_talk_spurt_after_silence_restarts_without_losses() -> None:
    # DTX: frames 0-99, silence for 1 s (no packets, timestamps keep counting), frames 150-249;
    # sequence numbers stay contiguous
    def dtx_seq(k: int) -> int:
        return k if k < 100 else k - 50

    jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE)
    results: list[bytes | str | None] = []
    frames = [k for k in range(250) if not 100 <= k < 150]
    arrivals = sorted((k * FRAME + BASE_DELAY, k) for k in frames)
    i = 0
    for n in range(300):
        now = 0.0073 + n * FRAME
        while i < len(arrivals) and arrivals[i][0] <= now:
            k = arrivals[i][1]
            jb.put(dtx_seq(k), k * STEP, k.to_bytes(4, "big"), arrivals[i][0], marker=k in (0, 150))
            i += 1
        results.append(jb.pop(now))
    played = [int.from_bytes(r, "big") for r in results if isinstance(r, bytes)]
    assert played == frames
    assert jb.stats.lost == 0
    end_of_spurt = results.index((99).to_bytes(4, "big"))
    gap = results[end_of_spurt + 1 : end_of_spurt + 1 + 50]
    # the end of the first talk spurt looks like an underrun for up to 60 ms, then silence
    assert gap[:3] == ["lost"] * 3
    assert set(gap[3:]) == {None}
    assert 20 <= jb.stats.current_delay_ms <= 40


def test_buffer_grows_to_cover_a_sustained_jitter_increase() -> None:
    def rising(k: int, t: float, rng: np.random.Generator) -> float:
        return float(rng.uniform(0.0, 0.005 if t < 5.0 else 0.060))

    run = simulate(15.0, rising)
    assert_in_order(run)
    assert run.stats_at(4.9).target_delay_ms <= 25
    late = run.stats_at(14.9).target_delay_ms
    assert 45 <= late <= 70
    assert run.stats_at(14.9).current_delay_ms >= late - 20


def test_latency_drops_prefer_silent_frames_when_told_which_are_silent() -> None:
    silent = {k for k in range(2000) if k % 7 == 0}
    jb = JitterBuffer(
        timestamp_step=STEP, clock_rate=RATE, is_silent=lambda p: int.from_bytes(p, "big") in silent
    )
    run = simulate(20.0, drift_ppm=5000.0, buffer=jb)  # the peer sends 100 ms too much audio
    assert_in_order(run)
    dropped = set(run.sent) - set(run.played)
    assert jb.stats.lost == jb.stats.late == 0
    assert len(dropped) == jb.stats.dropped_for_latency >= 3
    assert dropped <= silent


def test_latency_drops_still_happen_when_nothing_is_silent() -> None:
    jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE, is_silent=lambda p: False)
    run = simulate(20.0, drift_ppm=5000.0, buffer=jb)
    assert jb.stats.dropped_for_latency >= 3
    assert max(s.current_delay_ms for s in run.between(1.0, 20.0)) <= 80


def test_new_stream_timing_restarts_the_buffer() -> None:
    jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE)
    out: list[bytes | str | None] = []
    now = 0.0
    for k in range(50):
        jb.put(k, k * STEP, b"old", now)
        out.append(jb.pop(now + 0.01))
        now += FRAME
    # the peer restarts with unrelated sequence numbers and timestamps
    for k in range(50):
        jb.put(40000 + k, 999999 + k * STEP, b"new", now)
        out.append(jb.pop(now + 0.01))
        now += FRAME
    assert out[-30:] == [b"new"] * 30
    assert jb.stats.lost == 0


def test_reset_forgets_the_stream_but_keeps_counters() -> None:
    jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE)
    jb.put(1, 0, b"x", 0.0)
    jb.put(1, 0, b"x", 0.0)
    jb.reset()
    assert jb.pop(1.0) is None
    assert jb.stats.duplicates == 1
    assert not jb.playing


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        JitterBuffer(timestamp_step=0, clock_rate=8000)
    with pytest.raises(ValueError):
        JitterBuffer(timestamp_step=160, clock_rate=8000, min_delay_ms=300, max_delay_ms=200)


def test_sequence_numbers_used_by_telephone_events_are_not_losses() -> None:
    # audio frames 0-99, then a DTMF event: 7 telephone-event packets take sequence numbers
    # 100-106 while no audio is sent for 140 ms, then audio again from frame 107 (seq 107)
    def run_with(skip: bool) -> JitterBuffer:
        jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE)
        for n in range(250):
            now = 0.0073 + n * FRAME
            for k in range(200):
                arrival = k * FRAME + BASE_DELAY
                if now - FRAME < arrival <= now:
                    if 100 <= k < 107:
                        if skip:
                            jb.skip(k)
                    else:
                        jb.put(k, k * STEP, b"audio", arrival)
            jb.pop(now)
        return jb

    assert run_with(skip=False).stats.lost == 7
    assert run_with(skip=True).stats.lost == 0


def test_new_talk_spurt_with_timestamps_going_back_is_followed() -> None:
    # some peers restart their timestamps at a talk spurt (marker bit) instead of keeping count
    jb = JitterBuffer(timestamp_step=STEP, clock_rate=RATE)
    played: list[bytes] = []
    for n in range(200):
        now = 0.0073 + n * FRAME
        k = n - 2  # frame sent at (k * 20 ms), arriving 40 ms later
        if 0 <= k < 50:
            jb.put(k, 100000 + k * STEP, b"first", k * FRAME + BASE_DELAY)
        elif 60 <= k < 150:  # 200 ms later, seq continues, timestamps restart 0.5 s back
            jb.put(k - 10, 100000 - 4000 + (k - 60) * STEP, b"second", k * FRAME + BASE_DELAY, marker=k == 60)
        r = jb.pop(now)
        if isinstance(r, bytes):
            played.append(r)
    assert played.count(b"first") == 50
    assert played.count(b"second") >= 85
    assert jb.stats.late <= 2
