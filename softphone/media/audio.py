"""Internal audio format and small helpers (see docs/MEDIA.md).

Audio inside the engine is signed 16-bit mono PCM at 48 kHz, in frames of 20 ms (960 samples),
carried as ``numpy.ndarray`` of dtype ``int16`` and shape ``(960,)``.

``Resampler`` is a streaming polyphase FIR resampler for rational ratios (48000 <-> 8000, 16000,
44100, ...): it keeps its filter state across calls, so a signal cut into frames and resampled
frame by frame is identical to the signal resampled in one go (no clicks at frame boundaries).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt

RATE = 48000
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000  # 960

FULL_SCALE = 32768.0
MIN_DBFS = -120.0  # what level_dbfs reports for digital silence

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


def silence(samples: int = FRAME_SAMPLES) -> Int16Array:
    """A frame of digital silence (960 samples by default)."""
    return np.zeros(samples, dtype=np.int16)


_INT16_MIN = np.float64(-32768.0)  # numpy scalars: cheaper for ufuncs than Python floats
_INT16_MAX = np.float64(32767.0)


def to_int16(x: npt.ArrayLike) -> Int16Array:
    """Rounds and saturates float samples (int16 scale) to int16."""
    a = np.asarray(x, dtype=np.float64)
    a = np.rint(a, out=np.empty(a.shape))
    a.clip(_INT16_MIN, _INT16_MAX, out=a)
    return a.astype(np.int16)


def level_dbfs(frame: npt.ArrayLike) -> float:
    """RMS level relative to full scale: a full-scale square wave is 0 dBFS, a full-scale sine -3.01.

    Digital silence (or an empty frame) gives ``MIN_DBFS`` (-120) rather than -inf.
    """
    a = np.asarray(frame, dtype=np.float64)
    if a.size == 0:
        return MIN_DBFS
    rms = math.sqrt(float(np.mean(a * a)))
    if rms <= 0.0:
        return MIN_DBFS
    return max(MIN_DBFS, 20.0 * math.log10(rms / FULL_SCALE))


def _design_lowpass(up: int, down: int, in_rate: int, out_rate: int) -> tuple[FloatArray, int]:
    """Kaiser-windowed sinc low-pass for the upsampled rate ``in_rate * up``, gain ``up``.

    Returns the taps (zero-padded to a multiple of ``up``) and the delay in upsampled samples.

    The cut-off sits at the Nyquist frequency of the slower side; the transition band is
    20% of that Nyquist frequency, centred on it (so 8 kHz keeps 0-3.6 kHz flat and anything
    that could alias lands in the 3.6-4.4 kHz transition band), stop band >= 70 dB.
    """
    fs_up = in_rate * up
    nyq = min(in_rate, out_rate) / 2.0
    transition = 0.2 * nyq
    atten = 70.0
    beta = 0.1102 * (atten - 8.7)
    dw = 2.0 * math.pi * transition / fs_up
    half = int(math.ceil((atten - 7.95) / (2.285 * dw) / 2.0))
    # Make the delay (``half`` samples at the upsampled rate) a whole number of input and output
    # samples when that costs little, so that 48 -> 8 -> 48 kHz delays by a whole 48 kHz sample.
    step = math.lcm(up, down)
    if step <= 64:
        half = int(math.ceil(half / step)) * step
    ntaps = 2 * half + 1
    n = np.arange(ntaps) - half
    fc = nyq / fs_up  # cycles per sample at the upsampled rate
    h = 2.0 * fc * np.sinc(2.0 * fc * n) * np.kaiser(ntaps, beta)
    h *= up / h.sum()
    padded = int(math.ceil(ntaps / up)) * up  # a whole number of taps per phase
    return np.concatenate((h, np.zeros(padded - ntaps))), half


class Resampler:
    """Streaming rational-ratio resampler (polyphase FIR, linear phase).

    ``process`` takes any number of int16 (or float) samples at ``in_rate`` and returns the
    samples at ``out_rate`` that can be computed so far, as int16. Over time the output count is
    exactly ``len(input) * out_rate / in_rate``; with an integer ratio and whole frames (960 at
    48 kHz <-> 160 at 8 kHz or 320 at 16 kHz) every call returns exactly one output frame.
    The filter adds a fixed delay of ``delay`` output samples (about 2.7 ms for 8 kHz).
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        ratio = Fraction(out_rate, in_rate)
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.up = ratio.numerator
        self.down = ratio.denominator
        self._passthrough = self.up == 1 and self.down == 1
        self._delay_up = 0
        if self._passthrough:
            self._phases = np.zeros((1, 1))
            self._taps_per_phase = 1
        else:
            h, self._delay_up = _design_lowpass(self.up, self.down, in_rate, out_rate)
            k = len(h) // self.up
            # phases[p, j] multiplies x[i - (k - 1) + j] for an output at upsampled index i*up + p
            self._phases = h.reshape(k, self.up).T[:, ::-1].copy()
            self._taps_per_phase = k
        self._phases_t = self._phases.T.copy()  # (k, up), for the interpolation product
        self._hist = np.zeros(self._taps_per_phase - 1)  # last k-1 input samples (zeros at start)
        self._next_out = 0  # index of the next output sample, in output samples since the start
        self._consumed = 0  # input samples consumed so far
        # integer ratios (48 kHz <-> 8, 16 kHz): a work buffer and its matrix of input windows,
        # made once per input length and offset, so a frame costs one copy and one product
        self._integer = not self._passthrough and (self.up == 1 or self.down == 1)
        self._views: dict[tuple[int, int], tuple[FloatArray, FloatArray]] = {}
        self._work: FloatArray | None = None  # the last work buffer: it starts with the history

    @property
    def delay(self) -> float:
        """Group delay of the filter, in output samples."""
        if self._passthrough:
            return 0.0
        return self._delay_up / self.down

    def reset(self) -> None:
        self._hist[:] = 0.0
        self._work = None
        self._next_out = 0
        self._consumed = 0

    def process(self, x: npt.ArrayLike) -> Int16Array:
        if self._integer:  # to_int16 in place: the output array is ours
            out = self._process_integer(x)
            np.rint(out, out=out)
            out.clip(_INT16_MIN, _INT16_MAX, out=out)
            return out.astype(np.int16)
        return to_int16(self.process_float(x))

    def process_float(self, x: npt.ArrayLike) -> FloatArray:
        """Like ``process`` but returns unrounded float samples (int16 scale)."""
        if self._integer:
            return self._process_integer(x)
        samples = np.asarray(x, dtype=np.float64).ravel()
        if self._passthrough:
            return samples.copy()
        k = self._taps_per_phase
        buf = np.concatenate((self._hist, samples))
        # buf[0] is absolute input index start; the last usable input index is end - 1
        start = self._consumed - (k - 1)
        end = self._consumed + len(samples)
        # output n sits at upsampled index n*down, i.e. input index (n*down)//up, phase (n*down)%up
        first = self._next_out
        last = (end * self.up - 1) // self.down  # largest n with (n*down)//up <= end-1
        if last < first:
            out = np.zeros(0)
        else:
            n = np.arange(first, last + 1)
            pos = n * self.down
            idx = pos // self.up - start  # index in buf of the newest input sample used
            phase = pos % self.up
            windows = np.lib.stride_tricks.sliding_window_view(buf, k)  # windows[i] = buf[i:i+k]
            out = np.einsum("ij,ij->i", windows[idx - (k - 1)], self._phases[phase])
            self._next_out = last + 1
        self._consumed = end
        if k > 1:
            self._hist = buf[len(buf) - (k - 1) :].copy()
        return out

    def _process_integer(self, x: npt.ArrayLike) -> FloatArray:
        """``process_float`` for ``up == 1`` (decimation) or ``down == 1`` (interpolation).

        Same arithmetic as the general case (one dot product of ``k`` taps per output sample, in
        the same order whatever the block size), without gathering the windows: they are a
        strided view of a work buffer holding the history and the new samples.
        """
        samples = np.asarray(x).ravel()
        n = len(samples)
        m = self._taps_per_phase - 1
        # decimation: output n reads input n*down (the newest sample of its window); offset is
        # where the first output's window starts in the work buffer (0 with whole frames)
        offset = self._next_out * self.down - self._consumed if self.up == 1 else 0
        work, windows = self._integer_views(n, offset)
        if work is not self._work:  # another block size than last time: bring the history
            work[:m] = 0.0 if self._work is None else self._work[:m]
            self._work = work
        work[m:] = samples
        out: FloatArray
        if self.up == 1:
            out = np.einsum("ij,j->i", windows, self._phases[0])
        else:
            # windows[i] ends at input sample i: it gives the up outputs i*up .. i*up + up-1
            out = np.matmul(windows, self._phases_t).ravel()
        self._next_out += len(out)
        self._consumed += n
        work[:m] = work[n:]  # the last k-1 samples: the history of the next block
        return out

    def _integer_views(self, n: int, offset: int) -> tuple[FloatArray, FloatArray]:
        key = (n, offset)
        cached = self._views.get(key)
        if cached is not None:
            return cached
        k = self._taps_per_phase
        work = np.zeros(k - 1 + n)
        step = work.strides[0]
        if self.up == 1:
            rows = max(0, (n - 1 - offset) // self.down + 1)
            shape, strides = (rows, k), (self.down * step, step)
        else:
            shape, strides = (n, k), (step, step)
        windows = np.lib.stride_tricks.as_strided(work[offset:], shape, strides, writeable=False)
        if n <= 8 * FRAME_SAMPLES:  # frames are cached, one-shot signals are not
            if len(self._views) >= 8:
                self._views.clear()
            self._views[key] = (work, windows)
        return work, windows


def resample(x: npt.ArrayLike, in_rate: int, out_rate: int) -> Int16Array:
    """One-shot resampling of a whole signal (the filter delay is not removed)."""
    return Resampler(in_rate, out_rate).process(x)
