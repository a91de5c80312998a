"""AudioStream's audio controls, checked by what goes out and what is played: microphone gain,
speaker volume, level meters, local tones mixed into the speaker, and echo cancellation against
a simulated echo path (the speaker's output fed back into the microphone)."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from softphone.media.aec import available_backends, make_echo_canceller
from softphone.media.stream import AudioStream, Level, LevelMeter, StreamSettings
from softphone.media.tones import tone_source
from tests.media.test_aec import far_end_signal

RATE = 48000
FRAME = 960
TICK = 0.02


class RawCodec:
    """16-bit PCM as the payload: what goes out is exactly what the stream encoded."""

    name = "L16"
    clock_rate = 48000
    payload_type = 96
    timestamp_step = FRAME

    def encode(self, pcm48: np.ndarray) -> bytes:
        return np.asarray(pcm48, dtype="<i2").tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(payload, dtype="<i2").astype(np.int16)

    def conceal(self) -> np.ndarray:
        return np.zeros(FRAME, dtype=np.int16)


@dataclass
class Packet:
    payload_type: int
    sequence_number: int
    timestamp: int
    payload: bytes
    marker: bool = False


class LoopRtp:
    """Keeps what the stream sends; hands it packets of a far-end signal, one per tick."""

    def __init__(self) -> None:
        self.on_packet: Any = None
        self.sent: list[np.ndarray] = []
        self.seq = 0

    def send(self, payload: bytes, *, payload_type: int, timestamp: int, marker: bool = False) -> None:
        self.sent.append(np.frombuffer(payload, dtype="<i2").astype(np.int16))

    def deliver(self, frame: np.ndarray, arrival: float) -> None:
        self.seq += 1
        self.on_packet(Packet(96, self.seq, self.seq * FRAME, frame.astype("<i2").tobytes()), arrival)


class Speaker:
    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def write(self, frame: np.ndarray) -> None:
        self.frames.append(frame.copy())

    def close(self) -> None:
        pass

    @property
    def played(self) -> np.ndarray:
        return np.concatenate(self.frames) if self.frames else np.zeros(0, dtype=np.int16)


class Microphone:
    """A microphone in a room: the near-end signal plus the echo of what the speaker played,
    delayed and attenuated through a sparse impulse response."""

    def __init__(self, near: np.ndarray, speaker: Speaker | None = None, *, delay_ms: float = 60) -> None:
        self.near = near.astype(np.float64)
        self.speaker = speaker
        self.delay = int(delay_ms * RATE / 1000)
        self.taps = [(0, 0.5), (480, 0.25), (1500, -0.12), (3100, 0.06)]  # -6 dB, then reflections
        self.pos = 0
        self.captured: list[np.ndarray] = []
        self.echo: list[np.ndarray] = []

    def read(self) -> np.ndarray:
        n0, n1 = self.pos, self.pos + FRAME
        echo = np.zeros(FRAME)
        if self.speaker is not None and self.speaker.frames:
            played = self.speaker.played.astype(np.float64)
            for lag, gain in self.taps:
                start = n0 - self.delay - lag
                idx = np.arange(start, start + FRAME)
                ok = (idx >= 0) & (idx < len(played))
                echo[ok] += gain * played[idx[ok]]
        near = self.near[n0:n1] if n1 <= len(self.near) else np.zeros(FRAME)
        frame = np.clip(np.rint(near + echo), -32768, 32767).astype(np.int16)
        self.pos = n1
        self.captured.append(frame)
        self.echo.append(echo)
        return frame

    def close(self) -> None:
        pass


def make_stream(source: Any, sink: Any, **kwargs: Any) -> tuple[AudioStream, LoopRtp]:
    rtp = LoopRtp()
    stream = AudioStream(rtp, RawCodec(), StreamSettings(send_pt=96, recv_pt=96), source, sink, **kwargs)  # type: ignore[arg-type]
    return stream, rtp


def run(stream: AudioStream, rtp: LoopRtp, far: np.ndarray | None, ticks: int) -> None:
    for i in range(ticks):
        now = i * TICK
        if far is not None and (i + 1) * FRAME <= len(far):
            rtp.deliver(far[i * FRAME : (i + 1) * FRAME], now)
        stream.step(now)


def sine(freq: float, dbfs: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.rint(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-9))


def test_without_aec_and_controls_the_microphone_goes_out_unchanged() -> None:
    speaker = Speaker()
    mic = Microphone(far_end_signal(3, np.random.default_rng(1)), speaker)
    stream, rtp = make_stream(mic, speaker)
    run(stream, rtp, far_end_signal(3, np.random.default_rng(2)).astype(np.int16), 100)
    assert len(rtp.sent) == 100
    assert all(np.array_equal(sent, captured) for sent, captured in zip(rtp.sent, mic.captured, strict=True))


def test_microphone_gain_scales_what_is_sent() -> None:
    stream, rtp = make_stream(Microphone(sine(1000, -20, 1)), Speaker())
    stream.gain = 2.0
    run(stream, rtp, None, 40)
    sent = np.concatenate(rtp.sent[5:])
    assert db(sent) - db(sine(1000, -20, 1)) == pytest.approx(6.02, abs=0.1)


def test_speaker_volume_scales_what_is_played_and_clips_instead_of_wrapping() -> None:
    speaker = Speaker()
    stream, rtp = make_stream(Microphone(np.zeros(RATE)), speaker)
    stream.volume = 0.5
    run(stream, rtp, sine(1000, -6, 1), 40)
    played = speaker.played[10 * FRAME :]
    assert 20 * np.log10(np.abs(played).max() / 32767) == pytest.approx(-12.0, abs=0.1)
    stream.volume = 4.0
    speaker.frames.clear()
    run(stream, rtp, sine(1000, -6, 1), 40)
    loud = speaker.played[10 * FRAME :]
    assert loud.max() == 32767 and loud.min() == -32768
    assert np.abs(np.diff(loud.astype(int))).max() < 20000  # flat tops: no wrap-around from + to -


def test_levels_are_reported_every_100_ms_in_dbfs() -> None:
    reports: list[tuple[Level, Level]] = []
    stream, rtp = make_stream(
        Microphone(sine(1000, -20, 2)), Speaker(), on_levels=lambda m, s: reports.append((m, s))
    )
    run(stream, rtp, sine(440, -6, 2), 50)
    assert len(reports) == 10  # 1 s: one report per 5 frames
    mic, speaker = reports[-1]
    assert mic.peak_db == pytest.approx(-20.0, abs=0.2)
    assert mic.rms_db == pytest.approx(-23.0, abs=0.2)  # a sine's RMS is 3 dB below its peak
    assert speaker.peak_db == pytest.approx(-6.0, abs=0.2)
    assert speaker.rms_db == pytest.approx(-9.0, abs=0.2)


def test_the_level_meter_measures_frames_of_any_size_over_its_five_frames() -> None:
    """Frames are gathered and measured once per report: the peak and RMS are those of all the
    samples of the five frames, whatever their sizes (a device may give odd ones)."""
    rng = np.random.default_rng(3)
    frames = [rng.integers(-30000, 30000, size, dtype=np.int16) for size in (960, 480, 4000, 0, 960)]
    meter = LevelMeter()
    levels = [meter.add(f) for f in frames]
    assert levels[:4] == [None] * 4 and levels[4] is not None
    every = np.concatenate(frames).astype(np.float64)
    peak = np.abs(every).max() / 32768
    rms = np.sqrt(np.mean(every**2)) / 32768
    assert levels[4] == Level(round(20 * np.log10(peak), 1), round(20 * np.log10(rms), 1))
    assert meter.add(np.zeros(960, dtype=np.int16)) is None  # the next report starts afresh


def test_silence_reads_as_the_floor_not_minus_infinity() -> None:
    reports: list[tuple[Level, Level]] = []
    stream, rtp = make_stream(
        Microphone(np.zeros(RATE)), Speaker(), on_levels=lambda m, s: reports.append((m, s))
    )
    run(stream, rtp, None, 10)
    assert reports[-1][0].to_dict() == {"peak": -96.0, "rms": -96.0}
    assert reports[-1][1].peak_db == -96.0


def test_a_tone_is_mixed_into_the_speaker_over_the_call_and_stops_when_removed() -> None:
    speaker = Speaker()
    stream, rtp = make_stream(Microphone(np.zeros(4 * RATE)), speaker)
    stream.tone = tone_source("call_waiting")
    run(stream, rtp, sine(1000, -20, 4), 50)
    beep = speaker.played[: 10 * FRAME].astype(float)
    spectrum = np.abs(np.fft.rfft(beep[2 * FRAME : 10 * FRAME] * np.hanning(8 * FRAME)))
    freqs = np.fft.rfftfreq(8 * FRAME, 1 / RATE)
    strongest = sorted(freqs[np.argsort(spectrum)[-40:]])
    assert any(abs(f - 425) < 10 for f in strongest)
    stream.tone = None
    speaker.frames.clear()
    run(stream, rtp, sine(1000, -20, 4), 20)
    spectrum = np.abs(np.fft.rfft(speaker.played[5 * FRAME :].astype(float)))
    freqs = np.fft.rfftfreq(len(speaker.played[5 * FRAME :]), 1 / RATE)
    assert freqs[np.argmax(spectrum)] == pytest.approx(1000, abs=5)


def test_a_tone_plays_even_while_the_call_receives_nothing() -> None:
    speaker = Speaker()
    stream, rtp = make_stream(Microphone(np.zeros(RATE)), speaker)
    stream.update(StreamSettings(send_pt=96, recv_pt=96, receiving=False))
    run(stream, rtp, None, 5)
    assert speaker.frames == []  # on hold and no tone: nothing written, as before
    stream.tone = tone_source("ringback")
    run(stream, rtp, None, 25)
    assert np.abs(speaker.played).max() > 3000


@pytest.mark.parametrize("backend", [b for b in ("webrtc", "speex") if b in available_backends()])
def test_echo_canceller_removes_the_speakers_echo_from_what_is_sent(backend: str) -> None:
    """ERLE >= 15 dB once converged: far-end speech through the speaker comes back into the
    microphone 60 ms later at -6 dB with reflections; the near end says nothing (-65 dBFS noise)."""
    rng = np.random.default_rng(3)
    seconds = 8
    far = np.clip(far_end_signal(seconds, rng), -32768, 32767).astype(np.int16)
    noise = rng.standard_normal(seconds * RATE) * 32767 * 10 ** (-65 / 20)
    speaker = Speaker()
    mic = Microphone(noise, speaker)
    stream, rtp = make_stream(mic, speaker, aec=make_echo_canceller(backend, noise_suppression=False))
    assert stream.aec is not None and stream.aec.name == backend
    run(stream, rtp, far, seconds * 50)
    half = len(rtp.sent) // 2  # after 4 s of convergence
    sent = np.concatenate(rtp.sent[half:])
    echo = np.concatenate(mic.captured[half:])
    erle = db(echo) - db(sent)
    print(f"{backend}: ERLE {erle:.1f} dB (echo {db(echo) - 90.3:.1f} dBFS)")
    assert db(echo) - 90.3 > -30  # the echo was really there
    assert erle >= 15


def _tone_power(signal: np.ndarray, freq: float, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal.astype(np.float64) * np.hanning(len(signal))))
    bin_ = int(round(freq * len(signal) / rate))
    return float(spectrum[bin_ - 2 : bin_ + 3].max())


def test_a_call_recording_holds_both_sides_and_only_what_the_other_side_heard(tmp_path: Path) -> None:
    """Issue 12 (call recording): our microphone (440 Hz) and the other side (1 kHz) mixed into one WAV at
    16 kHz; while muted, what we said is not in it (the other side did not hear it either)."""
    from softphone.media.devices import WavFileSink

    stream, rtp = make_stream(Microphone(sine(440, -12, 4)), Speaker())
    path = tmp_path / "call.wav"
    stream.recorder = WavFileSink(path, rate=16000)
    run(stream, rtp, sine(1000, -12, 4), 100)  # 2 s talking
    stream.muted = True
    for i in range(100, 150):  # 1 s muted
        rtp.deliver(sine(1000, -12, 4)[i * FRAME : (i + 1) * FRAME], i * TICK)
        stream.step(i * TICK)
    stream.recorder.close()
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (16000, 1)
        recorded = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert len(recorded) == 150 * 320  # every tick, 20 ms at 16 kHz
    talking, muted = recorded[10 * 320 : 100 * 320], recorded[110 * 320 :]
    assert _tone_power(talking, 440, 16000) > 100 * _tone_power(talking, 700, 16000)
    assert _tone_power(talking, 1000, 16000) > 100 * _tone_power(talking, 700, 16000)
    assert _tone_power(muted, 1000, 16000) > 1000 * _tone_power(muted, 440, 16000)
