"""libopus called directly (ctypes), set up exactly as FFmpeg's ``libopus`` wrapper sets it up.

PyAV's ``encode`` sends every audio frame through a filter graph (an ``AudioResampler`` with a fixed
frame size, for encoders without variable frame sizes, which libopus is) and ``decode`` wraps every
packet and frame in Python objects: together about a third of the CPU time of an opus call. The
codec itself is the same library either way: :func:`load` opens the very ``libopus`` that PyAV's
FFmpeg is linked with (found among the libraries mapped into this process), and the encoder and
decoder are created and configured as ``libavcodec/libopusenc.c`` and ``libopusdec.c`` do (the
multistream API with one stream, the same controls), so the packets and samples are identical,
byte for byte (tests/media/test_codecs.py compares both paths).

When that library cannot be found (not Linux, a PyAV built differently) :func:`load` returns None
and ``codecs.OpusCodec`` goes through PyAV as before.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import weakref
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Int16Array = npt.NDArray[np.int16]

OPUS_OK = 0
OPUS_APPLICATION_VOIP = 2048
OPUS_SET_BITRATE = 4002
OPUS_SET_VBR = 4006
OPUS_SET_COMPLEXITY = 4010
OPUS_SET_INBAND_FEC = 4012
OPUS_SET_PACKET_LOSS_PERC = 4014
OPUS_SET_DTX = 4016
OPUS_SET_VBR_CONSTRAINT = 4020
OPUS_SET_MAX_BANDWIDTH = 4004
OPUS_SET_GAIN = 4034
OPUS_SET_PHASE_INVERSION_DISABLED = 4046
# cutoff (Hz, FFmpeg's option) -> OPUS_BANDWIDTH_* (libopusenc.c)
BANDWIDTH_FOR_CUTOFF = {4000: 1101, 6000: 1102, 8000: 1103, 12000: 1104, 20000: 1105}

MAX_FRAME_SAMPLES = 5760  # 120 ms at 48 kHz: the longest opus packet (FFmpeg's MAX_FRAME_SIZE)
MAX_PACKET_BYTES = 1275 * 3 + 7  # what libopusenc.c allocates per stream


def _mapped_libraries(prefix: str) -> list[str]:
    """Paths of the shared libraries of this process whose file name starts with ``prefix``."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "/" + prefix in line}
    except OSError:
        return []
    return sorted(p for p in paths if Path(p).name.startswith(prefix) and ".so" in Path(p).name)


_loaded: LibOpus | None = None
_tried = False


def load() -> LibOpus | None:
    """The libopus FFmpeg (PyAV) uses, or None. Looked up once."""
    global _loaded, _tried
    if _tried:
        return _loaded
    _tried = True
    if sys.platform != "linux" or os.environ.get("SOFTPHONE_OPUS_VIA_PYAV"):
        return None
    import av.codec  # noqa: F401 - maps libavcodec and with it the libopus it is linked with

    candidates = _mapped_libraries("libopus")
    if len(candidates) > 1:  # another libopus in the process too: the one next to libavcodec
        codec_dirs = {str(Path(p).parent) for p in _mapped_libraries("libavcodec")}
        candidates = [p for p in candidates if str(Path(p).parent) in codec_dirs]
    if len(candidates) != 1:
        log.debug("libopus: not found among the mapped libraries (%s); opus goes through PyAV", candidates)
        return None
    try:
        _loaded = LibOpus(ctypes.CDLL(candidates[0]))
    except (OSError, AttributeError) as exc:
        log.debug("libopus: cannot use %s (%s); opus goes through PyAV", candidates[0], exc)
        return None
    return _loaded


class LibOpus:
    """The few libopus functions the codec needs, with their C signatures."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        c_int, c_void_p, c_int32 = ctypes.c_int, ctypes.c_void_p, ctypes.c_int32
        err_p = ctypes.POINTER(c_int)
        self.encoder_create = lib.opus_multistream_encoder_create
        self.encoder_create.restype = c_void_p
        self.encoder_create.argtypes = [c_int32, c_int, c_int, c_int, c_void_p, c_int, err_p]
        # the *_ctl functions are variadic; every control used here takes one int (x86-64 and
        # aarch64 Linux pass variadic ints like fixed ones)
        self.encoder_ctl = lib.opus_multistream_encoder_ctl
        self.encoder_ctl.restype = c_int
        self.encoder_ctl.argtypes = [c_void_p, c_int, c_int32]
        self.encode = lib.opus_multistream_encode
        self.encode.restype = c_int32
        self.encode.argtypes = [c_void_p, c_void_p, c_int, c_void_p, c_int32]
        self.encoder_destroy = lib.opus_multistream_encoder_destroy
        self.encoder_destroy.restype = None
        self.encoder_destroy.argtypes = [c_void_p]
        self.decoder_create = lib.opus_multistream_decoder_create
        self.decoder_create.restype = c_void_p
        self.decoder_create.argtypes = [c_int32, c_int, c_int, c_int, c_void_p, err_p]
        self.decoder_ctl = lib.opus_multistream_decoder_ctl
        self.decoder_ctl.restype = c_int
        self.decoder_ctl.argtypes = [c_void_p, c_int, c_int32]
        self.decode = lib.opus_multistream_decode
        self.decode.restype = c_int
        self.decode.argtypes = [c_void_p, ctypes.c_char_p, c_int32, c_void_p, c_int, c_int]
        self.decoder_destroy = lib.opus_multistream_decoder_destroy
        self.decoder_destroy.restype = None
        self.decoder_destroy.argtypes = [c_void_p]


class OpusError(RuntimeError):
    pass


def _mapping(channels: int) -> ctypes.Array[ctypes.c_ubyte]:
    return (ctypes.c_ubyte * channels)(*range(channels))


class Encoder:
    """One mono (or stereo) opus stream at 48 kHz, ``frame_samples`` per packet."""

    def __init__(
        self,
        lib: LibOpus,
        *,
        channels: int,
        frame_samples: int,
        bitrate: int,
        vbr: bool,
        fec: bool,
        packet_loss: int,
        cutoff: int = 0,
        complexity: int = 10,
    ) -> None:
        self._lib = lib
        self.channels = channels
        self.frame_samples = frame_samples
        err = ctypes.c_int(0)
        # libopusenc.c, mapping family -1: the multistream API, one stream, coupled when stereo
        state = lib.encoder_create(
            48000, channels, 1, channels - 1, _mapping(channels), OPUS_APPLICATION_VOIP, ctypes.byref(err)
        )
        if not state or err.value != OPUS_OK:
            raise OpusError(f"opus_multistream_encoder_create failed ({err.value})")
        self._state: int = state
        self._finalizer = weakref.finalize(self, lib.encoder_destroy, state)
        # libopus_configure_encoder(), in its order
        controls = [
            (OPUS_SET_BITRATE, bitrate),
            (OPUS_SET_COMPLEXITY, complexity),
            (OPUS_SET_VBR, int(vbr)),
            (
                OPUS_SET_VBR_CONSTRAINT,
                0,
            ),  # FFmpeg's vbr=on is unconstrained (libopus defaults to constrained)
            (OPUS_SET_PACKET_LOSS_PERC, packet_loss),
            (OPUS_SET_INBAND_FEC, int(fec)),
        ]
        if cutoff:
            controls.append((OPUS_SET_MAX_BANDWIDTH, BANDWIDTH_FOR_CUTOFF[cutoff]))
        controls += [(OPUS_SET_PHASE_INVERSION_DISABLED, 0), (OPUS_SET_DTX, 0)]
        for request, value in controls:
            ret = lib.encoder_ctl(state, request, value)
            if ret != OPUS_OK:
                raise OpusError(f"opus encoder control {request}={value} failed ({ret})")
        # one input and one output buffer for every packet: no allocation per frame
        self._pcm: Int16Array = np.zeros(frame_samples * channels, dtype=np.int16)
        self._pcm_address = self._pcm.ctypes.data
        self._out = ctypes.create_string_buffer(MAX_PACKET_BYTES)
        self._out_address = ctypes.addressof(self._out)

    def encode(self, pcm: Int16Array) -> bytes:
        """One packet from ``frame_samples`` interleaved int16 samples."""
        np.copyto(self._pcm, pcm, casting="no")
        n = self._lib.encode(
            self._state, self._pcm_address, self.frame_samples, self._out_address, MAX_PACKET_BYTES
        )
        if n < 0:
            raise OpusError(f"opus_multistream_encode failed ({n})")
        return ctypes.string_at(self._out_address, n)


class Decoder:
    """Decodes to ``channels`` interleaved int16 channels at 48 kHz."""

    def __init__(self, lib: LibOpus, *, channels: int) -> None:
        self._lib = lib
        self.channels = channels
        err = ctypes.c_int(0)
        # libopusdec.c without an OpusHead: one stream, coupled when stereo, gain 0
        state = lib.decoder_create(48000, channels, 1, channels - 1, _mapping(channels), ctypes.byref(err))
        if not state or err.value != OPUS_OK:
            raise OpusError(f"opus_multistream_decoder_create failed ({err.value})")
        self._state: int = state
        self._finalizer = weakref.finalize(self, lib.decoder_destroy, state)
        for request, value in ((OPUS_SET_GAIN, 0), (OPUS_SET_PHASE_INVERSION_DISABLED, 0)):
            ret = lib.decoder_ctl(state, request, value)
            if ret != OPUS_OK:
                raise OpusError(f"opus decoder control {request}={value} failed ({ret})")
        self._pcm: Int16Array = np.zeros(MAX_FRAME_SAMPLES * channels, dtype=np.int16)
        self._pcm_address = self._pcm.ctypes.data

    def decode(self, payload: bytes) -> Int16Array | None:
        """The samples of one packet, interleaved, as a view of a buffer the next call reuses; None
        when libopus refuses the packet."""
        n = self._lib.decode(self._state, payload, len(payload), self._pcm_address, MAX_FRAME_SAMPLES, 0)
        if n < 0:
            return None
        return self._pcm[: n * self.channels]
