"""Packet loss concealment in the manner of ITU-T G.711 Appendix I (pitch waveform substitution).

The concealer sees every frame that is played: good frames go through ``good`` (which records them
in a history buffer and, after a loss, cross-fades from the synthetic signal into the real one) and
each lost frame is replaced by ``conceal``:

* at the start of a loss the pitch period is found by normalised cross-correlation of the last
  20 ms of history with the history one lag earlier (lags 5 to 15 ms, i.e. 66 to 200 Hz);
* the lost frame is synthesised by repeating the last pitch period; the end of the repeated period
  is cross-faded (over a quarter period) into the samples that precede it in the history so that
  each repetition joins the next one without a step;
* after 10 ms of loss two periods are repeated, after 20 ms three (less "buzzy" than a single
  period), each switch cross-faded over a quarter period;
* the synthetic signal keeps full level for 10 ms, then fades linearly by 20% per 10 ms: it is
  silent from 60 ms of consecutive loss on;
* the first good frame after a loss is cross-faded in over a quarter period plus 4 ms per 10 ms of
  loss beyond the first 10 ms (at most 10 ms): the fade goes from the continued synthetic signal to
  the real one.

Unlike Appendix I the output is not delayed by 3.75 ms (the engine cannot afford latency for
concealment), so the first repetition starts one pitch period back from the last real sample,
without an overlap-add into the past; instead, the start of the repetition is bent (by an offset
fading out over a quarter period) onto the linear prediction of the next sample, so the junction
has neither a step nor a kink.

The concealer works at any rate; codecs use it at their native rate (8 kHz for G.711, 16 kHz for
G.722) so that the up-sampler after it sees one continuous signal.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from .audio import FRAME_MS, RATE, FloatArray, Int16Array, to_int16

PITCH_MIN_MS = 5.0
PITCH_MAX_MS = 15.0
CORR_MS = 20.0
ATTENUATION_START_MS = 10.0  # full level for the first 10 ms of a loss
ATTENUATION_PER_10MS = 0.2  # then -20% per 10 ms: silent after 60 ms
MAX_FADE_IN_MS = 10.0


class Concealer:
    """Pitch-repetition packet loss concealment for one decoded stream (not thread-safe)."""

    def __init__(self, rate: int = RATE, frame_samples: int | None = None) -> None:
        self.rate = rate
        self.frame_samples = frame_samples if frame_samples is not None else rate * FRAME_MS // 1000
        self._ms = rate / 1000.0
        self._pitch_min = round(PITCH_MIN_MS * self._ms)
        self._pitch_max = round(PITCH_MAX_MS * self._ms)
        self._corr_len = round(CORR_MS * self._ms)
        hist_len = 3 * self._pitch_max + self._pitch_max // 4  # 48.75 ms, as in Appendix I
        self._hist_len = max(hist_len, self._corr_len + self._pitch_max)
        # The history is the last _hist_len samples played (zeros before the first), kept as the
        # frames themselves and joined only when a loss starts: nothing to shift per good frame.
        self._recent: deque[FloatArray | Int16Array] = deque()
        self._recent_samples = 0
        self._lost_samples = 0  # samples concealed in the current loss (0: not in a loss)
        self._lost_frames = 0
        self._pitch = self._pitch_max
        self._overlap = 1
        self._loops: list[FloatArray] = []
        self._junction_offset = 0.0

    # -- public -------------------------------------------------------------------------

    @property
    def consecutive_lost(self) -> int:
        """Frames concealed since the last good frame."""
        return self._lost_frames

    @property
    def pitch(self) -> int:
        """Pitch period (samples) used for the current or last loss."""
        return self._pitch

    def reset(self) -> None:
        self._recent.clear()
        self._recent_samples = 0
        self._lost_samples = 0
        self._lost_frames = 0
        self._loops = []

    def good(self, frame: npt.ArrayLike) -> Int16Array:
        """Records a good frame; after a loss returns it cross-faded in, otherwise unchanged (the
        frame itself, flattened)."""
        if self._lost_samples == 0 and isinstance(frame, np.ndarray) and frame.dtype == np.int16:
            samples: Int16Array = frame.ravel()  # the usual case: nothing to fade, nothing to round
            self._remember(samples.copy())
            return samples
        x = np.array(frame, dtype=np.float64).ravel()  # a copy: the history keeps it
        if self._lost_samples > 0 and len(x) > 0:
            lost_ms = self._lost_samples / self._ms
            fade = self._overlap + round(max(0.0, lost_ms - 10.0) / 10.0 * 4.0 * self._ms)
            fade = min(fade, round(MAX_FADE_IN_MS * self._ms), len(x))
            synthetic = self._synthesise(self._lost_samples, fade)
            w = (np.arange(fade) + 0.5) / fade
            x[:fade] = (1.0 - w) * synthetic + w * x[:fade]
        self._lost_samples = 0
        self._lost_frames = 0
        self._remember(x)
        return to_int16(x)

    def conceal(self, samples: int | None = None) -> Int16Array:
        """One frame (``frame_samples`` by default) of synthetic signal for a lost frame."""
        n = self.frame_samples if samples is None else samples
        if self._lost_samples == 0:
            self._start_loss()
        out = self._synthesise(self._lost_samples, n)
        self._lost_samples += n
        self._lost_frames += 1
        self._remember(out)
        return to_int16(out)

    # -- internals -----------------------------------------------------------------------

    def _remember(self, x: FloatArray | Int16Array) -> None:
        """``x`` (from now on ours, never changed) joins the history."""
        recent = self._recent
        recent.append(x)
        self._recent_samples += len(x)
        while self._recent_samples - len(recent[0]) >= self._hist_len:
            self._recent_samples -= len(recent.popleft())

    def _history(self) -> FloatArray:
        missing = self._hist_len - self._recent_samples
        parts = [np.zeros(missing), *self._recent] if missing > 0 else list(self._recent)
        joined: FloatArray = np.concatenate(parts, dtype=np.float64)
        return joined[len(joined) - self._hist_len :]

    def _start_loss(self) -> None:
        h = self._history()
        self._pitch = find_pitch(h, self._pitch_min, self._pitch_max, self._corr_len)
        p = self._pitch
        ov = max(1, p // 4)
        self._overlap = ov
        self._loops = []
        for m in (1, 2, 3):
            length = m * p
            loop = h[len(h) - length :].copy()
            # fade the end of the loop into what precedes its start, so the wrap is seamless
            w = (np.arange(ov) + 0.5) / ov
            before = h[len(h) - length - ov : len(h) - length]
            loop[length - ov :] = (1.0 - w) * loop[length - ov :] + w * before
            self._loops.append(loop)
        # the sample before the repeated period rarely equals the last real one exactly (the
        # waveform drifts): shift the start of the repetition by the difference, fading out
        self._junction_offset = h[-1] - h[len(h) - p - 1]

    def _source(self, m: int, t: npt.NDArray[np.int64]) -> FloatArray:
        loop = self._loops[m - 1]
        return loop[t % len(loop)]

    def _synthesise(self, start: int, n: int) -> FloatArray:
        """Synthetic samples ``start .. start+n`` of the current loss (gain applied)."""
        if not self._loops:
            return np.zeros(n)
        t = np.arange(start, start + n, dtype=np.int64)
        t10 = round(ATTENUATION_START_MS * self._ms)
        ov = self._overlap
        periods = np.where(t < t10, 1, np.where(t < 2 * t10, 2, 3))
        out = np.zeros(n)
        for m in (1, 2, 3):
            sel = periods == m
            if np.any(sel):
                out[sel] = self._source(m, t[sel])
        # cross-fade from m-1 to m periods just after each switch
        for m, switch in ((2, t10), (3, 2 * t10)):
            sel = (t >= switch) & (t < switch + ov)
            if np.any(sel):
                w = (t[sel] - switch + 0.5) / ov
                out[sel] = (1.0 - w) * self._source(m - 1, t[sel]) + w * self._source(m, t[sel])
        bend = t < ov
        if np.any(bend):
            out[bend] += self._junction_offset * (1.0 - t[bend] / ov)
        gain = 1.0 - ATTENUATION_PER_10MS * np.maximum(0, t - t10) / t10
        return out * np.clip(gain, 0.0, 1.0)


def find_pitch(history: FloatArray, pitch_min: int, pitch_max: int, corr_len: int) -> int:
    """Lag in ``[pitch_min, pitch_max]`` that best predicts the last ``corr_len`` samples.

    Maximises ``<x_end, x_lag> / sqrt(<x_lag, x_lag>)`` where ``x_end`` is the last ``corr_len``
    samples and ``x_lag`` the same span ``lag`` samples earlier (G.711 Appendix I, at full
    resolution instead of its coarse-then-fine search).
    """
    x = np.asarray(history, dtype=np.float64)
    n = len(x)
    pitch_max = min(pitch_max, n - corr_len)
    if pitch_max < pitch_min:
        return max(1, pitch_min)
    target = x[n - corr_len :]
    lags = np.arange(pitch_min, pitch_max + 1)
    starts = n - corr_len - lags
    windows = np.lib.stride_tricks.sliding_window_view(x, corr_len)
    cross = windows[starts] @ target
    csum = np.concatenate(([0.0], np.cumsum(x * x)))
    energy = csum[starts + corr_len] - csum[starts]
    score = cross / np.sqrt(np.maximum(energy, 1e-9))
    if not np.any(energy > 1e-6):
        return pitch_max
    return int(lags[int(np.argmax(score))])
