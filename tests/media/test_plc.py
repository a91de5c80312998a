"""Packet loss concealment (G.711 Appendix I style pitch repetition)."""

from __future__ import annotations

import numpy as np
import pytest

from softphone.media.audio import level_dbfs
from softphone.media.plc import Concealer, find_pitch


def voiced(f0: float, seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """A voiced-speech-like signal: 11 harmonics of a slowly wandering f0 (+-3%), -6 dB/harmonic."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f = f0 * (1.0 + 0.03 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f) / rate
    x = sum(0.5**k * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) for k in range(1, 12))
    return np.asarray(x / np.max(np.abs(x)) * 12000.0)


def run(x: np.ndarray, rate: int, lost: set[int]) -> tuple[np.ndarray, Concealer]:
    plc = Concealer(rate)
    n = plc.frame_samples
    out = [plc.conceal() if i in lost else plc.good(x[i * n : (i + 1) * n]) for i in range(len(x) // n)]
    return np.concatenate(out).astype(np.float64), plc


def snr_db(ref: np.ndarray, test: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - test) ** 2), 1e-9)))


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("f0", [120.0, 150.0, 173.0, 200.0])
def test_concealment_is_much_closer_to_the_original_than_silence(rate: int, f0: float) -> None:
    x = voiced(f0, 1.0, rate)
    n = rate // 50
    lost = {i for i in range(len(x) // n) if i % 10 == 5}  # 1 frame in 10
    out, _ = run(x, rate, lost)
    concealed = [snr_db(x[i * n : (i + 1) * n], out[i * n : (i + 1) * n]) for i in sorted(lost)]
    # silence substitution scores exactly 0 dB on every lost frame
    assert np.mean(concealed) > 12.0
    assert min(concealed) > 6.0


@pytest.mark.parametrize("rate", [8000, 48000])
def test_good_frames_pass_unchanged_when_nothing_is_lost(rate: int) -> None:
    x = np.round(voiced(150.0, 0.2, rate))
    out, _ = run(x, rate, set())
    assert np.array_equal(out, x[: len(out)])


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
@pytest.mark.parametrize("f0", [120.0, 137.0, 190.0])
def test_no_click_at_the_edges_of_a_loss(rate: int, f0: float) -> None:
    x = voiced(f0, 1.0, rate, seed=int(f0))  # pitch period not a whole number of samples
    lost = {12, 30, 31, 40, 41, 42}
    out, _ = run(x, rate, lost)
    n = rate // 50
    # neither a step (first difference) nor a kink (second difference) at the junctions larger
    # than the real signal has around there
    d1, d1_ref = np.abs(np.diff(out)), np.abs(np.diff(x))
    d2, d2_ref = np.abs(np.diff(out, 2)), np.abs(np.diff(x, 2))
    near = rate // 500  # 2 ms
    for i in sorted(lost):
        for edge in (i * n, (i + 1) * n):  # into the loss, and back to good frames
            assert d1[edge - 1] <= 1.2 * d1_ref[edge - near : edge + near].max()
            assert d2[edge - 2 : edge + 1].max() <= 2.5 * d2_ref[edge - near : edge + near].max()
    assert d1.max() <= 1.2 * d1_ref.max()


def test_continuous_loss_fades_out_to_silence_after_60ms() -> None:
    rate = 8000
    x = voiced(150.0, 0.5, rate)
    lost = set(range(10, 20))  # 200 ms loss
    out, plc = run(x, rate, lost)
    n = rate // 50
    frames = [out[i * n : (i + 1) * n] for i in range(10, 20)]
    levels = [level_dbfs(f) for f in frames]
    ref = level_dbfs(x[9 * n : 10 * n])
    assert levels[0] > ref - 3  # the first 20 ms keep (nearly) the level
    assert levels[1] < levels[0] and levels[2] < levels[1]  # then fade
    assert all(level_dbfs(f) == -120.0 for f in frames[3:])  # silent from 60 ms on
    assert plc.consecutive_lost == 0  # good frames followed


def test_recovery_after_a_long_loss_fades_in_rather_than_jumping() -> None:
    rate = 8000
    x = voiced(150.0, 0.5, rate)
    lost = set(range(5, 10))  # 100 ms: concealment is silent by the end
    out, _ = run(x, rate, lost)
    n = rate // 50
    first_good = out[10 * n : 11 * n]
    assert abs(first_good[0]) < 0.15 * np.max(np.abs(x))
    # faded in over the first 10 ms, then exactly the real signal
    assert np.array_equal(first_good[n // 2 :], np.round(x[10 * n + n // 2 : 11 * n]))


def test_concealment_before_any_audio_is_silence() -> None:
    plc = Concealer(8000)
    assert not np.any(plc.conceal())
    assert len(plc.conceal()) == 160


def test_consecutive_lost_counts_and_resets() -> None:
    plc = Concealer(16000)
    plc.good(voiced(150.0, 0.02, 16000))
    plc.conceal()
    plc.conceal()
    assert plc.consecutive_lost == 2
    plc.good(np.zeros(320))
    assert plc.consecutive_lost == 0


@pytest.mark.parametrize("f0", [70.0, 100.0, 150.0, 199.0])
def test_find_pitch_finds_the_period_or_a_multiple(f0: float) -> None:
    rate = 8000
    t = np.arange(400) / rate
    x = sum(0.6**k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
    lag = find_pitch(np.asarray(x), 40, 120, 160)
    period = rate / f0
    assert abs(lag / period - round(lag / period)) * period <= 1.0
