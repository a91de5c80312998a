"""A local conference: the user's microphone and speaker mixed with several calls.

Each call in the conference gets a port (a source and a sink for its AudioStream). What a
call sends is the microphone plus every other call's voice; what the speaker plays is every
call's voice. The first port drives the microphone and the speaker, once per 20 ms tick.
"""

from __future__ import annotations

import numpy as np

from .devices import FRAME_SAMPLES, AudioSink, AudioSource, silence


def _mix(frames: list[np.ndarray]) -> np.ndarray:
    if not frames:
        return silence()
    total = np.zeros(FRAME_SAMPLES, dtype=np.int32)
    for frame in frames:
        total += frame.astype(np.int32)
    out: np.ndarray = np.clip(total, -32768, 32767).astype(np.int16)
    return out


class ConferenceBridge:
    def __init__(self, microphone: AudioSource, speaker: AudioSink) -> None:
        self.microphone = microphone
        self.speaker = speaker
        self._mic_frame = silence()
        self._heard: dict[int, np.ndarray] = {}
        self._ports: list[_Port] = []

    def add(self) -> tuple[AudioSource, AudioSink]:
        port = _Port(self, len(self._ports))
        self._ports.append(port)
        self._heard[port.index] = silence()
        return port, port

    def remove(self, port: object) -> None:
        if isinstance(port, _Port) and port in self._ports:
            self._ports.remove(port)
            self._heard.pop(port.index, None)

    @property
    def size(self) -> int:
        return len(self._ports)

    def _is_master(self, port: _Port) -> bool:
        return bool(self._ports) and self._ports[0] is port

    def _read(self, port: _Port) -> np.ndarray:
        if self._is_master(port):
            self._mic_frame = self.microphone.read()
        others = [frame for index, frame in self._heard.items() if index != port.index]
        return _mix([self._mic_frame, *others])

    def _write(self, port: _Port, frame: np.ndarray) -> None:
        if frame.size != FRAME_SAMPLES:
            frame = np.resize(frame, FRAME_SAMPLES).astype(np.int16)
        self._heard[port.index] = frame
        if self._is_master(port):
            self.speaker.write(_mix(list(self._heard.values())))

    def close(self) -> None:
        self.microphone.close()
        self.speaker.close()


class _Port:
    """One call's view of the bridge: an AudioSource and an AudioSink."""

    def __init__(self, bridge: ConferenceBridge, index: int) -> None:
        self.bridge = bridge
        self.index = index

    def read(self) -> np.ndarray:
        return self.bridge._read(self)

    def write(self, frame: np.ndarray) -> None:
        self.bridge._write(self, frame)

    def close(self) -> None:
        self.bridge.remove(self)
