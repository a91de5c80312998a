"""Audio codecs: PCMU, PCMA (G.711), G722 and opus, behind one ``AudioCodec`` interface.

Every codec takes and returns the engine's internal audio (int16 mono, 48 kHz, 20 ms frames,
see docs/MEDIA.md). The codec cores are FFmpeg's (through PyAV, the library aiortc's own codec
classes wrap): ``pcm_mulaw``, ``pcm_alaw``, ``g722`` and ``libopus``. aiortc's wrapper classes
are not used because they each bring an ``av.AudioResampler`` whose output size varies from call to
call; here resampling is done by ``audio.Resampler`` (stateful polyphase FIR, exactly one output
frame per input frame; none for opus, already at 48 kHz), and concealment is added:

* G.711 and G.722: ``plc.Concealer`` at the codec's native rate (8 or 16 kHz), before
  up-sampling, so that the up-sampler sees one continuous signal;
* opus: libopus's own concealment. FFmpeg's libopus wrapper passes a packet's bytes straight to
  ``opus_decode``; libopus treats a frame of at most one byte as lost and runs its PLC (RFC 6716
  §4.4, ``opus_decode_frame``), so ``conceal`` decodes the TOC byte of the last packet alone.
  In-band FEC (``decode_fec=1``) is not reachable through PyAV and is not used on receive.

G.711 being memoryless, FFmpeg's G.711 coder is run once over every possible input to make two
lookup tables (``_g711_tables``); a frame is then coded with one numpy lookup instead of an
``AudioFrame`` and a codec call (the output is FFmpeg's, byte for byte). Opus calls the libopus
FFmpeg links directly where it can (``libopus.py``), configured as FFmpeg configures it: the same
packets and samples without PyAV's per-frame filter graph and objects.

Objects are not thread-safe: use each from one thread (the stream's send or playout path).
"""

from __future__ import annotations

import fractions
from typing import Literal, Protocol, runtime_checkable

import av
import av.error
import numpy as np
import numpy.typing as npt
from av import AudioFrame
from av.audio.codeccontext import AudioCodecContext
from av.packet import Packet

from . import libopus
from .audio import FRAME_MS, FRAME_SAMPLES, RATE, Int16Array, Resampler, silence
from .plc import Concealer

__all__ = [
    "AudioCodec",
    "G711Codec",
    "G722Codec",
    "OpusCodec",
    "UnsupportedCodec",
    "make_codec",
    "parse_fmtp",
    "SUPPORTED_CODECS",
]

SUPPORTED_CODECS = ("PCMU", "PCMA", "G722", "opus")


class UnsupportedCodec(ValueError):
    """``make_codec`` was asked for a codec (or a clock rate) this module cannot do."""


@runtime_checkable
class AudioCodec(Protocol):
    name: str
    clock_rate: int
    payload_type: int

    def encode(self, pcm48: npt.ArrayLike) -> bytes: ...

    def decode(self, payload: bytes) -> Int16Array: ...

    def conceal(self) -> Int16Array: ...

    @property
    def timestamp_step(self) -> int: ...


def parse_fmtp(fmtp: str | None) -> dict[str, str]:
    """``"minptime=10; useinbandfec=1"`` -> ``{"minptime": "10", "useinbandfec": "1"}``.

    Names are lower-cased; a parameter without ``=`` maps to ``""``.
    """
    params: dict[str, str] = {}
    if not fmtp:
        return params
    for part in fmtp.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        params[key.strip().lower()] = value.strip() if sep else ""
    return params


def _context(name: str, mode: Literal["r", "w"], rate: int, layout: str = "mono") -> AudioCodecContext:
    ctx = av.CodecContext.create(name, mode)
    assert isinstance(ctx, AudioCodecContext)
    ctx.format = "s16"
    ctx.layout = layout
    ctx.sample_rate = rate
    if mode == "w":
        ctx.time_base = fractions.Fraction(1, rate)
    return ctx


def _frame48(pcm48: npt.ArrayLike) -> Int16Array:
    x = np.asarray(pcm48)
    if x.dtype != np.int16:
        x = np.clip(np.rint(x.astype(np.float64)), -32768, 32767).astype(np.int16)
    x = x.ravel()
    if len(x) != FRAME_SAMPLES:
        raise ValueError(f"expected {FRAME_SAMPLES} samples (20 ms at 48 kHz), got {len(x)}")
    return x


def _to_mono(frame: AudioFrame) -> Int16Array:
    """Decoded frame (s16, packed mono or stereo) -> int16 mono; stereo is averaged."""
    if frame.format.name == "s16":  # packed s16, what the decoders give: read the plane directly
        channels = frame.layout.nb_channels
        plane = memoryview(frame.planes[0])
        packed: Int16Array = np.frombuffer(plane, dtype=np.int16, count=frame.samples * channels)
        if channels == 1:
            return packed.copy()
        if channels == 2:  # the mean of two int16, rounded half to even as np.rint does
            both = packed.reshape(-1, 2)
            mono: Int16Array = np.rint((both[:, 0].astype(np.int32) + both[:, 1]) * 0.5).astype(np.int16)
            return mono
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        data = data.astype(np.int32).mean(axis=0) if channels > 1 else data[0]
    else:
        data = data.reshape(-1, channels)
        data = data.astype(np.int32).mean(axis=1) if channels > 1 else data[:, 0]
    return np.asarray(np.rint(data), dtype=np.int16)


class _AvCodec:
    """Shared plumbing: 48 kHz <-> native rate, FFmpeg encoder/decoder, PLC at native rate."""

    name: str
    clock_rate: int
    payload_type: int

    def __init__(
        self, *, av_name: str, native_rate: int, decode_layout: str = "mono", contexts: bool = True
    ) -> None:
        self._native_rate = native_rate
        self._native_frame = native_rate * FRAME_MS // 1000
        if contexts:  # not for a codec that calls its library directly
            self._encoder = _context(av_name, "w", native_rate)
            self._decoder = _context(av_name, "r", native_rate, decode_layout)
        self._down = Resampler(RATE, native_rate)
        self._up = Resampler(native_rate, RATE)
        self._pts = 0
        self.decode_errors = 0

    @property
    def timestamp_step(self) -> int:
        return self.clock_rate * FRAME_MS // 1000

    def encode(self, pcm48: npt.ArrayLike) -> bytes:
        native = self._resample_down(pcm48)
        frame = AudioFrame.from_ndarray(native.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._native_rate
        frame.pts = self._pts
        self._pts += len(native)
        return b"".join(bytes(p) for p in self._encoder.encode(frame))

    def _resample_down(self, pcm48: npt.ArrayLike) -> Int16Array:
        frame = _frame48(pcm48)
        if self._native_rate == RATE:
            return frame
        return self._down.process(frame)

    def _decode_native(self, payload: bytes) -> Int16Array | None:
        if not payload:
            return None
        try:
            frames = self._decoder.decode(Packet(payload))
        except av.error.FFmpegError:
            self.decode_errors += 1
            return None
        pcm = [_to_mono(f) for f in frames if isinstance(f, AudioFrame)]
        if not pcm:
            return None
        return np.concatenate(pcm)


class _PlcCodec(_AvCodec):
    """A codec without built-in concealment: plc.Concealer at the native rate."""

    def __init__(self, *, av_name: str, native_rate: int) -> None:
        super().__init__(av_name=av_name, native_rate=native_rate)
        self._plc = Concealer(native_rate, self._native_frame)

    def decode(self, payload: bytes) -> Int16Array:
        native = self._decode_native(payload)
        if native is None:
            return self.conceal()
        return self._up.process(self._plc.good(native))

    def conceal(self) -> Int16Array:
        return self._up.process(self._plc.conceal())


class G711Codec(_PlcCodec):
    """PCMU (mu-law, PT 0) or PCMA (A-law, PT 8): 8 kHz, 160 bytes per 20 ms."""

    def __init__(self, name: str, payload_type: int) -> None:
        upper = name.upper()
        if upper not in ("PCMU", "PCMA"):
            raise UnsupportedCodec(name)
        self.name = upper
        self.clock_rate = 8000
        self.payload_type = payload_type
        av_name = "pcm_mulaw" if upper == "PCMU" else "pcm_alaw"
        super().__init__(av_name=av_name, native_rate=8000)
        self._encode_table, self._decode_table = _g711_tables(av_name)

    def encode(self, pcm48: npt.ArrayLike) -> bytes:
        native = self._resample_down(pcm48)
        return self._encode_table[native.view(np.uint16)].tobytes()

    def _decode_native(self, payload: bytes) -> Int16Array | None:
        if not payload:
            return None
        return self._decode_table[np.frombuffer(payload, dtype=np.uint8)]


_G711_TABLES: dict[str, tuple[npt.NDArray[np.uint8], Int16Array]] = {}


def _g711_tables(av_name: str) -> tuple[npt.NDArray[np.uint8], Int16Array]:
    """FFmpeg's G.711 coder as two lookup tables, made once by running it over every input.

    ``encode[s.view(uint16)]`` is the byte FFmpeg's encoder gives for the int16 sample ``s``;
    ``decode[byte]`` the sample its decoder gives for a byte. G.711 is memoryless, so looking the
    samples up gives exactly FFmpeg's output, without an ``AudioFrame`` and a codec call per frame.
    """
    tables = _G711_TABLES.get(av_name)
    if tables is not None:
        return tables
    encoder = _context(av_name, "w", 8000)
    every_sample = np.arange(65536, dtype=np.uint16).view(np.int16)
    frame = AudioFrame.from_ndarray(every_sample.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = 8000
    frame.pts = 0
    coded = b"".join(bytes(p) for p in [*encoder.encode(frame), *encoder.encode(None)])
    encode = np.frombuffer(coded, dtype=np.uint8).copy()
    decoder = _context(av_name, "r", 8000)
    decoded = [_to_mono(f) for f in decoder.decode(Packet(bytes(range(256)))) if isinstance(f, AudioFrame)]
    decode = np.concatenate(decoded) if decoded else np.zeros(0, dtype=np.int16)
    if len(encode) != 65536 or len(decode) != 256:
        raise RuntimeError(f"{av_name}: unexpected output building the G.711 tables")
    _G711_TABLES[av_name] = (encode, decode)
    return encode, decode


class G722Codec(_PlcCodec):
    """G.722 (PT 9): samples at 16 kHz, RTP clock 8000 (RFC 3551 §4.5.2), 160 bytes per 20 ms."""

    def __init__(self, payload_type: int) -> None:
        self.name = "G722"
        self.clock_rate = 8000
        self.payload_type = payload_type
        super().__init__(av_name="g722", native_rate=16000)


_OPUS_BANDWIDTH_CUTOFF = ((8000, 4000), (12000, 6000), (16000, 8000), (24000, 12000))


class OpusCodec(_AvCodec):
    """Opus (RFC 7587): 48 kHz RTP clock, mono encoding, mono or stereo stream decoded to mono.

    fmtp parameters honoured for the encoder (they are the receiver's wishes, so pass the peer's
    fmtp): ``maxaveragebitrate`` (default 32000), ``useinbandfec=1`` (encode in-band FEC, tuned
    for 10% loss), ``cbr=1``, ``maxplaybackrate`` (caps the encoded bandwidth). ``stereo`` and
    ``sprop-stereo`` need nothing: we always send mono, which every opus decoder accepts, and
    decode with ``channels`` channels (2 for ``opus/48000/2``) then downmix.
    ``usedtx`` is ignored (sending continuously is always allowed).

    The codec is FFmpeg's libopus, called directly (``libopus.py``: same library, same settings,
    same bytes, a third less CPU) where it can be found, else through PyAV; ``direct=False`` forces
    PyAV, ``direct=True`` the direct calls (``UnsupportedCodec`` where they are not available).
    """

    DEFAULT_BITRATE = 32000

    def __init__(
        self, payload_type: int, channels: int = 2, fmtp: str | None = None, *, direct: bool | None = None
    ) -> None:
        self.name = "opus"
        self.clock_rate = 48000
        self.payload_type = payload_type
        self.channels = channels
        lib = libopus.load() if direct is not False else None
        if direct and lib is None:
            raise UnsupportedCodec("opus: libopus cannot be called directly here")
        super().__init__(
            av_name="libopus",
            native_rate=48000,
            decode_layout="stereo" if channels == 2 else "mono",
            contexts=lib is None,
        )
        params = parse_fmtp(fmtp)
        self.bitrate = self.DEFAULT_BITRATE
        if params.get("maxaveragebitrate", "").isascii() and params.get("maxaveragebitrate", "").isdigit():
            self.bitrate = min(510000, max(6000, int(params["maxaveragebitrate"])))
        options = {"application": "voip", "frame_duration": str(FRAME_MS)}
        self.fec = params.get("useinbandfec") == "1"
        if self.fec:
            options.update(fec="1", packet_loss="10")
        if params.get("cbr") == "1":
            options["vbr"] = "off"
        if params.get("maxplaybackrate", "").isascii() and params.get("maxplaybackrate", "").isdigit():
            rate = int(params["maxplaybackrate"])
            for limit, cutoff in _OPUS_BANDWIDTH_CUTOFF:
                if rate <= limit:
                    options["cutoff"] = str(cutoff)
                    break
        self._direct_encoder: libopus.Encoder | None = None
        self._direct_decoder: libopus.Decoder | None = None
        if lib is not None:
            self._direct_encoder = libopus.Encoder(
                lib,
                channels=1,
                frame_samples=FRAME_SAMPLES,
                bitrate=self.bitrate,
                vbr=options.get("vbr") != "off",
                fec=self.fec,
                packet_loss=int(options.get("packet_loss", "0")),
                cutoff=int(options.get("cutoff", "0")),
            )
            self._direct_decoder = libopus.Decoder(lib, channels=2 if channels == 2 else 1)
        else:
            self._encoder.bit_rate = self.bitrate
            self._encoder.options = options
        self._last_toc: int | None = None
        self.plc_frames = 0

    @property
    def direct(self) -> bool:
        """True when libopus is called directly rather than through PyAV."""
        return self._direct_encoder is not None

    def encode(self, pcm48: npt.ArrayLike) -> bytes:
        if self._direct_encoder is None:
            return super().encode(pcm48)
        return self._direct_encoder.encode(_frame48(pcm48))

    def _decode_native(self, payload: bytes) -> Int16Array | None:
        decoder = self._direct_decoder
        if decoder is None:
            return super()._decode_native(payload)
        if not payload:
            return None
        pcm = decoder.decode(payload)
        if pcm is None:
            self.decode_errors += 1
            return None
        return _interleaved_to_mono(pcm, decoder.channels)

    def decode(self, payload: bytes) -> Int16Array:
        pcm = self._decode_native(payload)
        if pcm is None:
            return self.conceal()
        self._last_toc = payload[0]
        return pcm

    def conceal(self) -> Int16Array:
        """libopus PLC: decode the last packet's TOC byte (code 0) with an empty frame.

        The TOC keeps the last packet's mode, bandwidth, frame size and stereo flag, so libopus
        conceals one frame of that size; for frames shorter than 20 ms it is called again, and a
        longer one is cut to 20 ms.
        """
        if self._last_toc is None:
            return silence()
        toc = bytes([self._last_toc & 0xFC])
        pcm: list[Int16Array] = []
        have = 0
        while have < FRAME_SAMPLES:
            got = self._conceal_once(toc)
            if not got or not sum(len(g) for g in got):
                break
            pcm.extend(got)
            have += sum(len(g) for g in got)
        if have < FRAME_SAMPLES:
            return silence()
        self.plc_frames += 1
        return np.concatenate(pcm)[:FRAME_SAMPLES]

    def _conceal_once(self, toc: bytes) -> list[Int16Array]:
        decoder = self._direct_decoder
        if decoder is not None:
            pcm = decoder.decode(toc)
            return [] if pcm is None else [_interleaved_to_mono(pcm, decoder.channels)]
        try:
            frames = self._decoder.decode(Packet(toc))
        except av.error.FFmpegError:
            return []
        return [_to_mono(f) for f in frames if isinstance(f, AudioFrame)]


def _interleaved_to_mono(pcm: Int16Array, channels: int) -> Int16Array:
    """Interleaved int16 -> a new mono array; stereo is averaged as ``_to_mono`` does."""
    if channels == 1:
        return pcm.copy()
    both = pcm.reshape(-1, channels)
    mono: Int16Array = np.rint(both.sum(axis=1, dtype=np.int32) * (1.0 / channels)).astype(np.int16)
    return mono


def make_codec(
    name: str, payload_type: int, clock_rate: int, channels: int = 1, fmtp: str | None = None
) -> AudioCodec:
    """An encoder+decoder for an SDP ``a=rtpmap`` entry (encoding name case-insensitive).

    Raises ``UnsupportedCodec`` for other codecs or impossible clock rates (PCMU/PCMA/G722 must
    be 8000, opus 48000).
    """
    upper = name.upper()
    if upper in ("PCMU", "PCMA"):
        if clock_rate != 8000:
            raise UnsupportedCodec(f"{name}/{clock_rate}")
        return G711Codec(upper, payload_type)
    if upper == "G722":
        if clock_rate != 8000:
            raise UnsupportedCodec(f"{name}/{clock_rate}")
        return G722Codec(payload_type)
    if upper == "OPUS":
        if clock_rate != 48000:
            raise UnsupportedCodec(f"{name}/{clock_rate}")
        return OpusCodec(payload_type, channels=channels, fmtp=fmtp)
    raise UnsupportedCodec(name)
