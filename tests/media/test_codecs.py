"""Audio codecs behind the AudioCodec interface, and the resampler they use."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest

from softphone.media.audio import (
    FRAME_MS,
    FRAME_SAMPLES,
    RATE,
    Resampler,
    level_dbfs,
    resample,
    silence,
    to_int16,
)
from softphone.media.codecs import AudioCodec, OpusCodec, UnsupportedCodec, make_codec, parse_fmtp

CODECS = [  # name as found in SDP, payload type, clock rate, channels
    ("PCMU", 0, 8000, 1),
    ("PCMA", 8, 8000, 1),
    ("G722", 9, 8000, 1),
    ("opus", 111, 48000, 2),
]


def sine(freq: float, seconds: float, amplitude: float = 10000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return to_int16(amplitude * np.sin(2 * np.pi * freq * t))


def frames(x: np.ndarray) -> list[np.ndarray]:
    return [x[i : i + FRAME_SAMPLES] for i in range(0, len(x) - FRAME_SAMPLES + 1, FRAME_SAMPLES)]


def roundtrip(codec: AudioCodec, x: np.ndarray) -> np.ndarray:
    return np.concatenate([codec.decode(codec.encode(f)) for f in frames(x)])


def sine_snr(y: np.ndarray, freq: float, skip: float = 0.1) -> tuple[float, float]:
    """SNR of a decoded sine after alignment: the best-fitting sine of that frequency (any phase,
    i.e. any delay, fractional included, and any gain) is the signal, the rest is noise and
    distortion. Returns (SNR in dB, fitted amplitude)."""
    y = y[int(skip * RATE) :].astype(np.float64)
    t = np.arange(len(y)) / RATE
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t), np.ones_like(t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    fitted = basis[:, :2] @ coef[:2]
    residual = y - basis @ coef
    return float(10 * np.log10(np.sum(fitted**2) / np.sum(residual**2))), float(np.hypot(*coef[:2]))


def aligned_snr(x: np.ndarray, y: np.ndarray, max_delay: int = 2000) -> tuple[int, float]:
    """(delay in samples, SNR in dB) of y against x, at the delay that correlates best."""
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    ref = x[4800 : 4800 + 24000]
    d = int(np.argmax([np.dot(ref, y[4800 + k : 4800 + k + 24000]) for k in range(max_delay)]))
    a, b = x[4800 : len(y) - d], y[4800 + d :]
    return d, float(10 * np.log10(np.sum(a**2) / np.sum((a - b) ** 2)))


def multitone(seconds: float, low: float, high: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in rng.uniform(low, high, 40))
    return to_int16(np.asarray(x) / np.std(x) * 3000.0)


# -- audio.py ---------------------------------------------------------------------------------


def test_internal_format_constants() -> None:
    assert (RATE, FRAME_MS, FRAME_SAMPLES) == (48000, 20, 960)
    s = silence()
    assert s.dtype == np.int16 and s.shape == (960,) and not s.any()


def test_level_dbfs() -> None:
    assert level_dbfs(silence()) == -120.0
    assert level_dbfs(np.full(960, 32767, dtype=np.int16)) == pytest.approx(0.0, abs=0.01)
    assert level_dbfs(sine(1000, 0.02, 32767)) == pytest.approx(-3.01, abs=0.05)
    assert level_dbfs(sine(1000, 0.02, 3276.7)) == pytest.approx(-23.01, abs=0.05)


def test_to_int16_rounds_and_saturates() -> None:
    assert to_int16([0.4, 0.6, -0.6, 40000, -40000]).tolist() == [0, 1, -1, 32767, -32768]


@pytest.mark.parametrize(
    ("rate_in", "rate_out"), [(48000, 8000), (8000, 48000), (48000, 16000), (16000, 48000)]
)
def test_resampler_gives_whole_frames_and_is_seamless_across_frames(rate_in: int, rate_out: int) -> None:
    t = np.arange(rate_in) / rate_in
    x = 10000 * np.sin(2 * np.pi * 1000 * t)
    n = rate_in // 50
    r = Resampler(rate_in, rate_out)
    parts = [r.process(x[i : i + n]) for i in range(0, len(x), n)]
    assert {len(p) for p in parts} == {rate_out // 50}
    # cutting into frames changes nothing: no clicks at frame boundaries
    assert np.array_equal(np.concatenate(parts), resample(x, rate_in, rate_out))
    # a whole number of output samples of delay, and > 70 dB SNR in the pass band
    assert r.delay == int(r.delay)
    y = np.concatenate(parts)[200:].astype(np.float64)
    tt = (np.arange(len(y)) + 200 - r.delay) / rate_out
    ref = 10000 * np.sin(2 * np.pi * 1000 * tt)
    assert 10 * np.log10(np.sum(ref**2) / np.sum((y - ref) ** 2)) > 70


@pytest.mark.parametrize(
    ("rate_in", "rate_out"), [(48000, 8000), (8000, 48000), (48000, 16000), (16000, 48000), (44100, 48000)]
)
def test_resampler_blocks_of_any_size_and_reset(rate_in: int, rate_out: int) -> None:
    # whatever the block sizes, the output is the one-shot output; reset starts afresh
    x = multitone(0.3, 100, 3000)[: rate_in * 3 // 10].astype(np.float64)
    whole = resample(x, rate_in, rate_out)
    r = Resampler(rate_in, rate_out)
    sizes = [rate_in // 50, 1, 7, rate_in // 50, 333, rate_in // 50, 2000]
    parts: list[np.ndarray] = []
    pos = 0
    while pos < len(x):
        size = sizes[len(parts) % len(sizes)]
        parts.append(r.process(x[pos : pos + size]))
        pos += size
    assert np.array_equal(np.concatenate(parts), whole)
    r.reset()
    assert np.array_equal(r.process(x[:960]), Resampler(rate_in, rate_out).process(x[:960]))


def test_resampler_rejects_what_it_must_not_pass() -> None:
    # a 5 kHz tone at 48 kHz would alias to 3 kHz at 8 kHz: it must be filtered out (>= 60 dB)
    x = sine(5000, 0.5, 10000)
    y = resample(x, 48000, 8000)[400:]
    assert level_dbfs(y) < level_dbfs(x) - 60


def test_resampler_handles_44100() -> None:
    r = Resampler(44100, 48000)
    out = [len(r.process(np.zeros(882))) for _ in range(100)]
    assert sum(out) == 96000 and set(out) <= {959, 960, 961}


# -- make_codec ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "pt", "clock", "channels"), CODECS)
def test_make_codec_attributes(name: str, pt: int, clock: int, channels: int) -> None:
    codec = make_codec(name.lower(), pt, clock, channels)
    assert isinstance(codec, AudioCodec)
    assert codec.name == name
    assert codec.payload_type == pt
    assert codec.clock_rate == clock
    assert codec.timestamp_step == {"PCMU": 160, "PCMA": 160, "G722": 160, "opus": 960}[name]


def test_names_are_case_insensitive() -> None:
    assert make_codec("Opus", 96, 48000, 2).name == "opus"
    assert make_codec("pcma", 8, 8000).name == "PCMA"
    assert make_codec("g722", 9, 8000).name == "G722"


@pytest.mark.parametrize(
    ("name", "clock"), [("G729", 8000), ("PCMU", 16000), ("G722", 16000), ("opus", 8000)]
)
def test_unsupported_codecs_and_clock_rates(name: str, clock: int) -> None:
    with pytest.raises(UnsupportedCodec):
        make_codec(name, 18, clock)


def test_parse_fmtp() -> None:
    assert parse_fmtp(None) == {}
    assert parse_fmtp("minptime=10; useinbandfec=1;stereo") == {
        "minptime": "10",
        "useinbandfec": "1",
        "stereo": "",
    }
    assert parse_fmtp("0-15") == {"0-15": ""}


@pytest.mark.parametrize(("name", "pt", "clock", "channels"), CODECS)
def test_frame_sizes(name: str, pt: int, clock: int, channels: int) -> None:
    codec = make_codec(name, pt, clock, channels)
    sizes = set()
    for f in frames(sine(440, 0.5)):
        payload = codec.encode(f)
        sizes.add(len(payload))
        out = codec.decode(payload)
        assert out.dtype == np.int16 and out.shape == (FRAME_SAMPLES,)
    if name == "opus":
        assert max(sizes) < 200  # 32 kbit/s: about 80 bytes
    else:
        assert sizes == {160}  # G.711: 160 samples; G.722: 320 samples at 4 bits


def test_encode_needs_one_frame() -> None:
    codec = make_codec("PCMU", 0, 8000)
    with pytest.raises(ValueError):
        codec.encode(np.zeros(480, dtype=np.int16))


# -- quality ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "minimum"), [("PCMU", 30.0), ("PCMA", 30.0), ("G722", 25.0), ("opus", 15.0)]
)
def test_1khz_sine_roundtrip_snr(name: str, minimum: float) -> None:
    codec = make_codec(name, 0, 48000 if name == "opus" else 8000, 2 if name == "opus" else 1)
    y = roundtrip(codec, sine(1000, 1.5))
    # steady state: libopus starts a pure tone in hybrid mode (~16 dB) and moves to CELT (~44 dB)
    # within its first 0.5 s
    snr, amplitude = sine_snr(y, 1000, skip=0.5)
    assert snr > minimum
    assert 20 * np.log10(amplitude / 10000) == pytest.approx(0.0, abs=0.5)


@pytest.mark.parametrize(
    ("name", "delay", "minimum"), [("PCMU", 264, 35.0), ("PCMA", 264, 35.0), ("G722", 198, 28.0)]
)
def test_waveform_codecs_keep_the_waveform_with_a_fixed_delay(name: str, delay: int, minimum: float) -> None:
    # 40 tones in the telephone band: the output is the input, delayed by a whole number of samples
    x = multitone(1.0, 200, 3300)
    d, snr = aligned_snr(x, roundtrip(make_codec(name, 0, 8000), x))
    assert d == delay  # 5.5 ms for G.711 (resampling filters), 4.1 ms for G.722 (+ its QMF)
    assert snr > minimum


def test_g722_passes_wideband_audio_and_g711_does_not() -> None:
    x = sine(6000, 0.5)
    assert level_dbfs(roundtrip(make_codec("G722", 9, 8000), x)[2400:]) > level_dbfs(x) - 1
    assert level_dbfs(roundtrip(make_codec("PCMU", 0, 8000), x)[2400:]) < level_dbfs(x) - 40


def test_opus_passes_fullband_audio() -> None:
    x = sine(12000, 0.5)
    assert level_dbfs(roundtrip(make_codec("opus", 111, 48000, 2), x)[4800:]) > level_dbfs(x) - 3


def test_opus_fmtp_bitrate_and_cbr() -> None:
    x = sine(440, 0.5)
    low = make_codec("opus", 111, 48000, 2, "maxaveragebitrate=16000")
    assert np.mean([len(low.encode(f)) for f in frames(x)][5:]) <= 16000 / 8 / 50 * 1.2
    cbr = make_codec("opus", 111, 48000, 2, "maxaveragebitrate=24000;cbr=1")
    assert {len(cbr.encode(f)) for f in frames(x)[5:]} == {24000 // 8 // 50}
    narrow = make_codec("opus", 111, 48000, 2, "maxplaybackrate=8000")
    y = roundtrip(narrow, sine(6000, 0.5))
    assert level_dbfs(y[4800:]) < -50  # nothing above 4 kHz is sent


def test_opus_decodes_a_stereo_stream_to_mono() -> None:
    enc = av.CodecContext.create("libopus", "w")
    enc.format = "s16"
    enc.layout = "stereo"
    enc.sample_rate = 48000
    enc.time_base = fractions.Fraction(1, 48000)
    enc.bit_rate = 64000
    left = sine(1000, 1.0)
    codec = make_codec("opus", 111, 48000, 2)
    out = []
    for i, f in enumerate(frames(left)):
        stereo = np.stack([f, np.zeros_like(f)], axis=1).reshape(1, -1)  # left only
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = 48000
        frame.pts = i * FRAME_SAMPLES
        for packet in enc.encode(frame):
            out.append(codec.decode(bytes(packet)))
    y = np.concatenate(out)
    assert all(len(o) == FRAME_SAMPLES for o in out)
    snr, amplitude = sine_snr(y, 1000)
    assert snr > 15
    assert 20 * np.log10(amplitude / 5000) == pytest.approx(0.0, abs=1.0)  # (L + R) / 2


def test_mono_opus_decoder_accepts_stereo_streams_too() -> None:
    stereo_sender = make_codec("opus", 111, 48000, 2)
    mono_receiver = make_codec("opus", 111, 48000, 1)
    y = np.concatenate([mono_receiver.decode(stereo_sender.encode(f)) for f in frames(sine(1000, 0.5))])
    assert sine_snr(y, 1000)[0] > 15


# libopus called directly (media/libopus.py) must be FFmpeg's libopus wrapper, byte for byte

direct_opus = pytest.mark.skipif(
    not OpusCodec(111, 2).direct, reason="libopus cannot be called directly here: PyAV is used"
)


def speechlike(seconds: float) -> np.ndarray:
    """Voiced segments with pauses and a noise burst: opus switches modes and bandwidths on it."""
    x = voiced(seconds).astype(np.float64)
    x[int(0.3 * RATE) : int(0.5 * RATE)] = 0.0
    rng = np.random.default_rng(7)
    x[int(0.6 * RATE) : int(0.8 * RATE)] = rng.normal(0.0, 2000.0, int(0.8 * RATE) - int(0.6 * RATE))
    return to_int16(x)


@direct_opus
@pytest.mark.parametrize(
    "fmtp",
    [
        None,
        "maxaveragebitrate=16000",
        "maxaveragebitrate=24000;cbr=1",
        "useinbandfec=1",
        "maxplaybackrate=8000",
        "maxplaybackrate=16000;useinbandfec=1;cbr=1",
    ],
)
def test_direct_opus_encoder_gives_the_packets_of_ffmpegs(fmtp: str | None) -> None:
    direct, pyav = OpusCodec(111, 2, fmtp, direct=True), OpusCodec(111, 2, fmtp, direct=False)
    for f in frames(speechlike(1.5)):
        assert direct.encode(f) == pyav.encode(f)


def stereo_packets(x: np.ndarray) -> list[bytes]:
    enc = av.CodecContext.create("libopus", "w")
    enc.format, enc.layout, enc.sample_rate = "s16", "stereo", 48000
    enc.time_base = fractions.Fraction(1, 48000)
    enc.bit_rate = 64000
    out = []
    for i, f in enumerate(frames(x)):
        stereo = np.stack([f, f[::-1]], axis=1).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48000, i * FRAME_SAMPLES
        out += [bytes(p) for p in enc.encode(frame)]
    return out


@direct_opus
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("stream", ["mono", "stereo"])
def test_direct_opus_decoder_gives_the_samples_of_ffmpegs(channels: int, stream: str) -> None:
    x = speechlike(1.5)
    packets = [make_codec("opus", 111, 48000, 2).encode(f) for f in frames(x)] if stream == "mono" else []
    packets = packets or stereo_packets(x)
    direct, pyav = OpusCodec(111, channels, direct=True), OpusCodec(111, channels, direct=False)
    for i, packet in enumerate(packets):
        if i % 9 == 4:  # a loss: libopus concealment
            a, b = direct.conceal(), pyav.conceal()
        elif i % 17 == 8:  # a packet libopus refuses
            a, b = direct.decode(b"\xff\xff\xff\x00garbage"), pyav.decode(b"\xff\xff\xff\x00garbage")
        else:
            a, b = direct.decode(packet), pyav.decode(packet)
        assert a.dtype == b.dtype == np.int16
        assert np.array_equal(a, b)
    assert direct.plc_frames == pyav.plc_frames > 0
    assert direct.decode_errors == pyav.decode_errors > 0


# -- concealment --------------------------------------------------------------------------------


def voiced(seconds: float, f0: float = 150.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(0.5**k * np.sin(2 * np.pi * k * f0 * t + k) for k in range(1, 15) if k * f0 < 3400)
    return to_int16(np.asarray(x) / np.max(np.abs(x)) * 10000)


@pytest.mark.parametrize(("name", "pt", "clock", "channels"), CODECS)
def test_conceal_gives_one_frame_close_to_the_lost_audio(
    name: str, pt: int, clock: int, channels: int
) -> None:
    x = voiced(1.0)
    sender = make_codec(name, pt, clock, channels)
    payloads = [sender.encode(f) for f in frames(x)]
    reference = make_codec(name, pt, clock, channels)
    clean = np.concatenate([reference.decode(p) for p in payloads])
    receiver = make_codec(name, pt, clock, channels)
    lost = {i for i in range(len(payloads)) if i % 10 == 5}
    out = [receiver.conceal() if i in lost else receiver.decode(p) for i, p in enumerate(payloads)]
    assert all(o.dtype == np.int16 and o.shape == (FRAME_SAMPLES,) for o in out)
    y = np.concatenate(out).astype(np.float64)
    ref = clean.astype(np.float64)
    for i in sorted(lost):
        seg = slice(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)
        # silence substitution would score 0 dB; the concealment follows the waveform
        err = np.sum((ref[seg] - y[seg]) ** 2)
        assert 10 * np.log10(np.sum(ref[seg] ** 2) / err) > 6.0
        # and the level stays within 3 dB
        assert abs(level_dbfs(y[seg]) - level_dbfs(ref[seg])) < 3.0


@pytest.mark.parametrize(("name", "pt", "clock", "channels"), CODECS)
def test_conceal_fades_out_over_a_long_loss(name: str, pt: int, clock: int, channels: int) -> None:
    codec = make_codec(name, pt, clock, channels)
    for f in frames(voiced(0.3)):
        codec.decode(codec.encode(f))
    levels = [level_dbfs(codec.conceal()) for _ in range(15)]  # 300 ms
    assert levels[0] > -25
    assert levels[-1] < levels[0] - 30


@pytest.mark.parametrize(("name", "pt", "clock", "channels"), CODECS)
def test_conceal_before_any_packet_is_silence(name: str, pt: int, clock: int, channels: int) -> None:
    out = make_codec(name, pt, clock, channels).conceal()
    assert out.shape == (FRAME_SAMPLES,) and level_dbfs(out) < -80


def test_opus_uses_libopus_concealment() -> None:
    codec = make_codec("opus", 111, 48000, 2)
    for f in frames(voiced(0.2)):
        codec.decode(codec.encode(f))
    codec.conceal()
    assert codec.plc_frames == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("payload", [b"", b"\xff\xff\xff\x00garbage" * 3])
def test_undecodable_opus_payload_is_concealed_not_raised(payload: bytes) -> None:
    codec = make_codec("opus", 111, 48000, 2)
    for f in frames(voiced(0.1)):
        codec.decode(codec.encode(f))
    out = codec.decode(payload)
    assert out.shape == (FRAME_SAMPLES,)


def test_empty_g711_payload_is_concealed() -> None:
    codec = make_codec("PCMA", 8, 8000)
    assert codec.decode(b"").shape == (FRAME_SAMPLES,)
