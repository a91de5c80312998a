"""Echo return loss enhancement (ERLE), double-talk distortion and CPU cost of each echo canceller.

A far-end talker (espeak-ng speech, or a synthetic voice-like signal when espeak-ng/sox are
missing) is "played"; the microphone picks it up through a simulated room: a pure delay
(40-120 ms) then a decaying random impulse response of 100 ms, 6-12 dB quieter, plus a
stationary near-end noise floor. The canceller sees the microphone and the far-end reference,
20 ms frame by 20 ms frame, exactly as in a call.

Per scenario (one echo path each) and per backend:

* Echo only, ``--converge`` seconds then ``--measure`` seconds. ERLE over the measured part:
  ``10*log10(power(echo part of mic) / power(output))`` (the output holds residual echo and
  noise). ``limit`` is the same ratio with the output replaced by the bare noise floor: a canceller
  without noise suppression cannot go far beyond it. ``t10`` is the first time from which every
  following 0.5 s window has ERLE >= 10 dB (convergence time).
* Double talk, ``--double-talk`` more seconds on the same (converged) canceller: a second voice
  speaks into the microphone over the echo. ``corr`` is the correlation of the output with that
  near-end speech and ``SNR`` the near-end speech against everything else in the output (residual
  echo, noise, distortion), after the best gain and lag. The ``none`` row shows the raw microphone:
  a canceller should raise both without eating the near-end voice. ``PESQ`` is the wide-band
  PESQ (P.862.2, MOS 1-4.6) of that output against the clean near-end voice (needs ``pesq``).
* CPU: process time spent in ``process()`` per second of audio (ms/s; 10 ms/s = 1% of a core).

Run: .venv/bin/python bench/erle.py [--backends webrtc,speex,none] [--delays 40,80,120]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from softphone.media.aec import available_backends, make_echo_canceller  # noqa: E402

RATE = 48000
FRAME = 960

NEAR_TEXT = (
    "A king ruled the state in the early days. "
    "The ship was torn apart on the sharp reef. "
    "Sickness kept him home the third week. "
    "The wide road shimmered in the hot sun. "
    "The lazy cow lay in the cool grass. "
    "Lift the square stone over the fence. "
    "The rope will bind the seven books at once. "
    "Hop over the fence and plunge in. "
    "The friendly gang left the drug store. "
    "Mesh wire keeps chicks inside."
)  # Harvard sentences list 2


# ------------------------------------------------------------------ signals


def synthetic_voice(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A voice-like signal in [-1, 1]: harmonics of a wandering pitch with a formant-ish tilt,
    noise bursts for fricatives, shaped by a syllabic (3-5 Hz) envelope with pauses."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    # pitch: a slow random walk between 90 and 220 Hz
    knots = rng.uniform(90, 220, size=int(seconds * 4) + 2)
    f0 = np.interp(t, np.linspace(0, seconds, len(knots)), knots)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    voiced = np.zeros(n)
    for k in range(1, 40):
        fk = k * f0
        gain = (1.0 / k) * (
            1.0 + 2.0 * np.exp(-(((fk - 700) / 300) ** 2)) + np.exp(-(((fk - 1800) / 400) ** 2))
        )
        voiced += np.where(fk < RATE / 2 - 1000, gain * np.sin(k * phase), 0.0)
    hiss = rng.standard_normal(n)
    hiss = np.diff(hiss, prepend=0.0)  # high-pass: fricative-like
    # syllables: ~200 ms units, some voiced, some fricative, some silent (pauses)
    env_v = np.zeros(n)
    env_h = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.12, 0.3) * RATE)
        kind = rng.choice(3, p=[0.6, 0.15, 0.25])
        window = np.hanning(length)[: n - pos]
        if kind == 0:
            env_v[pos : pos + length] = window * rng.uniform(0.5, 1.0)
        elif kind == 1:
            env_h[pos : pos + length] = window * rng.uniform(0.2, 0.5)
        pos += length
    x = env_v * voiced / np.max(np.abs(voiced)) + env_h * hiss / np.max(np.abs(hiss))
    return 0.7 * x / np.max(np.abs(x))


def speech(seconds: float, *, near: bool, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Speech in [-1, 1] at 48 kHz and where it came from."""
    try:
        from tests.peers.audio import audio_tools_available, read_wav, speech_wav

        if audio_tools_available():
            if near:
                path = speech_wav(rate=RATE, seconds=seconds, text=NEAR_TEXT, voice="en-us+f3", wpm=150)
            else:
                path = speech_wav(rate=RATE, seconds=seconds)
            x, sr = read_wav(path)
            if sr == RATE:
                return x, "espeak-ng"
    except Exception as exc:  # no espeak-ng/sox, or a failing tool: fall back
        print(f"(espeak-ng speech unavailable: {exc}; using a synthetic voice)", file=sys.stderr)
    return synthetic_voice(seconds, rng), "synthetic"


@dataclass
class EchoPath:
    delay_ms: float
    atten_db: float
    ir: np.ndarray  # full impulse response, delay included

    @classmethod
    def random(cls, delay_ms: float, atten_db: float, rng: np.random.Generator, tail_ms: float = 100):
        length = int(tail_ms * RATE / 1000)
        decay = np.exp(-np.arange(length) / (length / 6.9))  # -60 dB at the end of the tail
        h = rng.standard_normal(length) * decay
        h[0] += 3.0  # a direct path stronger than any single reflection
        h *= 10 ** (atten_db / 20) / np.sqrt(np.sum(h**2))  # energy gain = atten_db
        return cls(delay_ms, atten_db, np.concatenate([np.zeros(int(delay_ms * RATE / 1000)), h]))

    def apply(self, far: np.ndarray) -> np.ndarray:
        n = len(far)
        size = 1 << int(np.ceil(np.log2(n + len(self.ir))))
        y = np.fft.irfft(np.fft.rfft(far, size) * np.fft.rfft(self.ir, size), size)
        return y[:n]


def power(x: np.ndarray) -> float:
    return float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) + 1e-12


def db(ratio: float) -> float:
    return 10 * float(np.log10(max(ratio, 1e-12)))


def best_lag_fit(out: np.ndarray, ref: np.ndarray, max_lag: int = 2400) -> tuple[float, float, int]:
    """(correlation, SNR dB, lag) of ``out`` against ``ref`` after the best lag (0..max_lag samples,
    the output being late) and gain."""
    n = len(ref)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    xc = np.fft.irfft(np.fft.rfft(out, size) * np.conj(np.fft.rfft(ref, size)), size)
    lag = int(np.argmax(xc[: max_lag + 1]))
    o = out[lag:]
    r = ref[: n - lag]
    g = float(np.dot(o, r) / (np.dot(r, r) + 1e-12))
    corr = float(np.dot(o, r) / np.sqrt(np.dot(o, o) * np.dot(r, r) + 1e-12))
    snr = db(power(g * r) / power(o - g * r))
    return corr, snr, lag


def pesq_wb(reference: np.ndarray, degraded: np.ndarray) -> float | None:
    """Wide-band PESQ (P.862.2) of the near-end voice through the canceller, None without ``pesq``."""
    try:
        from tests.peers.audio import pesq_score

        return pesq_score((reference / 32768, RATE), (degraded / 32768, RATE), "wb")
    except Exception:
        return None


# ------------------------------------------------------------------ run


class AecAudioProcessing:
    """Bench-only adapter for the ``aec-audio-processing`` package (freedesktop webrtc-audio-processing
    2.x, AEC3), to compare it with the backends of softphone.media.aec; bytes in, 10 ms at a time."""

    def __init__(self, noise_suppression: bool) -> None:
        from aec_audio_processing import AudioProcessor

        self.name = "aec-audio-processing"
        self._ap = AudioProcessor(
            enable_aec=True, enable_ns=noise_suppression, enable_agc=False, enable_vad=False
        )
        self._ap.set_stream_format(RATE, 1)
        self._ap.set_reverse_stream_format(RATE, 1)
        self._ap.set_stream_delay(60)

    def process(self, mic: np.ndarray, far_end: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(mic), RATE // 100):
            self._ap.process_reverse_stream(far_end[i : i + RATE // 100].tobytes())
            out.append(np.frombuffer(self._ap.process_stream(mic[i : i + RATE // 100].tobytes()), np.int16))
        return np.concatenate(out)


def factory(kind: str, ns: bool) -> Callable[[], object]:
    def make() -> object:
        if kind == "aec-audio-processing":
            try:
                return AecAudioProcessing(ns)
            except ImportError as exc:
                raise RuntimeError("aec-audio-processing is not installed") from exc
        aec = make_echo_canceller(kind, noise_suppression=ns)
        if aec.name != kind:
            raise RuntimeError(f"backend {kind} is not available")
        return aec

    return make


@dataclass
class Result:
    erle: float
    limit: float
    t10: float | None
    corr: float
    snr: float
    pesq: float | None
    delay_ms: float
    cpu_ms_per_s: float


def run_one(
    make: Callable[[], object],
    far: np.ndarray,
    echo: np.ndarray,
    noise: np.ndarray,
    near: np.ndarray,
    converge_s: float,
    measure_s: float,
) -> Result:
    aec = make()
    n_ec = int((converge_s + measure_s) * RATE) // FRAME * FRAME
    n = len(far) // FRAME * FRAME
    far16 = np.clip(np.rint(far), -32768, 32767).astype(np.int16)
    mic = echo + noise
    mic[n_ec:] += near[: len(mic) - n_ec]
    mic16 = np.clip(np.rint(mic), -32768, 32767).astype(np.int16)
    out = np.zeros(n)
    cpu = 0.0
    for i in range(0, n, FRAME):
        m = mic16[i : i + FRAME]
        f = far16[i : i + FRAME]
        t0 = time.process_time()
        o = aec.process(m, f)  # type: ignore[attr-defined]
        cpu += time.process_time() - t0
        assert o.dtype == np.int16 and o.shape == (FRAME,)
        out[i : i + FRAME] = o
    s0 = int(converge_s * RATE)
    erle = db(power(echo[s0:n_ec]) / power(out[s0:n_ec]))
    limit = db(power(echo[s0:n_ec]) / power(noise[s0:n_ec]))
    # convergence: ERLE per 0.5 s window over the echo-only part (windows without echo pass)
    w = RATE // 2
    ok = [
        db(power(echo[i : i + w]) / power(out[i : i + w])) >= 10 or power(echo[i : i + w]) < 1.0
        for i in range(0, n_ec - w + 1, w)
    ]
    t10 = None
    for k in range(len(ok)):
        if all(ok[k:]):
            t10 = k * 0.5
            break
    corr, snr, lag = best_lag_fit(out[n_ec:n], near[: n - n_ec])
    return Result(
        erle,
        limit,
        t10,
        corr,
        snr,
        pesq_wb(near[: n - n_ec], out[n_ec:n]),
        1000 * lag / RATE,
        1000 * cpu / (n / RATE),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--backends",
        default=",".join(available_backends()),
        help="comma list of webrtc, speex, none, aec-audio-processing (default: the installed backends)",
    )
    ap.add_argument("--delays", default="40,80,120", help="echo path delays in ms, one scenario each")
    ap.add_argument("--atten", default="6,9,12", help="echo attenuation in dB per scenario (cycled)")
    ap.add_argument("--converge", type=float, default=4.0, help="seconds before ERLE is measured")
    ap.add_argument("--measure", type=float, default=8.0, help="seconds of echo-only measurement")
    ap.add_argument("--double-talk", type=float, default=8.0, help="seconds of double talk after that")
    ap.add_argument("--far-db", type=float, default=-6.0, help="far-end level relative to the speech file")
    ap.add_argument("--near-db", type=float, default=-12.0, help="near-end talker level at the mic")
    ap.add_argument("--noise-dbfs", type=float, default=-65.0, help="near-end noise floor, RMS dBFS")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    total = args.converge + args.measure + args.double_talk
    far_x, far_src = speech(total, near=False, rng=rng)
    near_x, near_src = speech(args.double_talk, near=True, rng=rng)
    far = far_x[: int(total * RATE)] * 32767 * 10 ** (args.far_db / 20)
    near = near_x * 32767 * 10 ** (args.near_db / 20)
    noise = rng.standard_normal(len(far)) * 32768 * 10 ** (args.noise_dbfs / 20)
    delays = [float(d) for d in args.delays.split(",")]
    attens = [float(a) for a in args.atten.split(",")]
    paths = [EchoPath.random(d, -attens[i % len(attens)], rng) for i, d in enumerate(delays)]
    echoes = [p.apply(far) for p in paths]

    print(
        f"far end: {far_src} speech, near end: {near_src} speech, noise {args.noise_dbfs:g} dBFS; "
        f"{args.converge:g} s convergence, {args.measure:g} s echo only, {args.double_talk:g} s double talk"
    )
    print("echo paths: " + ", ".join(f"{p.delay_ms:g} ms / {p.atten_db:g} dB + 100 ms tail" for p in paths))
    variants: list[tuple[str, Callable[[], object]]] = []
    for b in (b.strip() for b in args.backends.split(",")):
        if b == "none":
            variants.append(("none", factory("none", False)))
        else:
            variants += [(b, factory(b, False)), (b + "+NS", factory(b, True))]

    header = (
        f"{'backend':<24}{'ERLE dB':>8}{'(min)':>7}{'limit':>7}{'t10 s':>7}"
        f"{'DT corr':>9}{'DT SNR':>8}{'DT PESQ':>8}{'delay ms':>9}{'CPU ms/s':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for label, make in variants:
        try:
            results = [run_one(make, far, e, noise, near, args.converge, args.measure) for e in echoes]
        except RuntimeError as exc:
            print(f"{label:<24}(skipped: {exc})")
            continue
        erles = [r.erle for r in results]
        t10s = [r.t10 for r in results]
        t10 = "never" if None in t10s else f"{max(t for t in t10s if t is not None):.1f}"
        pesqs = [r.pesq for r in results if r.pesq is not None]
        pesq = f"{statistics.mean(pesqs):.2f}" if len(pesqs) == len(results) else "n/a"
        print(
            f"{label:<24}{statistics.mean(erles):>8.1f}{min(erles):>7.1f}"
            f"{statistics.mean(r.limit for r in results):>7.1f}{t10:>7}"
            f"{statistics.mean(r.corr for r in results):>9.3f}{statistics.mean(r.snr for r in results):>8.1f}"
            f"{pesq:>8}{statistics.median(r.delay_ms for r in results):>9.1f}"
            f"{statistics.mean(r.cpu_ms_per_s for r in results):>10.1f}"
        )
    print()
    print("ERLE: mean over the echo paths (min: worst path); t10: slowest path; DT and CPU: mean;")
    print("delay: how late the near-end voice comes out of the canceller (median).")


if __name__ == "__main__":
    main()
