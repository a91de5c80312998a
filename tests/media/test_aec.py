"""Echo cancellation / noise suppression (softphone.media.aec) on simulated rooms.

The backends (pywebrtc-audio, libspeexdsp) are optional: tests of a backend that is not installed
are skipped; the pass-through and the degradation to it always run.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from softphone.media import aec as aec_mod
from softphone.media.aec import EchoCanceller, PassThrough, available_backends, make_echo_canceller

RATE = 48000
FRAME = 960
BACKENDS = [b for b in ("webrtc", "speex") if b in available_backends()]
needs_backend = pytest.mark.skipif(not BACKENDS, reason="no echo canceller backend installed")


def far_end_signal(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Speech-like far end (float, int16 scale), in the spirit of ITU-T P.501's composite source
    signal: pitched harmonics plus speech-shaped noise (-6 dB/octave above 500 Hz) under a 4 Hz
    syllabic envelope with pauses; about -16 dBFS RMS while active."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 25))
    f = np.fft.rfftfreq(n, 1 / RATE)
    shaped = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / np.sqrt(1 + (f / 500) ** 2), n)
    shaped *= np.sqrt(power(voiced) / power(shaped))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.3 * t) > -0.6)
    x = (voiced + shaped) * syllables
    return 5000 * x / np.sqrt(power(x))


def room(far: np.ndarray, rng: np.random.Generator, delay_ms: float = 60, atten_db: float = -9) -> np.ndarray:
    """Far end through a room: pure delay + 100 ms exponentially decaying random response."""
    length = RATE // 10
    h = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 6.9))
    h[0] += 3.0
    h *= 10 ** (atten_db / 20) / np.sqrt(np.sum(h**2))
    h = np.concatenate([np.zeros(int(delay_ms * RATE / 1000)), h])
    size = 1 << int(np.ceil(np.log2(len(far) + len(h))))
    return np.fft.irfft(np.fft.rfft(far, size) * np.fft.rfft(h, size), size)[: len(far)]


def to16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def run(canceller: EchoCanceller, mic: np.ndarray, far: np.ndarray) -> np.ndarray:
    m, f = to16(mic), to16(far)
    n = len(m) // FRAME * FRAME
    return np.concatenate([canceller.process(m[i : i + FRAME], f[i : i + FRAME]) for i in range(0, n, FRAME)])


def power(x: np.ndarray) -> float:
    return float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) + 1e-9


def test_none_is_a_pass_through() -> None:
    ec = make_echo_canceller("none", noise_suppression=True)
    assert isinstance(ec, PassThrough) and ec.name == "none"
    rng = np.random.default_rng(0)
    mic = to16(rng.standard_normal(FRAME) * 3000)
    far = to16(rng.standard_normal(FRAME) * 3000)
    out = ec.process(mic, far)
    assert out.dtype == np.int16 and out.shape == (FRAME,)
    np.testing.assert_array_equal(out, mic)
    assert out is not mic  # a copy: the caller may reuse its capture buffer
    ec.reset()


def test_unknown_kind_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        make_echo_canceller("acme")


def test_missing_backends_degrade_to_pass_through(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setattr(aec_mod, "_import_pywebrtc", lambda: None)
    monkeypatch.setattr(aec_mod, "_load_speexdsp", lambda: None)
    assert available_backends() == ["none"]
    for kind in ("auto", "webrtc", "speex"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="softphone.media.aec"):
            ec = make_echo_canceller(kind)
        assert isinstance(ec, PassThrough), kind
        assert any("no echo canceller available" in r.getMessage() for r in caplog.records)


def test_auto_picks_the_best_installed_backend() -> None:
    ec = make_echo_canceller("auto")
    assert ec.name == (BACKENDS[0] if BACKENDS else "none")
    assert isinstance(ec, EchoCanceller)


@needs_backend
@pytest.mark.parametrize("kind", BACKENDS)
def test_frames_keep_shape_and_dtype(kind: str) -> None:
    ec = make_echo_canceller(kind)
    assert ec.name == kind
    rng = np.random.default_rng(1)
    for _ in range(5):
        mic = to16(rng.standard_normal(FRAME) * 2000)
        far = to16(rng.standard_normal(FRAME) * 2000)
        out = ec.process(mic, far)
        assert out.dtype == np.int16 and out.shape == (FRAME,)
    # silence in, (near) silence out; lists and other dtypes are converted
    out = ec.process(np.zeros(FRAME, dtype=np.int16), [0] * FRAME)  # type: ignore[arg-type]
    assert out.dtype == np.int16 and out.shape == (FRAME,)
    with pytest.raises(ValueError):
        ec.process(np.zeros(FRAME, dtype=np.int16), np.zeros(FRAME // 2, dtype=np.int16))
    ec.reset()
    assert ec.process(mic, far).shape == (FRAME,)


@needs_backend
@pytest.mark.parametrize(
    ("kind", "noise_suppression"), [("auto", True)] + [(b, ns) for b in BACKENDS for ns in (False, True)]
)
def test_cancels_echo_by_at_least_10_db(kind: str, noise_suppression: bool) -> None:
    rng = np.random.default_rng(2)
    far = far_end_signal(4.0, rng)
    echo = room(far, rng)
    noise = rng.standard_normal(len(far)) * 32768 * 10 ** (-65 / 20)
    out = run(make_echo_canceller(kind, noise_suppression=noise_suppression), echo + noise, far)
    steady = slice(2 * RATE, len(out))  # after 2 s of convergence
    erle = 10 * np.log10(power(echo[steady]) / power(out[steady]))
    assert erle >= 10.0, f"{kind}: ERLE {erle:.1f} dB"


@needs_backend
@pytest.mark.parametrize("kind", BACKENDS)
def test_noise_suppression_lowers_stationary_noise(kind: str) -> None:
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(2 * RATE) * 32768 * 10 ** (-40 / 20)  # a fan, -40 dBFS
    silent = np.zeros_like(noise)
    tail = slice(RATE, 2 * RATE)  # after 1 s to learn the noise
    with_ns = run(make_echo_canceller(kind, noise_suppression=True), noise, silent)
    without = run(make_echo_canceller(kind, noise_suppression=False), noise, silent)
    reduction_on = 10 * np.log10(power(noise[tail]) / power(with_ns[tail]))
    reduction_off = 10 * np.log10(power(noise[tail]) / power(without[tail]))
    assert reduction_on >= 6.0, f"{kind}: NS removed only {reduction_on:.1f} dB of noise"
    assert reduction_off < 3.0, f"{kind}: {reduction_off:.1f} dB removed with NS off"


@needs_backend
@pytest.mark.parametrize("kind", BACKENDS)
def test_near_end_voice_passes_when_nothing_is_played(kind: str) -> None:
    rng = np.random.default_rng(4)
    voice = far_end_signal(2.0, rng)  # used as a near-end talker here
    out = run(make_echo_canceller(kind, noise_suppression=False), voice, np.zeros_like(voice))
    active = slice(RATE // 2, len(out))
    loss = 10 * np.log10(power(voice[active]) / power(out[active]))
    assert abs(loss) < 3.0, f"{kind}: near-end voice changed by {loss:.1f} dB with no far end"
