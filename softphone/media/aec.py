"""Acoustic echo cancellation (AEC) and noise suppression (NS) for the microphone path.

A loudspeaker's sound comes back into the microphone: without echo cancellation the remote party
hears itself, delayed by the round trip. An :class:`EchoCanceller` takes each captured 20 ms frame
together with the frame that was sent to the speaker for the same 20 ms (the *far-end reference*)
and returns the microphone frame with the echo (and, if asked, stationary noise) removed.

Where it goes in the media path (see docs/AEC.md)::

    capture (AudioSource.read) -> EchoCanceller.process(mic, far_end) -> codec.encode -> RTP
    RTP -> jitter buffer -> codec.decode -> AudioSink.write(frame)   # ``frame`` is the next far_end

Backends, best first (``make_echo_canceller(kind="auto")`` picks the first that loads):

``webrtc``
    WebRTC's audio processing module (AEC3 + NS, as in Chrome) through the ``pywebrtc-audio``
    wheel (Apache-2.0, WebRTC itself BSD-3-Clause; wheels for Linux, macOS and Windows; statically
    linked, nothing else to install). AEC3 estimates the echo delay by itself; ``delay_ms`` is
    only a starting hint. The module wants 10 ms frames: the wheel splits each 20 ms frame in two.
    Strongest echo removal; its weak side is double talk, where it ducks the near-end voice.
``speex``
    Xiph's speexdsp (MDF echo canceller + preprocessor for noise and residual echo suppression,
    BSD licence) through ctypes, no Python package needed: it loads the system library
    (Debian ``libspeexdsp1``, Homebrew ``speexdsp``; ``SPEEXDSP_LIB`` names a file elsewhere).
    Its adaptive filter must span the whole echo path, so ``tail_ms`` must exceed the playout +
    capture latency plus the room's reverberation; that is the weak point on real sound cards.
    Less echo removal and slower convergence than WebRTC, but transparent in double talk.
``none``
    :class:`PassThrough`: returns the microphone frame unchanged.

Nothing here raises ImportError: a backend that is not installed (or whose library does not load)
degrades to :class:`PassThrough` with one warning in the log. Frames are the engine's format:
``int16``, shape ``(960,)``, 48 kHz (docs/MEDIA.md); other lengths must be whole blocks of the
backend (10 ms for webrtc, 20 ms for speex). Instances are not thread-safe: call ``process``
from one thread (the send clock), in capture order, once per frame, with the matching far-end
frame (silence when nothing was played).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from softphone.media.audio import RATE

__all__ = [
    "BackendKind",
    "EchoCanceller",
    "PassThrough",
    "SpeexEchoCanceller",
    "WebRtcEchoCanceller",
    "available_backends",
    "make_echo_canceller",
]

log = logging.getLogger(__name__)

Int16Array = npt.NDArray[np.int16]
BackendKind = Literal["auto", "webrtc", "speex", "none"]

DEFAULT_DELAY_MS = 60  # playout + capture buffering of a typical desktop sound card, as a hint
DEFAULT_TAIL_MS = 300  # speex filter length: delay + reverberation it can cancel
DEFAULT_NS_LEVEL = 2  # WebRTC NS level 0-3 = 6, 12, 18, 21 dB of suppression
DEFAULT_SPEEX_NOISE_DB = -20  # speex preprocessor: max attenuation of noise (dB, negative)


@runtime_checkable
class EchoCanceller(Protocol):
    """Removes the far-end echo (and optionally noise) from microphone frames."""

    name: str  # "webrtc", "speex" or "none": the backend actually in use

    def process(self, mic: np.ndarray, far_end: np.ndarray) -> Int16Array:
        """One capture frame in (int16, 20 ms at 48 kHz), the cleaned frame out (same shape/dtype).

        ``far_end`` is what was written to the speaker for the same 20 ms.
        """
        ...

    def reset(self) -> None:
        """Forgets the adapted echo path and noise estimate (e.g. when the audio device changes)."""
        ...


def _check_frames(mic: np.ndarray, far_end: np.ndarray, step: int) -> tuple[Int16Array, Int16Array]:
    m = np.ascontiguousarray(mic, dtype=np.int16).reshape(-1)
    f = np.ascontiguousarray(far_end, dtype=np.int16).reshape(-1)
    if m.shape != f.shape:
        raise ValueError(f"mic and far_end differ in length: {m.size} != {f.size}")
    if m.size % step:
        raise ValueError(f"frame of {m.size} samples is not a whole number of {step}-sample blocks")
    return m, f


class PassThrough:
    """No echo cancellation: returns the microphone frame unchanged (as a new int16 array)."""

    name = "none"

    def process(self, mic: np.ndarray, far_end: np.ndarray) -> Int16Array:
        return np.array(mic, dtype=np.int16, copy=True)

    def reset(self) -> None:
        pass


# --------------------------------------------------------------------------- WebRTC (pywebrtc-audio)


def _import_pywebrtc() -> object | None:
    try:
        import pywebrtc_audio
    except Exception as exc:  # ImportError, or a broken wheel (OSError from the loader)
        log.debug("pywebrtc-audio not usable: %s", exc)
        return None
    return pywebrtc_audio


class WebRtcEchoCanceller:
    """WebRTC AEC3 (+ noise suppression) through ``pywebrtc_audio.AudioProcessor``.

    Runs at 48 kHz (AEC3's full band), so no resampling. The module processes 10 ms blocks; a
    20 ms frame is two of them. The output is 9 ms late (15 ms with noise suppression): the
    module's band-split filters and analysis windows. ``delay_ms`` is a hint for the delay from
    ``AudioSink.write`` to the echo showing up in ``AudioSource.read``; AEC3 estimates the true
    delay itself (bench/erle.py: 40-300 ms, all cancelled from the first second), so the hint is
    only a starting point.
    """

    name = "webrtc"

    def __init__(
        self,
        *,
        noise_suppression: bool = True,
        ns_level: int = DEFAULT_NS_LEVEL,
        delay_ms: int = DEFAULT_DELAY_MS,
        rate: int = RATE,
    ) -> None:
        mod = _import_pywebrtc()
        if mod is None:
            raise RuntimeError("pywebrtc-audio is not installed (pip install pywebrtc-audio)")
        if rate not in (16000, 32000, 48000):
            raise ValueError(f"WebRTC APM runs at 16, 32 or 48 kHz, not {rate}")
        self.rate = rate
        self._block = rate // 100
        self._ap = mod.AudioProcessor(  # type: ignore[attr-defined]
            sample_rate=rate,
            num_channels=1,
            echo_cancellation=True,
            noise_suppression=noise_suppression,
            high_pass_filter=True,
            auto_gain_control=False,
            ns_level=ns_level,
            stream_delay_ms=int(delay_ms),
        )

    @property
    def delay_ms(self) -> int:
        return int(self._ap.stream_delay_ms)

    @delay_ms.setter
    def delay_ms(self, value: int) -> None:
        self._ap.stream_delay_ms = int(value)

    @property
    def speech_probability(self) -> float:
        """The noise suppressor's speech probability for the last frame (0-1)."""
        return float(self._ap.speech_probability)

    def process(self, mic: np.ndarray, far_end: np.ndarray) -> Int16Array:
        m, f = _check_frames(mic, far_end, self._block)
        out: Int16Array = self._ap.process(m, f)
        return out

    def reset(self) -> None:
        self._ap.reset()


# --------------------------------------------------------------------------- speexdsp (ctypes)

_SPEEX_ECHO_SET_SAMPLING_RATE = 24
_SPEEX_PREPROCESS_SET_DENOISE = 0
_SPEEX_PREPROCESS_SET_AGC = 2
_SPEEX_PREPROCESS_SET_DEREVERB = 8
_SPEEX_PREPROCESS_SET_NOISE_SUPPRESS = 18
_SPEEX_PREPROCESS_SET_ECHO_SUPPRESS = 20
_SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
_SPEEX_PREPROCESS_SET_ECHO_STATE = 24

_speex_lib: ctypes.CDLL | None = None
_speex_tried = False


def _speex_candidates() -> list[str]:
    names: list[str] = []
    explicit = os.environ.get("SPEEXDSP_LIB")
    if explicit:
        names.append(explicit)
    found = ctypes.util.find_library("speexdsp")
    if found:
        names.append(found)
    if sys.platform == "darwin":
        names += [
            "libspeexdsp.1.dylib",
            "/opt/homebrew/lib/libspeexdsp.1.dylib",
            "/usr/local/lib/libspeexdsp.1.dylib",
        ]
    elif sys.platform == "win32":
        names += ["speexdsp.dll", "libspeexdsp.dll", "libspeexdsp-1.dll"]
    else:
        names += ["libspeexdsp.so.1", "libspeexdsp.so"]
    return names


def _load_speexdsp() -> ctypes.CDLL | None:
    """The speexdsp shared library with argument types declared, or None (looked up once)."""
    global _speex_lib, _speex_tried
    if _speex_tried:
        return _speex_lib
    _speex_tried = True
    for name in _speex_candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if not hasattr(lib, "speex_echo_state_init") or not hasattr(lib, "speex_preprocess_run"):
            continue
        vp, ci = ctypes.c_void_p, ctypes.c_int
        lib.speex_echo_state_init.restype = vp
        lib.speex_echo_state_init.argtypes = [ci, ci]
        lib.speex_echo_state_destroy.restype = None
        lib.speex_echo_state_destroy.argtypes = [vp]
        lib.speex_echo_ctl.restype = ci
        lib.speex_echo_ctl.argtypes = [vp, ci, vp]
        lib.speex_echo_cancellation.restype = None
        lib.speex_echo_cancellation.argtypes = [vp, vp, vp, vp]
        lib.speex_preprocess_state_init.restype = vp
        lib.speex_preprocess_state_init.argtypes = [ci, ci]
        lib.speex_preprocess_state_destroy.restype = None
        lib.speex_preprocess_state_destroy.argtypes = [vp]
        lib.speex_preprocess_ctl.restype = ci
        lib.speex_preprocess_ctl.argtypes = [vp, ci, vp]
        lib.speex_preprocess_run.restype = ci
        lib.speex_preprocess_run.argtypes = [vp, vp]
        _speex_lib = lib
        log.debug("speexdsp loaded from %s", name)
        break
    else:
        log.debug("speexdsp library not found (tried %s)", ", ".join(_speex_candidates()))
    return _speex_lib


class SpeexEchoCanceller:
    """speexdsp's MDF echo canceller, then its preprocessor (residual echo + noise suppression).

    Runs at 48 kHz in blocks of ``block_ms`` (default 20 ms, one engine frame: speex's own
    frame size). ``tail_ms`` is the filter length: it must cover the whole echo path (sound card
    latency + room), longer tails converge more slowly and cost more CPU.
    With ``noise_suppression=False`` the preprocessor still runs, for residual echo suppression
    only (speex's linear filter alone leaves too much echo), with a 0 dB noise floor. The
    preprocessor's overlap-add delays the output by one block (20 ms).
    """

    name = "speex"

    def __init__(
        self,
        *,
        noise_suppression: bool = True,
        tail_ms: int = DEFAULT_TAIL_MS,
        block_ms: int = 20,
        noise_db: int = DEFAULT_SPEEX_NOISE_DB,
        rate: int = RATE,
    ) -> None:
        lib = _load_speexdsp()
        if lib is None:
            raise RuntimeError("speexdsp library not found (Debian: apt install libspeexdsp1)")
        if (rate * block_ms) % 1000:
            raise ValueError("block_ms must give a whole number of samples")
        self._lib = lib
        self.rate = rate
        self._block = rate * block_ms // 1000
        self._tail = max(self._block, rate * tail_ms // 1000)
        self._noise_suppression = noise_suppression
        self._noise_db = noise_db
        self._echo: int | None = None
        self._pre: int | None = None
        self._out = np.zeros(self._block, dtype=np.int16)
        self._create()

    def _create(self) -> None:
        lib = self._lib
        echo = lib.speex_echo_state_init(self._block, self._tail)
        pre = lib.speex_preprocess_state_init(self._block, self.rate)
        if not echo or not pre:
            raise RuntimeError("speexdsp could not allocate its state")
        self._echo, self._pre = echo, pre
        self._ctl_echo(_SPEEX_ECHO_SET_SAMPLING_RATE, self.rate)
        # The preprocessor applies its residual echo suppression only with denoising on
        # (preprocess.c sets the gain to 1 otherwise); "no noise suppression" is a 0 dB noise floor.
        self._ctl_pre(_SPEEX_PREPROCESS_SET_DENOISE, 1)
        self._ctl_pre(_SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, self._noise_db if self._noise_suppression else 0)
        self._ctl_pre(_SPEEX_PREPROCESS_SET_AGC, 0)
        self._ctl_pre(_SPEEX_PREPROCESS_SET_DEREVERB, 0)
        lib.speex_preprocess_ctl(pre, _SPEEX_PREPROCESS_SET_ECHO_STATE, ctypes.c_void_p(echo))

    def _ctl_echo(self, request: int, value: int) -> None:
        v = ctypes.c_int(value)
        self._lib.speex_echo_ctl(self._echo, request, ctypes.byref(v))

    def _ctl_pre(self, request: int, value: int) -> None:
        v = ctypes.c_int(value)
        self._lib.speex_preprocess_ctl(self._pre, request, ctypes.byref(v))

    def process(self, mic: np.ndarray, far_end: np.ndarray) -> Int16Array:
        m, f = _check_frames(mic, far_end, self._block)
        out = np.empty_like(m)
        buf = self._out
        lib = self._lib
        for i in range(0, m.size, self._block):
            mb = m[i : i + self._block]
            fb = f[i : i + self._block]
            lib.speex_echo_cancellation(self._echo, mb.ctypes.data, fb.ctypes.data, buf.ctypes.data)
            lib.speex_preprocess_run(self._pre, buf.ctypes.data)
            out[i : i + self._block] = buf
        return out

    def reset(self) -> None:
        self._destroy()
        self._create()

    def _destroy(self) -> None:
        if self._pre:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._pre = None
        if self._echo:
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        try:
            self._destroy()
        except Exception:
            pass


# --------------------------------------------------------------------------- factory


def available_backends() -> list[str]:
    """Backends that load on this machine, best first (always ends with "none")."""
    names = []
    if _import_pywebrtc() is not None:
        names.append("webrtc")
    if _load_speexdsp() is not None:
        names.append("speex")
    names.append("none")
    return names


def make_echo_canceller(
    kind: BackendKind | str = "auto",
    *,
    noise_suppression: bool = True,
    delay_ms: int = DEFAULT_DELAY_MS,
    tail_ms: int = DEFAULT_TAIL_MS,
) -> EchoCanceller:
    """An echo canceller for 20 ms int16 frames at 48 kHz.

    ``kind``: ``"auto"`` (best installed: webrtc, then speex), ``"webrtc"``, ``"speex"`` or
    ``"none"`` (pass-through, whatever ``noise_suppression`` says). A backend that cannot be
    loaded gives :class:`PassThrough` and a warning, never an exception; check ``.name``.
    ``delay_ms`` is WebRTC's starting delay hint, ``tail_ms`` speex's filter length.
    """
    if kind == "none":
        return PassThrough()
    if kind not in ("auto", "webrtc", "speex"):
        raise ValueError(f"unknown echo canceller {kind!r} (auto, webrtc, speex, none)")
    order = ["webrtc", "speex"] if kind == "auto" else [kind]
    errors = []
    for name in order:
        try:
            if name == "webrtc":
                return WebRtcEchoCanceller(noise_suppression=noise_suppression, delay_ms=delay_ms)
            return SpeexEchoCanceller(noise_suppression=noise_suppression, tail_ms=tail_ms)
        except Exception as exc:
            errors.append(f"{name}: {exc}")
    log.warning("no echo canceller available (%s); microphone audio goes out unprocessed", "; ".join(errors))
    return PassThrough()
