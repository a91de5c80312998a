"""The baresip test peer and the audio comparison helpers work.

* The helpers in ``tests/peers/audio.py`` are checked on synthetic cases (a
  delayed copy of the speech sample, noise).
* Two baresips (alice, bob) register at Kamailio; alice sends the speech
  sample over PCMU to bob, who auto-answers and records what he receives;
  the recording must match the sample (correlation, PESQ-NB), arrive at
  real-time pace, and baresip's CPU use is reported.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.peers.audio import (
    align,
    audio_tools_available,
    compare,
    noise_wav,
    pesq_available,
    pesq_score,
    read_wav,
    speech_wav,
    write_wav,
)
from tests.peers.baresip import BaresipFactory
from tests.peers.kamailio import KamailioServer

needs_audio_tools = pytest.mark.skipif(
    not audio_tools_available(), reason="espeak-ng and sox are needed (apt-get install espeak-ng sox)"
)
needs_pesq = pytest.mark.skipif(not pesq_available(), reason="the 'pesq' package is not installed")

CALL_SECONDS = 8.0


# ------------------------------------------------------------------ helpers


@needs_audio_tools
def test_speech_wav_is_cached_mono_16bit_at_the_requested_rate(tmp_path: Path) -> None:
    for rate in (8000, 16000, 48000):
        p = speech_wav(rate=rate, seconds=12)
        x, sr = read_wav(p)
        assert sr == rate
        assert len(x) == 12 * rate
        assert p.read_bytes()[34:36] == b"\x10\x00"  # bits per sample
        assert p.read_bytes()[22:24] == b"\x01\x00"  # channels
        assert 0.02 < float(np.sqrt(np.mean(x * x))) < 0.5
        assert speech_wav(rate=rate, seconds=12) == p  # cached
    copy = speech_wav(tmp_path / "s.wav", rate=8000, seconds=12)
    assert copy.read_bytes() == speech_wav(rate=8000, seconds=12).read_bytes()


@needs_audio_tools
@needs_pesq
def test_delayed_copy_is_found_exactly(tmp_path: Path) -> None:
    ref = speech_wav(rate=8000, seconds=12)
    x, sr = read_wav(ref)
    delay = 1234
    delayed = write_wav(tmp_path / "delayed.wav", np.concatenate([np.zeros(delay), x[: 8 * sr]]), sr)

    offset, corr = align(ref, delayed)
    assert offset == delay
    assert corr > 0.999

    score = pesq_score(ref, delayed, "nb")
    assert score > 4.4, score
    m = compare(ref, delayed)
    assert m.offset_ms == pytest.approx(delay / 8.0)
    assert m.correlation > 0.999
    assert m.pesq_nb is not None and m.pesq_nb > 4.4
    assert m.pesq_wb is None
    assert m.rms_ratio == pytest.approx(1.0, abs=0.01)

    # A recording that starts late (negative offset), at half the level, at 16 kHz.
    x16, _ = read_wav(speech_wav(rate=16000, seconds=12))
    late = write_wav(tmp_path / "late.wav", 0.5 * x16[16000 * 3 : 16000 * 9], 16000)
    m = compare(speech_wav(rate=16000, seconds=12), late)
    assert m.offset_ms == pytest.approx(-3000.0)
    assert m.correlation > 0.999
    assert m.rms_ratio == pytest.approx(0.5, abs=0.01)
    assert m.pesq_wb is not None and m.pesq_wb > 4.0


@needs_audio_tools
@needs_pesq
def test_noise_does_not_match(tmp_path: Path) -> None:
    ref = speech_wav(rate=8000, seconds=12)
    noise = noise_wav(tmp_path / "noise.wav", rate=8000, seconds=6)
    _, corr = align(ref, noise)
    assert abs(corr) < 0.1
    m = compare(ref, noise)
    assert abs(m.correlation) < 0.1
    assert m.pesq_nb is None or m.pesq_nb < 2.0


# ------------------------------------------------------------------ baresip


def _wav_seconds(path: Path) -> float:
    x, sr = read_wav(path)
    return len(x) / sr


@pytest.mark.interop
@needs_pesq
def test_pcmu_call_through_kamailio_carries_speech(
    kamailio: KamailioServer, make_baresip: BaresipFactory, speech_8k: Path
) -> None:
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], answer_mode="auto")
    alice = make_baresip(user="alice", registrar=kamailio, codecs=["PCMU"], play_wav=speech_8k)

    alice.dial(kamailio.aor("bob"))
    bob.wait_event("CALL_ESTABLISHED", timeout=10)
    alice.wait_event("CALL_ESTABLISHED", timeout=10)
    cpu0 = {p.user: p.cpu_seconds() for p in (alice, bob)}
    t0 = time.monotonic()
    time.sleep(CALL_SECONDS)
    cpu1 = {p.user: p.cpu_seconds() for p in (alice, bob)}
    elapsed = time.monotonic() - t0
    alice.hangup()
    bob.wait_event("CALL_CLOSED", timeout=10)
    alice.wait_event("CALL_CLOSED", timeout=10)

    recs = bob.recordings()
    assert len(recs) == 1, (recs, make_baresip.logs())
    rec = recs[0]
    rec_s = _wav_seconds(rec)
    # Real-time pacing: bob got about as much audio as the call lasted, not more.
    assert elapsed - 0.5 <= rec_s <= elapsed + 1.5, (rec_s, elapsed)

    m = compare(speech_8k, rec, max_offset=30.0)
    cpu = {u: 100.0 * (cpu1[u] - cpu0[u]) / elapsed for u in cpu0}
    print(f"\nbaresip PCMU via Kamailio: {m}")
    print(f"baresip CPU over {elapsed:.1f} s of call: alice {cpu['alice']:.1f} %, bob {cpu['bob']:.1f} %")
    assert m.correlation > 0.9, m
    assert m.pesq_nb is not None and m.pesq_nb >= 3.5, m
    assert m.rms_ratio == pytest.approx(1.0, abs=0.1), m
    assert max(cpu.values()) < 25.0, cpu  # a spinning audio device would show ~100 %


def test_a_control_port_taken_before_baresip_binds_it_is_chosen_again(
    make_baresip: BaresipFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The free port picked for baresip's control channel can be bound by another process before baresip
    binds it; a connection would then reach that process. The helper sees baresip's bind error and starts
    again on new ports (this made a DTMF test fail once in CI)."""
    import socket

    from tests.peers import baresip as peer

    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    calls = {"n": 0}
    real = peer._free_port

    def first_one_taken(host: str, *, pair: bool = False) -> int:
        calls["n"] += 1
        return taken if not pair and calls["n"] == 2 else real(host, pair=pair)  # the first ctrl port

    monkeypatch.setattr(peer, "_free_port", first_one_taken)
    try:
        bob = make_baresip(user="bob")
        assert bob.ctrl_port != taken
        assert "Address already in use" in bob.log_text()  # it did meet the squatter
        assert bob.command("reginfo")["ok"] is not None  # and talks to the real baresip now
    finally:
        squatter.close()
