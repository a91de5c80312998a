"""Calls on real (virtual) sound devices: a private PulseAudio server with null sinks, reached
through sounddevice/PortAudio like a desktop's sound server (tests/peers/pulse.py).

Our softphone-cli uses the default microphone (the monitor of sink ``mic``, into which ``paplay``
plays speech) and the default speaker (sink ``spk``, recorded from its monitor by ``parecord``);
the other end is a second softphone-cli on WAV files. Audio is checked by content.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.peers.audio import audio_tools_available, load, speech_wav
from tests.peers.pulse import PulseServer, pulse_available
from tests.peers.softphone_cli import CliProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not pulse_available(), reason="pulseaudio not installed (apt-get install pulseaudio)"),
    pytest.mark.skipif(not audio_tools_available(), reason="espeak-ng and sox are needed"),
]


@pytest.fixture
def pulse() -> Iterator[PulseServer]:
    with PulseServer() as server:
        server.null_sink("mic")
        server.null_sink("spk")
        server.set_default_sink("spk")
        server.set_default_source("mic.monitor")
        yield server


@pytest.fixture(scope="module")
def speech() -> Path:
    return speech_wav(rate=48000, seconds=60)


def window_correlations(reference: Path, recording: Path, window: float = 0.5) -> list[float]:
    """Each half second of the recording that holds sound, aligned on its own against the
    reference: a device path may slip by a frame or two (a late event loop on a busy machine),
    which would spoil one alignment for the whole file without saying anything about content."""
    ref, rate = load(reference, 48000)
    rec, _ = load(recording, 48000)
    size = 1 << int(np.ceil(np.log2(len(ref) + rate)))
    spectrum = np.fft.rfft(ref, size)
    n = int(window * rate)
    out = []
    for start in range(0, len(rec) - n, n):
        w = rec[start : start + n]
        if np.sqrt(np.mean(w**2)) < 0.003:  # silence (before the call, a pause)
            continue
        lag = int(np.argmax(np.fft.irfft(spectrum * np.conj(np.fft.rfft(w, size)), size)))
        seg = ref[lag : lag + n]
        if len(seg) == n:
            out.append(float(np.dot(seg, w) / np.sqrt(np.dot(seg, seg) * np.dot(w, w))))
    return out


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def callee(port: int, speech: Path, record: Path) -> CliProcess:
    return CliProcess(
        "--listen",
        f"127.0.0.1:{port}",
        "answer",
        "--play",
        str(speech),
        "--record",
        str(record),
        "--codecs",
        "opus",
    )


def caller(port: int, pulse: PulseServer, seconds: float, *extra: str) -> CliProcess:
    return CliProcess(
        "--listen", "127.0.0.1:0", "call", f"sip:bob@127.0.0.1:{port}", "--codecs", "opus",
        "--mic", "default", "--speaker", "default", "--aec", "none", "--duration", str(seconds), *extra,
        env=pulse.env,
    )  # fmt: skip


@pytest.mark.timeout(50)
def test_call_on_pulseaudio_devices_carries_speech_both_ways(
    pulse: PulseServer, speech: Path, tmp_path: Path
) -> None:
    port = free_udp_port()
    heard_by_peer, played_by_us = tmp_path / "peer.wav", tmp_path / "speaker.wav"
    talker = pulse.play(speech, "mic")
    recorder = pulse.record("spk.monitor", played_by_us)
    try:
        with callee(port, speech, heard_by_peer) as peer:
            peer.wait_event("started")
            with caller(port, pulse, 8, "--levels") as us:
                us.wait_event("answered", timeout=10)
                assert us.wait(timeout=25) == 0, us.stderr
                levels = [e for e in us.events if e["event"] == "levels"]
            assert peer.wait(timeout=15) == 0
    finally:
        pulse.stop_recording(recorder)
        talker.kill()
    mic_path = window_correlations(speech, heard_by_peer)
    speaker_path = window_correlations(speech, played_by_us)
    print(f"microphone -> peer: {np.round(mic_path, 2)}\npeer -> speaker: {np.round(speaker_path, 2)}")
    assert len(mic_path) >= 8 and np.median(mic_path) > 0.85
    assert len(speaker_path) >= 8 and np.median(speaker_path) > 0.85
    # ~10 level reports a second, with speech on both sides (about -3 dBFS peak as played)
    assert 50 <= len(levels) <= 85
    talking = levels[len(levels) // 2 :]
    assert max(e["mic"]["peak"] for e in talking) > -12
    assert max(e["speaker"]["peak"] for e in talking) > -12
    assert all(-96 <= e["mic"]["rms"] <= e["mic"]["peak"] <= 0 for e in levels)


@pytest.mark.timeout(50)
def test_speaker_unloaded_mid_call_keeps_the_call_playing_on_the_default(
    pulse: PulseServer, speech: Path, tmp_path: Path
) -> None:
    spare = pulse.null_sink("spare")
    port = free_udp_port()
    on_spare = tmp_path / "spare.wav"
    speaker_module = next(
        int(line.split()[0])
        for line in pulse._pactl("list", "short", "modules").stdout.splitlines()
        if "sink_name=spk" in line
    )
    recorder = pulse.record("spare.monitor", on_spare)
    try:
        with callee(port, speech, tmp_path / "peer.wav") as peer:
            peer.wait_event("started")
            with caller(port, pulse, 9) as us:
                us.wait_event("answered", timeout=10)
                time.sleep(3)
                pulse.set_default_sink("spare")
                pulse.unload(speaker_module)  # the speaker in use is gone
                assert us.wait(timeout=25) == 0, us.stderr
                assert not [e for e in us.events if e["event"] == "audio_device_error"]
            assert peer.wait(timeout=15) == 0
    finally:
        pulse.stop_recording(recorder)
    assert spare >= 0
    moved = window_correlations(speech, on_spare)
    print(f"peer -> spare speaker after the unload: {np.round(moved, 2)}")
    assert len(moved) >= 6 and np.median(moved) > 0.85  # 3 s and more of the call, on the default


@pytest.mark.timeout(50)
def test_sound_server_gone_mid_call_leaves_the_call_running_silent_with_a_clear_error(
    pulse: PulseServer, speech: Path, tmp_path: Path
) -> None:
    port = free_udp_port()
    with callee(port, speech, tmp_path / "peer.wav") as peer:
        peer.wait_event("started")
        with caller(port, pulse, 10) as us:
            us.wait_event("answered", timeout=10)
            time.sleep(2.5)
            assert pulse.proc is not None
            pulse.proc.kill()  # no sound server: no device at all
            pulse.proc.wait()
            error = us.wait_event("audio_device_error", timeout=10)
            assert "goes on" in error["message"]
            assert us.wait(timeout=25) == 0, us.stderr
            ended = [e for e in us.events if e["event"] == "ended"][-1]
            assert ended["reason"] == "local hangup" and ended["duration"] >= 9
        assert peer.wait(timeout=15) == 0


def test_the_sound_servers_default_devices_are_named_by_their_descriptions(
    pulse: PulseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: PortAudio shows only ALSA's "pulse" and "default"; the sound server says what they lead
    to, and the device lists show that."""
    from softphone.media.device_list import sound_server_defaults

    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    pulse._pactl(
        "load-module",
        "module-null-sink",
        "sink_name=desk",
        "sink_properties=device.description=Desk_Speakers",
    )
    pulse.set_default_sink("desk")
    named = sound_server_defaults()
    assert named["speaker"] == "Desk_Speakers"
    assert named["microphone"]  # the monitor of "mic", in the server's words
    monkeypatch.delenv("PULSE_SERVER")
    monkeypatch.setenv("PATH", "/nonexistent")  # no pactl: nothing, and no error
    assert sound_server_defaults() == {}
