"""Audio sources and sinks: WAV files, nothing at all, and real devices through sounddevice.

Every source gives 20 ms frames of 48 kHz mono int16 (docs/MEDIA.md); every sink takes them.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import wave
import weakref
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .device_list import AudioDeviceError, DeviceInfo, find_device, list_devices, probe_devices

log = logging.getLogger(__name__)

__all__ = [  # the listing lives in device_list (no numpy: the GUI lists devices long before a call)
    "AudioDeviceError",
    "AudioSink",
    "AudioSource",
    "DeviceInfo",
    "NullSink",
    "NullSource",
    "SoundDeviceSink",
    "SoundDeviceSource",
    "WavFileSink",
    "WavFileSource",
    "find_device",
    "list_devices",
    "probe_devices",
    "read_wav",
    "reinitialize",
    "resample",
    "silence",
]

RATE = 48000
FRAME_SAMPLES = 960


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
        pos = self.pos
        if pos + FRAME_SAMPLES <= self.samples.size:  # the usual case: one copy, no zeros to fill
            self.pos = pos + FRAME_SAMPLES
            frame: np.ndarray = self.samples[pos : pos + FRAME_SAMPLES].copy()
            return frame
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


_open_devices: weakref.WeakSet[_SoundDevice] = weakref.WeakSet()
_reinit_lock = threading.Lock()


def reinitialize() -> None:
    """Re-initialise PortAudio so that this process sees devices plugged in since it started.

    Every open sound device stream is closed first and reopened afterwards on the same device
    name (or the default, when that name is gone): PortAudio's terminate would close them anyway.
    """
    with _reinit_lock:
        import sounddevice as sd  # type: ignore[import-untyped]

        live = [d for d in list(_open_devices) if d.is_open]
        for device in live:
            device._close_stream()
        sd._terminate()
        sd._initialize()
        for device in live:
            try:
                device._open_stream(find_device(device.device_name, inputs=device.is_input))
            except AudioDeviceError as exc:
                log.warning("%s", exc)


class _Ring:
    """A small thread-safe frame queue between PortAudio's thread and the event loop."""

    def __init__(self, max_frames: int) -> None:
        self.frames: collections.deque[np.ndarray] = collections.deque(maxlen=max_frames)
        self.lock = threading.Lock()


class _SoundDevice:
    """What the microphone and the speaker share: the PortAudio stream, and whether it still runs.

    ``healthy()`` tells a device that is gone (unplugged, its sound server stopped): the stream
    stopped, or its callback has not run for a while. PortAudio through PulseAudio can take ~1.5 s
    before the first callback of a new stream, so a new stream gets a grace period.
    """

    is_input = False
    STALL_AFTER = 1.5  # seconds without a callback once it ran
    FIRST_CALLBACK_WITHIN = 5.0

    def __init__(self, device: int | str | None, ring: int) -> None:
        self._ring = _Ring(ring)
        self._stream: Any = None
        self.device_name: str | None = None
        self.opened_at = 0.0
        self.last_callback = 0.0
        self._open_stream(device)
        _open_devices.add(self)

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def _open_stream(self, device: int | str | None) -> None:
        kind = "microphone" if self.is_input else "speaker"
        try:
            import sounddevice as sd

            cls = sd.InputStream if self.is_input else sd.OutputStream
            stream = cls(
                samplerate=RATE,
                blocksize=FRAME_SAMPLES,
                channels=1,
                dtype="int16",
                device=device,
                callback=self._callback,
            )
            stream.start()
            index = stream.device
            self.device_name = str(sd.query_devices(index)["name"])
        except Exception as exc:
            raise AudioDeviceError(f"cannot open the {kind}: {exc}") from exc
        self._stream = stream
        self.opened_at = time.monotonic()
        self.last_callback = 0.0

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                pass

    def _callback(self, data: np.ndarray, frames: int, time_: Any, status: Any) -> None:
        raise NotImplementedError

    def healthy(self, now: float | None = None) -> bool:
        stream = self._stream
        if stream is None:
            return False
        now = time.monotonic() if now is None else now
        try:
            if not stream.active:
                return False
        except Exception:
            return False
        if self.last_callback:
            return now - self.last_callback < self.STALL_AFTER
        return now - self.opened_at < self.FIRST_CALLBACK_WITHIN

    def close(self) -> None:
        self._close_stream()
        _open_devices.discard(self)


class SoundDeviceSource(_SoundDevice):
    """A microphone through sounddevice; frames of 20 ms at 48 kHz."""

    is_input = True

    # The device's clock and the send clock both tick every 20 ms, in no fixed phase; a cushion
    # of frames keeps the jitter of either from turning into a gap (and a 20 ms slip) every time.
    CUSHION = 2

    def __init__(self, device: int | str | None = None) -> None:
        self._filling = True
        super().__init__(device, 10)

    def _callback(self, indata: np.ndarray, frames: int, time_: Any, status: Any) -> None:
        self.last_callback = time.monotonic()
        with self._ring.lock:
            self._ring.frames.append(indata[:, 0].copy())

    def read(self) -> np.ndarray:
        with self._ring.lock:
            ring = self._ring.frames
            if self._filling and len(ring) < self.CUSHION:
                return silence()
            self._filling = False
            if ring:
                frame = ring.popleft()
                if frame.size == FRAME_SAMPLES:
                    return frame
            self._filling = True  # ran dry: build the cushion again
        return silence()


class SoundDeviceSink(_SoundDevice):
    """A speaker through sounddevice."""

    CUSHION = 3  # frames queued before playing starts (again): the event loop's jitter

    def __init__(self, device: int | str | None = None) -> None:
        self._filling = True
        super().__init__(device, 12)

    def _callback(self, outdata: np.ndarray, frames: int, time_: Any, status: Any) -> None:
        self.last_callback = time.monotonic()
        with self._ring.lock:
            ring = self._ring.frames
            if self._filling and len(ring) < self.CUSHION:
                frame = None
            else:
                self._filling = False
                frame = ring.popleft() if ring else None
                if frame is None:
                    self._filling = True
        if frame is None or frame.size != frames:
            outdata.fill(0)
        else:
            outdata[:, 0] = frame

    def write(self, frame: np.ndarray) -> None:
        with self._ring.lock:
            self._ring.frames.append(frame)
