"""Audio helpers for media interop tests: a known speech sample, alignment, PESQ.

* :func:`speech_wav` -- a speech sample (Harvard sentences spoken by
  ``espeak-ng``, converted with ``sox`` to mono 16-bit PCM at 8/16/48 kHz),
  looped to a given length.  Generated once per parameter set and cached
  under :data:`CACHE_DIR` (env ``SOFTPHONE_AUDIO_CACHE`` overrides it).
* :func:`read_wav` / :func:`write_wav` -- mono float64 samples in [-1, 1].
  The reader tolerates WAV headers whose sizes were never fixed up (a file
  still being written, or written to a pipe).
* :func:`resample` -- band-limited FFT resampling (numpy only).
* :func:`align` -- delay between a reference and a recording by FFT
  cross-correlation, plus the normalised correlation of the aligned overlap.
* :func:`pesq_score` -- ITU-T P.862 PESQ (``pesq`` PyPI package) of the
  aligned, equally long spans, narrow-band (8 kHz) or wide-band (16 kHz).
* :func:`compare` -- all of it at once, as an :class:`AudioMatch`.

Audio arguments (``AudioLike``) are a WAV path (``str``/``Path``) or a
``(samples, rate)`` tuple.  Nothing here depends on pytest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CACHE_DIR",
    "HARVARD_SENTENCES",
    "AudioError",
    "AudioLike",
    "AudioMatch",
    "align",
    "aligned_spans",
    "audio_tools_available",
    "compare",
    "load",
    "noise_wav",
    "pesq_available",
    "pesq_score",
    "read_wav",
    "resample",
    "rms",
    "speech_wav",
    "write_wav",
]

CACHE_DIR = Path(
    os.environ.get("SOFTPHONE_AUDIO_CACHE") or Path(tempfile.gettempdir()) / "softphone-test-audio"
)
"""Where :func:`speech_wav` keeps generated samples."""

HARVARD_SENTENCES = (
    "The birch canoe slid on the smooth planks. "
    "Glue the sheet to the dark blue background. "
    "It's easy to tell the depth of a well. "
    "These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. "
    "The juice of lemons makes fine punch. "
    "The box was thrown beside the parked truck. "
    "The hogs were fed chopped corn and garbage. "
    "Four hours of steady work faced us. "
    "A large size in stockings is hard to sell."
)
"""Harvard sentences list 1 (IEEE 1969), about 25 s at espeak-ng's default speed."""

AudioLike = str | os.PathLike[str] | tuple[np.ndarray, int]


class AudioError(RuntimeError):
    """A tool (espeak-ng, sox) failed, or audio could not be read/compared."""


def audio_tools_available() -> bool:
    """True if ``espeak-ng`` and ``sox`` are on PATH (needed by :func:`speech_wav`)."""
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def pesq_available() -> bool:
    """True if the ``pesq`` package can be imported."""
    try:
        import pesq  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------ WAV I/O


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a PCM WAV (8/16/24/32-bit int or 32-bit float) as mono float64.

    Multi-channel files are mixed down.  RIFF/data sizes of 0 or 0xFFFFFFFF
    (never fixed up) are ignored: the data chunk then runs to the end of file.
    """
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(f"{path}: not a RIFF/WAVE file")
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    pcm: bytes | None = None
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt ":
            tag, ch, rate = struct.unpack_from("<HHI", data, body)
            bits = struct.unpack_from("<H", data, body + 14)[0]
            if tag == 0xFFFE and size >= 26:  # WAVE_FORMAT_EXTENSIBLE: sub-format GUID
                tag = struct.unpack_from("<H", data, body + 24)[0]
            fmt = (tag, ch, rate, bits)
        elif cid == b"data":
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            pcm = data[body:end]
            break
        pos = body + size + (size & 1)
    if fmt is None or pcm is None:
        raise AudioError(f"{path}: no fmt/data chunk")
    tag, ch, rate, bits = fmt
    width = bits // 8
    if ch < 1 or width < 1:
        raise AudioError(f"{path}: bad format {fmt}")
    pcm = pcm[: len(pcm) - len(pcm) % (width * ch)]
    if tag == 3 and bits == 32:
        x = np.frombuffer(pcm, dtype="<f4").astype(np.float64)
    elif tag == 1 and bits == 16:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    elif tag == 1 and bits == 32:
        x = np.frombuffer(pcm, dtype="<i4").astype(np.float64) / 2147483648.0
    elif tag == 1 and bits == 8:
        x = (np.frombuffer(pcm, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif tag == 1 and bits == 24:
        b = np.frombuffer(pcm, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v & 0x800000, v - 0x1000000, v)
        x = v.astype(np.float64) / 8388608.0
    else:
        raise AudioError(f"{path}: unsupported WAV format tag={tag} bits={bits}")
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, int(rate)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int) -> Path:
    """Write mono float samples (clipped to [-1, 1]) as 16-bit PCM WAV."""
    x = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 32767 / 32768)
    pcm = np.round(x * 32768.0).astype("<i2").tobytes()
    hdr = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    hdr += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    hdr += b"data" + struct.pack("<I", len(pcm))
    p = Path(path)
    p.write_bytes(hdr + pcm)
    return p


def load(audio: AudioLike, rate: int | None = None) -> tuple[np.ndarray, int]:
    """Samples and rate of a WAV path or ``(samples, rate)``; resampled to ``rate`` if given."""
    if isinstance(audio, tuple):
        x, sr = np.asarray(audio[0], dtype=np.float64), int(audio[1])
        if x.ndim > 1:
            x = x.mean(axis=1)
    else:
        x, sr = read_wav(audio)
    if rate is not None and rate != sr:
        x, sr = resample(x, sr, rate), rate
    return x, sr


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling in the frequency domain (truncate/zero-pad the spectrum)."""
    x = np.asarray(samples, dtype=np.float64)
    if from_rate == to_rate or len(x) == 0:
        return x.copy()
    n_out = int(round(len(x) * to_rate / from_rate))
    spec = np.fft.rfft(x)
    n_bins = n_out // 2 + 1
    if n_bins <= len(spec):
        spec = spec[:n_bins].copy()
        if n_out % 2 == 0:
            spec[-1] = spec[-1].real  # Nyquist bin of the shorter signal
    else:
        spec = np.concatenate([spec, np.zeros(n_bins - len(spec), dtype=complex)])
    return np.fft.irfft(spec, n_out) * (n_out / len(x))


def rms(samples: np.ndarray) -> float:
    x = np.asarray(samples, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


# ------------------------------------------------------------- generation


def _run(cmd: list[str]) -> None:
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    except FileNotFoundError as e:
        raise AudioError(f"{cmd[0]} not found on PATH") from e
    except subprocess.CalledProcessError as e:
        raise AudioError(f"{' '.join(cmd)} failed: {e.stderr.decode(errors='replace')[-2000:]}") from e


def speech_wav(
    path: str | os.PathLike[str] | None = None,
    rate: int = 8000,
    seconds: float | None = 30.0,
    *,
    text: str = HARVARD_SENTENCES,
    voice: str = "en-us",
    wpm: int = 160,
    gap: float = 0.5,
    level_db: float = -3.0,
) -> Path:
    """A mono 16-bit speech WAV at ``rate`` Hz, ``seconds`` long (looped).

    The text is spoken by espeak-ng, resampled with sox (high quality,
    dithered), normalised to ``level_db`` dBFS peak and followed by ``gap``
    seconds of silence; copies of that are concatenated and the result cut
    to exactly ``seconds`` (``None``: one pass of the text).  The file is
    cached in :data:`CACHE_DIR`; with ``path`` a copy is written there and
    that path returned, else the cached file itself (do not modify it).
    """
    if rate not in (8000, 16000, 24000, 32000, 44100, 48000):
        raise ValueError(f"unsupported rate {rate}")
    key = hashlib.sha256(repr((text, voice, wpm, gap, level_db, rate, seconds)).encode()).hexdigest()[:16]
    secs = "once" if seconds is None else f"{seconds:g}s"
    cached = CACHE_DIR / f"speech-{rate}-{secs}-{key}.wav"
    if not cached.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
            raw, one = Path(tmp) / "raw.wav", Path(tmp) / "one.wav"
            _run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text])
            _run(
                ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(one),
                 "gain", "-n", str(level_db), "pad", "0", f"{gap:g}"]
            )  # fmt: skip
            x, sr = read_wav(one)
            if seconds is not None:
                n = int(round(seconds * sr))
                x = np.tile(x, -(-n // len(x)))[:n]
            out = Path(tmp) / "out.wav"
            write_wav(out, x, sr)
            os.replace(out, cached)  # atomic: concurrent test workers never see half a file
    if path is None:
        return cached
    dest = Path(path)
    shutil.copyfile(cached, dest)
    return dest


def noise_wav(path: str | os.PathLike[str], rate: int = 8000, seconds: float = 5.0, seed: int = 1) -> Path:
    """White Gaussian noise at about -20 dBFS RMS (a "does not match" reference)."""
    rng = np.random.default_rng(seed)
    return write_wav(path, np.clip(rng.normal(0, 0.1, int(rate * seconds)), -1, 1), rate)


# ------------------------------------------------------------- comparison


def _xcorr(ref: np.ndarray, rec: np.ndarray) -> tuple[np.ndarray, int]:
    """Full cross-correlation c[k] = sum_n rec[n + k] * ref[n]; returns (c, lag of c[0])."""
    n = len(ref) + len(rec) - 1
    nfft = 1 << (n - 1).bit_length()
    c = np.fft.irfft(np.fft.rfft(rec, nfft) * np.conj(np.fft.rfft(ref, nfft)), nfft)
    # lags 0..len(rec)-1 sit at the start, negative lags -(len(ref)-1)..-1 at the end
    c = np.concatenate([c[nfft - (len(ref) - 1) :], c[: len(rec)]])
    return c, -(len(ref) - 1)


def _overlap(ref: np.ndarray, rec: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Equally long spans with rec[offset + i] matching ref[i]."""
    r0 = max(0, -offset)
    d0 = max(0, offset)
    n = max(0, min(len(ref) - r0, len(rec) - d0))
    return ref[r0 : r0 + n], rec[d0 : d0 + n]


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b) / den) if den > 0 else 0.0


def align(
    reference: AudioLike,
    recording: AudioLike,
    rate: int | None = None,
    *,
    max_offset: float | None = None,
) -> tuple[int, float]:
    """Find where ``reference`` occurs in ``recording``.

    Returns ``(offset_samples, correlation)``: ``recording[offset + i]``
    lines up with ``reference[i]`` (negative when the recording starts
    after the reference did), in samples at ``rate`` (default: the
    recording's rate; the other signal is resampled to it).  The offset is
    the peak of the FFT cross-correlation (sign-insensitive, so an inverted
    recording is found too); ``correlation`` is the normalised correlation
    (cosine similarity, sign kept) of the aligned overlap -- about 1.0 for a
    faithful copy at any gain, near 0 for unrelated audio.  ``max_offset``
    (seconds) limits the searched delay to ``[-max_offset, +max_offset]``.
    With a looped reference several offsets fit equally well; any is fine.
    """
    if rate is None:
        rate = load(recording)[1] if not isinstance(recording, tuple) else int(recording[1])
    ref, _ = load(reference, rate)
    rec, _ = load(recording, rate)
    if len(ref) == 0 or len(rec) == 0:
        raise AudioError("empty signal")
    c, lag0 = _xcorr(ref, rec)
    lags = np.arange(len(c)) + lag0
    score = np.abs(c)
    if max_offset is not None:
        lim = int(round(max_offset * rate))
        score = np.where(np.abs(lags) <= lim, score, -1.0)
    # A looped reference matches equally well at several lags: take the smallest |lag|
    # among the (near-)maximal peaks so the offset reads as a delay.
    best = float(np.max(score))
    cand = np.flatnonzero(score >= 0.99 * best)
    offset = int(lags[cand[int(np.argmin(np.abs(lags[cand])))]])
    a, b = _overlap(ref, rec, offset)
    return offset, _ncc(a, b)


def aligned_spans(
    reference: AudioLike,
    recording: AudioLike,
    rate: int,
    *,
    max_offset: float | None = None,
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(reference span, recording span, offset, correlation) at ``rate``, equally long."""
    ref, _ = load(reference, rate)
    rec, _ = load(recording, rate)
    offset, corr = align((ref, rate), (rec, rate), rate, max_offset=max_offset)
    a, b = _overlap(ref, rec, offset)
    return a, b, offset, corr


def pesq_score(
    reference_wav: AudioLike,
    degraded_wav: AudioLike,
    mode: str = "nb",
    *,
    max_offset: float | None = None,
    max_seconds: float | None = None,
) -> float:
    """PESQ MOS-LQO of ``degraded_wav`` against ``reference_wav``.

    ``mode`` "nb" (P.862, both signals at 8 kHz) or "wb" (P.862.2, 16 kHz);
    signals at other rates are resampled.  Both are aligned with
    :func:`align` and cut to the common span first (optionally at most
    ``max_seconds`` long), so a long looped reference and a short recording
    can be compared directly.  Raises :class:`AudioError` when the span is
    too short or PESQ finds no speech.
    """
    try:
        from pesq import pesq as _pesq
    except ImportError as e:
        raise AudioError("the 'pesq' package is not installed (pip install pesq)") from e
    if mode not in ("nb", "wb"):
        raise ValueError("mode must be 'nb' or 'wb'")
    fs = 8000 if mode == "nb" else 16000
    a, b, _, _ = aligned_spans(reference_wav, degraded_wav, fs, max_offset=max_offset)
    if max_seconds is not None:
        a, b = a[: int(max_seconds * fs)], b[: int(max_seconds * fs)]
    if len(a) < fs // 4:
        raise AudioError(f"aligned overlap too short for PESQ ({len(a)} samples)")
    try:
        return float(_pesq(fs, a.astype(np.float32), b.astype(np.float32), mode))
    except Exception as e:  # pesq.NoUtterancesError, pesq.PesqError
        raise AudioError(f"PESQ failed: {e!r}") from e


@dataclass(frozen=True)
class AudioMatch:
    """Result of :func:`compare`.

    ``offset_ms``: delay of the reference inside the recording;
    ``correlation``: normalised correlation of the aligned overlap;
    ``pesq_nb``/``pesq_wb``: PESQ MOS-LQO (``pesq_wb`` None when the
    recording is below 16 kHz, either None when PESQ is unavailable/failed);
    ``rms_ratio``: RMS(recording span) / RMS(reference span) -- the gain;
    ``overlap_s``: length of the compared span in seconds.
    """

    offset_ms: float
    correlation: float
    pesq_nb: float | None
    pesq_wb: float | None
    rms_ratio: float
    overlap_s: float = 0.0

    def __str__(self) -> str:
        def f(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.2f}"

        return (
            f"offset={self.offset_ms:.1f} ms corr={self.correlation:.3f} PESQ-NB={f(self.pesq_nb)} "
            f"PESQ-WB={f(self.pesq_wb)} rms_ratio={self.rms_ratio:.3f} overlap={self.overlap_s:.2f} s"
        )


def compare(
    reference: AudioLike,
    recording: AudioLike,
    *,
    wb: bool | None = None,
    max_offset: float | None = None,
) -> AudioMatch:
    """Align ``recording`` to ``reference`` and score it.

    Alignment, correlation and gain are computed at the recording's rate.
    PESQ-WB is computed when ``wb`` is True, or by default when both signals
    are at >= 16 kHz.
    """
    ref, ref_rate = load(reference)
    rec, rate = load(recording)
    a, b, offset, corr = aligned_spans((ref, ref_rate), (rec, rate), rate, max_offset=max_offset)
    if wb is None:
        wb = rate >= 16000 and ref_rate >= 16000
    nb_score: float | None = None
    wb_score: float | None = None
    if pesq_available():
        # Score only the aligned span (already cut) to keep both PESQ runs consistent.
        try:
            nb_score = pesq_score((a, rate), (b, rate), "nb", max_offset=0.05)
        except AudioError:
            nb_score = None
        if wb:
            try:
                wb_score = pesq_score((a, rate), (b, rate), "wb", max_offset=0.05)
            except AudioError:
                wb_score = None
    ra = rms(a)
    return AudioMatch(
        offset_ms=offset * 1000.0 / rate,
        correlation=corr,
        pesq_nb=nb_score,
        pesq_wb=wb_score,
        rms_ratio=rms(b) / ra if ra > 0 else 0.0,
        overlap_s=len(a) / rate,
    )
