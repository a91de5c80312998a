"""Call-progress tones and the ringtone (softphone.media.tones), checked by what they sound like:
frequencies from the spectrum, cadence from the envelope (ITU-T E.180, ETSI TR 101 041)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from softphone.media.tones import ToneSource, get_tone, render, ringtone_source, tone_source

RATE = 48000


def play(source: ToneSource, seconds: float) -> np.ndarray:
    return np.concatenate([source.read() for _ in range(int(seconds * 50))])


def peaks_hz(samples: np.ndarray, count: int) -> list[float]:
    """The ``count`` strongest frequencies, 1 Hz resolution."""
    x = samples.astype(float)[:RATE]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), RATE))
    found: list[float] = []
    for _ in range(count):
        k = int(np.argmax(spectrum))
        found.append(float(k))
        spectrum[max(0, k - 20) : k + 20] = 0
    return sorted(found)


def cadence(samples: np.ndarray) -> list[tuple[bool, float]]:
    """(on, seconds) runs of the 10 ms envelope."""
    blocks = samples[: len(samples) // 480 * 480].astype(float).reshape(-1, 480)
    on = np.sqrt((blocks**2).mean(axis=1)) > 100
    runs: list[tuple[bool, float]] = []
    for value in (bool(v) for v in on):
        if runs and runs[-1][0] == value:
            runs[-1] = (value, runs[-1][1] + 0.01)
        else:
            runs.append((value, 0.01))
    return [(v, round(s, 2)) for v, s in runs]


@pytest.mark.parametrize(
    ("region", "freqs", "on", "off"),
    [("eu", [425.0], 1.0, 4.0), ("us", [440.0, 480.0], 2.0, 4.0)],
)
def test_ringback_has_the_regions_frequencies_and_cadence(
    region: str, freqs: list[float], on: float, off: float
) -> None:
    samples = play(tone_source("ringback", region), 2 * (on + off))
    assert peaks_hz(samples, len(freqs)) == pytest.approx(freqs, abs=2)
    runs = cadence(samples)
    assert runs[0][0] is True and runs[0][1] == pytest.approx(on, abs=0.03)
    assert runs[1][0] is False and runs[1][1] == pytest.approx(off, abs=0.03)
    assert runs[2][0] is True  # it repeats


def test_ringback_repeats_sample_exactly_across_frames() -> None:
    tone = get_tone("ringback")
    period = render(tone)
    samples = play(ToneSource(tone), 2 * tone.period)
    assert np.array_equal(samples[: len(period)], period)
    assert np.array_equal(samples[len(period) : 2 * len(period)], period)


def test_busy_tone_is_half_second_cadence_and_stops_by_itself() -> None:
    source = tone_source("busy")
    samples = play(source, 4.0)
    assert peaks_hz(samples, 1) == pytest.approx([425.0], abs=2)
    runs = cadence(samples)
    assert [v for v, _ in runs[:4]] == [True, False, True, False]
    assert all(s == pytest.approx(0.5, abs=0.03) for _, s in runs[:4])
    assert source.finished
    assert not samples[int(3.05 * RATE) :].any()  # silence after its 3 s


def test_call_waiting_is_two_short_beeps_then_a_long_pause_and_quieter() -> None:
    samples = play(tone_source("call_waiting"), 4.0)
    runs = cadence(samples)
    assert [v for v, _ in runs[:4]] == [True, False, True, False]
    assert runs[0][1] == pytest.approx(0.2, abs=0.03) and runs[3][1] > 3.0
    assert np.abs(samples).max() < np.abs(play(tone_source("ringback"), 1.0)).max()


def test_bursts_fade_in_and_out_without_clicks() -> None:
    samples = render(get_tone("ringback")).astype(float)
    assert abs(samples[0]) < 50 and abs(samples[RATE - 1]) < 50  # ramps at both ends of the burst
    assert np.abs(np.diff(samples)).max() < 32767 * 10 ** (-15 / 20) * 2 * np.pi * 425 / RATE * 1.1


def test_generated_ringtone_is_two_tone_double_ring() -> None:
    samples = play(ringtone_source(), 6.0)
    assert peaks_hz(samples, 2) == pytest.approx([660.0, 880.0], abs=2)
    runs = cadence(samples)
    assert [v for v, _ in runs[:4]] == [True, False, True, False]
    assert runs[3][1] == pytest.approx(2.0, abs=0.03)


def test_ringtone_from_a_wav_file_plays_that_file_looped(tmp_path: Path) -> None:
    import wave

    t = np.arange(RATE // 2) / RATE
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype("<i2")
    path = tmp_path / "ring.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(tone.tobytes())
    samples = play(ringtone_source(path), 2.0)
    assert peaks_hz(samples, 1) == pytest.approx([1000.0], abs=2)
    assert np.abs(samples[-RATE // 4 :]).max() > 7000  # still playing after 4 loops


def test_missing_ringtone_file_falls_back_to_the_generated_one(tmp_path: Path) -> None:
    assert peaks_hz(play(ringtone_source(tmp_path / "none.wav"), 1.0), 2) == pytest.approx([660, 880], abs=2)


def test_unknown_tone_name_is_an_error() -> None:
    with pytest.raises(ValueError):
        get_tone("dial")
