"""Audio sources and sinks: WAV files, nothing at all, and real devices through sounddevice.

Every source gives 20 ms frames of 48 kHz mono int16 (docs/MEDIA.md); every sink takes them.
"""

from __future__ import annotations

import collections
import logging
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

RATE = 48000
FRAME_SAMPLES = 960


class AudioDeviceError(Exception):
    """No such device, or it cannot be opened; the message is for the user."""


class AudioSource(Protocol):
    def read(self) -> np.ndarray: ...
    def close(self) -> None: ...


class AudioSink(Protocol):
    def write(self, frame: np.ndarray) -> None: ...
    def close(self) -> None: ...


def silence() -> np.ndarray:
    return np.zeros(FRAME_SAMPLES, dtype=np.int16)


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a whole signal (int16 mono) with libswresample."""
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.int16)
    import av

    frame = av.AudioFrame.from_ndarray(samples.astype(np.int16).reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate_in
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate_out)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.int16) if out else np.zeros(0, dtype=np.int16)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A WAV file as mono int16 samples and its rate; stereo is mixed down."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise AudioDeviceError(f"cannot read {path}: {exc}") from exc
    if width != 2:
        raise AudioDeviceError(f"{path}: only 16-bit PCM WAV files are supported")
    samples = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples.astype(np.int16), rate


class WavFileSource:
    """Plays a WAV file as the microphone, looped."""

    def __init__(self, path: str | Path, *, loop: bool = True) -> None:
        samples, rate = read_wav(path)
        self.samples = resample(samples, rate, RATE)
        if self.samples.size == 0:
            raise AudioDeviceError(f"{path} holds no audio")
        self.loop = loop
        self.pos = 0

    def read(self) -> np.ndarray:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES:
            if self.pos >= self.samples.size:
                if not self.loop:
                    break
                self.pos = 0
            take = min(FRAME_SAMPLES - filled, self.samples.size - self.pos)
            out[filled : filled + take] = self.samples[self.pos : self.pos + take]
            filled += take
            self.pos += take
        return out

    def close(self) -> None:
        pass


class WavFileSink:
    """Records what the call plays to a WAV file (mono 16-bit, at ``rate``)."""

    def __init__(self, path: str | Path, *, rate: int = RATE) -> None:
        self.path = Path(path)
        self.rate = rate
        self._frames: list[np.ndarray] = []
        self._wav: wave.Wave_write | None = wave.open(str(self.path), "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self._pending: list[np.ndarray] = []

    def write(self, frame: np.ndarray) -> None:
        if self._wav is None:
            return
        self._pending.append(frame.astype(np.int16))
        if len(self._pending) >= 50:  # write once a second; resampling needs a block
            self._flush()

    def _flush(self) -> None:
        if not self._pending or self._wav is None:
            return
        block = np.concatenate(self._pending)
        self._pending = []
        if self.rate != RATE:
            block = resample(block, RATE, self.rate)
        self._wav.writeframes(block.astype("<i2").tobytes())

    def close(self) -> None:
        if self._wav is not None:
            self._flush()
            self._wav.close()
            self._wav = None


class NullSource:
    def read(self) -> np.ndarray:
        return silence()

    def close(self) -> None:
        pass


class NullSink:
    def write(self, frame: np.ndarray) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float
    is_default_input: bool = False
    is_default_output: bool = False


def list_devices() -> list[DeviceInfo]:
    """The sound devices the system has; empty (never an exception) when there are none."""
    try:
        import sounddevice as sd  # type: ignore[import-untyped]

        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except Exception as exc:  # no PortAudio, no server: the user just has no devices
        log.info("no audio devices: %s", exc)
        return []
    out = []
    for index, dev in enumerate(devices):
        out.append(
            DeviceInfo(
                index,
                str(dev["name"]),
                int(dev["max_input_channels"]),
                int(dev["max_output_channels"]),
                float(dev["default_samplerate"]),
                index == default_in,
                index == default_out,
            )
        )
    return out


class _Ring:
    """A small thread-safe frame queue between PortAudio's thread and the event loop."""

    def __init__(self, max_frames: int) -> None:
        self.frames: collections.deque[np.ndarray] = collections.deque(maxlen=max_frames)
        self.lock = threading.Lock()


class SoundDeviceSource:
    """A microphone through sounddevice; frames of 20 ms at 48 kHz."""

    def __init__(self, device: int | str | None = None) -> None:
        try:
            import sounddevice as sd

            self._ring = _Ring(10)
            self._stream: Any = sd.InputStream(
                samplerate=RATE,
                blocksize=FRAME_SAMPLES,
                channels=1,
                dtype="int16",
                device=device,
                callback=self._callback,
            )
            self._stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"cannot open the microphone: {exc}") from exc

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        with self._ring.lock:
            self._ring.frames.append(indata[:, 0].copy())

    def read(self) -> np.ndarray:
        with self._ring.lock:
            if self._ring.frames:
                frame = self._ring.frames.popleft()
                if frame.size == FRAME_SAMPLES:
                    return frame
        return silence()

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            pass


class SoundDeviceSink:
    """A speaker through sounddevice."""

    def __init__(self, device: int | str | None = None) -> None:
        try:
            import sounddevice as sd

            self._ring = _Ring(12)
            self._stream: Any = sd.OutputStream(
                samplerate=RATE,
                blocksize=FRAME_SAMPLES,
                channels=1,
                dtype="int16",
                device=device,
                callback=self._callback,
            )
            self._stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"cannot open the speaker: {exc}") from exc

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        with self._ring.lock:
            frame = self._ring.frames.popleft() if self._ring.frames else None
        if frame is None or frame.size != frames:
            outdata.fill(0)
        else:
            outdata[:, 0] = frame

    def write(self, frame: np.ndarray) -> None:
        with self._ring.lock:
            self._ring.frames.append(frame)

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            pass
