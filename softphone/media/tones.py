"""Local call-progress tones: ringback, busy, error, call waiting, and the ringtone.

Generation is pure numpy: a :class:`Tone` (frequencies and an on/off cadence) is rendered
once, sample-exact, and :class:`ToneSource` plays it as an ``AudioSource`` in the engine's
20 ms frames (docs/MEDIA.md), looped when the tone repeats. Each burst fades in and out over
5 ms, so cadence edges do not click.

The call-progress tones follow ITU-T E.180 / ETSI TR 101 041 per region (``"eu"``, CEPT's
425 Hz plan, is the default). The ringtone is ours, not a network tone; a WAV file can replace it
(``ringtone_source(path)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .devices import FRAME_SAMPLES, RATE, AudioDeviceError, WavFileSource

FADE_SAMPLES = RATE * 5 // 1000


@dataclass(frozen=True)
class Tone:
    name: str
    frequencies: tuple[float, ...]
    cadence: tuple[float, ...] = ()  # seconds on, off, on, off ...; empty: continuous
    level_dbfs: float = -15.0  # peak of the summed frequencies
    repeat: bool = True
    duration: float | None = None  # seconds, for a tone that does not repeat

    @property
    def period(self) -> float:
        return sum(self.cadence) if self.cadence else 1.0


# name -> region -> tone. The ringtone has no region: it is our phone's own sound.
_PLANS: dict[str, dict[str, Tone]] = {
    "ringback": {
        "eu": Tone("ringback", (425.0,), (1.0, 4.0)),
        "us": Tone("ringback", (440.0, 480.0), (2.0, 4.0)),
        "uk": Tone("ringback", (400.0, 450.0), (0.4, 0.2, 0.4, 2.0)),
    },
    "busy": {
        "eu": Tone("busy", (425.0,), (0.5, 0.5), repeat=False, duration=3.0),
        "us": Tone("busy", (480.0, 620.0), (0.5, 0.5), repeat=False, duration=3.0),
        "uk": Tone("busy", (400.0,), (0.375, 0.375), repeat=False, duration=3.0),
    },
    "error": {  # congestion / reorder
        "eu": Tone("error", (425.0,), (0.2, 0.2), repeat=False, duration=2.0),
        "us": Tone("error", (480.0, 620.0), (0.25, 0.25), repeat=False, duration=2.0),
        "uk": Tone("error", (400.0,), (0.4, 0.35, 0.225, 0.525), repeat=False, duration=2.0),
    },
    "call_waiting": {  # quieter: it plays over the conversation
        "eu": Tone("call_waiting", (425.0,), (0.2, 0.2, 0.2, 3.4), level_dbfs=-20.0),
        "us": Tone("call_waiting", (440.0,), (0.3, 9.7), level_dbfs=-20.0),
        "uk": Tone("call_waiting", (400.0,), (0.1, 2.9), level_dbfs=-20.0),
    },
}

RINGTONE = Tone("ringtone", (660.0, 880.0), (0.4, 0.2, 0.4, 2.0), level_dbfs=-6.0)
TONE_NAMES = ("ringback", "busy", "error", "call_waiting", "ringtone")
REGIONS = ("eu", "us", "uk")


def get_tone(name: str, region: str = "eu") -> Tone:
    if name == "ringtone":
        return RINGTONE
    plans = _PLANS.get(name)
    if plans is None:
        raise ValueError(f"unknown tone {name!r} ({', '.join(TONE_NAMES)})")
    return plans.get(region, plans["eu"])


def render(tone: Tone, seconds: float | None = None) -> np.ndarray:
    """The tone as int16 samples at 48 kHz: ``seconds`` long, by default one cadence period
    (or the whole tone when it does not repeat)."""
    if seconds is None:
        seconds = tone.duration if not tone.repeat and tone.duration else tone.period
    n = int(round(seconds * RATE))
    t = np.arange(n) / RATE
    wave = np.zeros(n)
    for f in tone.frequencies:
        wave += np.sin(2 * np.pi * f * t)
    envelope = np.ones(n) if not tone.cadence else _envelope(tone.cadence, n)
    peak = 32767 * 10 ** (tone.level_dbfs / 20) / max(len(tone.frequencies), 1)
    out: np.ndarray = np.rint(wave * envelope * peak).astype(np.int16)
    return out


def _envelope(cadence: tuple[float, ...], n: int) -> np.ndarray:
    """1 during the 'on' parts of the cadence (looped over n samples), 0 elsewhere, 5 ms ramps."""
    envelope = np.zeros(n)
    pos, on, index = 0, True, 0
    while pos < n:
        length = int(round(cadence[index % len(cadence)] * RATE))
        if length <= 0:
            index += 1
            on = not on
            continue
        end = min(pos + length, n)
        if on:
            part = np.ones(end - pos)
            ramp = min(FADE_SAMPLES, length // 2)
            if ramp:
                fade = np.linspace(0.0, 1.0, ramp, endpoint=False)
                part[:ramp] = fade[: len(part[:ramp])]
                tail = part[-ramp:]
                tail *= fade[::-1][-len(tail) :]
            envelope[pos:end] = part[: end - pos]
        pos, on, index = end, not on, index + 1
    return envelope


class ToneSource:
    """A tone (or any samples) as an ``AudioSource``: 20 ms frames; looped when it repeats.

    ``finished`` turns true once a tone that does not repeat has played out; its frames are
    silence from then on.
    """

    def __init__(self, tone: Tone | np.ndarray, *, loop: bool | None = None, name: str | None = None) -> None:
        if isinstance(tone, Tone):
            self.samples = render(tone)
            self.loop = tone.repeat if loop is None else loop
            self.name = name or tone.name
        else:
            self.samples = np.asarray(tone, dtype=np.int16).reshape(-1)
            self.loop = True if loop is None else loop
            self.name = name or "samples"
        self.pos = 0
        self.finished = self.samples.size == 0

    def read(self) -> np.ndarray:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES and not self.finished:
            if self.pos >= self.samples.size:
                if not self.loop:
                    self.finished = True
                    break
                self.pos = 0
            take = min(FRAME_SAMPLES - filled, self.samples.size - self.pos)
            out[filled : filled + take] = self.samples[self.pos : self.pos + take]
            filled += take
            self.pos += take
        if not self.loop and self.pos >= self.samples.size:
            self.finished = True
        return out

    def close(self) -> None:
        pass


def tone_source(name: str, region: str = "eu") -> ToneSource:
    return ToneSource(get_tone(name, region))


def ringtone_source(path: str | Path | None = None) -> ToneSource:
    """The ringtone: a WAV file when one is given and readable, else our generated pattern."""
    if path is not None and Path(path).is_file():
        try:
            wav = WavFileSource(path)
            return ToneSource(wav.samples, loop=True, name="ringtone")
        except AudioDeviceError:
            pass
    return ToneSource(RINGTONE)
