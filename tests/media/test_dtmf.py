"""DTMF: RFC 4733 telephone-events and in-band tones."""

from __future__ import annotations

import numpy as np
import pytest

from softphone.media.audio import FRAME_SAMPLES, RATE, level_dbfs, to_int16
from softphone.media.dtmf import (
    DtmfDetector,
    DtmfPacket,
    DtmfReceiver,
    DtmfSender,
    DtmfToneGenerator,
    TelephoneEvent,
    decode_event,
    detect_dtmf,
    digit_to_event,
    dtmf_tone,
    encode_event,
    event_to_digit,
    goertzel_power,
    tone_frames,
)

# -- payload ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digit", "code"),
    [
        ("0", 0),
        ("5", 5),
        ("9", 9),
        ("*", 10),
        ("#", 11),
        ("A", 12),
        ("b", 13),
        ("C", 14),
        ("d", 15),
        ("!", 16),
    ],
)
def test_digit_event_codes(digit: str, code: int) -> None:
    assert digit_to_event(digit) == code
    assert event_to_digit(code) == digit.upper()


def test_flash_and_unknown_events() -> None:
    assert digit_to_event("flash") == 16
    assert event_to_digit(17) is None  # RFC 4733 events beyond DTMF are not digits
    for bad in ("", "E", "12", "x"):
        with pytest.raises(ValueError):
            digit_to_event(bad)


def test_encode_event_layout() -> None:
    # RFC 4733 §2.3: event, E|R|volume, duration (network order)
    assert encode_event("5", volume=10, duration=800, end=False) == bytes([5, 10, 0x03, 0x20])
    assert encode_event("#", volume=63, duration=65535, end=True) == bytes([11, 0x80 | 63, 0xFF, 0xFF])
    assert encode_event(16, volume=0, duration=0) == bytes([16, 0, 0, 0])


def test_decode_event_roundtrip_and_ignores_the_reserved_bit() -> None:
    assert decode_event(encode_event("*", 7, 1234, True)) == TelephoneEvent(10, True, 7, 1234)
    assert decode_event(bytes([1, 0x40 | 5, 0, 160])) == (1, False, 5, 160)
    with pytest.raises(ValueError):
        decode_event(b"\x01\x02\x03")


@pytest.mark.parametrize(("volume", "duration"), [(64, 0), (0, 65536), (-1, 0), (0, -1)])
def test_encode_event_rejects_out_of_range_fields(volume: int, duration: int) -> None:
    with pytest.raises(ValueError):
        encode_event("1", volume=volume, duration=duration)
    with pytest.raises(ValueError):
        encode_event(256)


# -- sender -------------------------------------------------------------------------------------


def run_sender(
    sender: DtmfSender, ticks: int, ts0: int = 1000, step: int = 160
) -> list[tuple[int, DtmfPacket]]:
    out = []
    for i in range(ticks):
        for p in sender.tick(ts0 + i * step):
            out.append((i, p))
    return out


def test_sender_sends_one_digit_as_rfc4733_says() -> None:
    sender = DtmfSender(clock_rate=8000)
    sender.send("7")
    assert sender.busy
    sent = run_sender(sender, 7)
    events = [decode_event(p.payload) for _, p in sent]
    # start with marker, an update every 20 ms with growing duration, then 3 end packets
    assert [i for i, _ in sent] == [0, 1, 2, 3, 4, 5, 6]
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert [p.marker for _, p in sent] == [True] + [False] * 6
    assert {p.timestamp for _, p in sent} == {1000}  # the timestamp of the event's start
    assert {e.event for e in events} == {7}
    assert {e.volume for e in events} == {10}
    assert not sender.in_event


def test_sender_leaves_a_gap_between_digits_and_uses_new_timestamps() -> None:
    sender = DtmfSender(clock_rate=8000, duration_ms=60, gap_ms=40)
    sender.send("12")
    sent = run_sender(sender, 20)
    starts = [(i, p) for i, p in sent if p.marker]
    assert [decode_event(p.payload).event for _, p in starts] == [1, 2]
    first_end = max(i for i, p in sent if decode_event(p.payload).event == 1)
    second_start = starts[1][0]
    assert second_start - first_end - 1 == 2  # 40 ms without event packets
    assert starts[1][1].timestamp == 1000 + second_start * 160
    assert not sender.busy


def test_sender_at_48khz_for_opus() -> None:
    sender = DtmfSender(clock_rate=48000, duration_ms=100)
    sender.send("#")
    sent = run_sender(sender, 7, step=960)
    assert [decode_event(p.payload).duration for _, p in sent] == [960, 1920, 2880, 3840, 4800, 4800, 4800]


def test_sender_cuts_long_events_into_segments() -> None:
    # 2 s at 48 kHz = 96000 units > 65535: RFC 4733 §2.5.1.3
    sender = DtmfSender(clock_rate=48000)
    sender.send("0", duration_ms=2000)
    sent = [p for _, p in run_sender(sender, 200, ts0=0, step=960)]
    timestamps = sorted({p.timestamp for p in sent})
    assert timestamps == [0, 65535]
    first = [decode_event(p.payload) for p in sent if p.timestamp == 0]
    assert first[-1].duration == 65535 and not first[-1].end
    second = [decode_event(p.payload) for p in sent if p.timestamp == 65535]
    assert [e.end for e in second][-3:] == [True] * 3
    assert second[-1].duration == 96000 - 65535
    assert [p.marker for p in sent].count(True) == 1


def test_sender_rejects_invalid_digits_without_queuing_any() -> None:
    sender = DtmfSender()
    with pytest.raises(ValueError):
        sender.send("12x")
    assert not sender.busy


def test_sender_cancel_finishes_the_current_event() -> None:
    sender = DtmfSender()
    sender.send("123")
    run_sender(sender, 2)
    sender.cancel()
    rest = [decode_event(p.payload) for _, p in run_sender(sender, 20)]
    assert {e.event for e in rest} == {1}
    assert rest[-1].end


# -- receiver -----------------------------------------------------------------------------------


def packets_for(digits: str, **kwargs: int) -> list[tuple[int, DtmfPacket]]:
    sender = DtmfSender(**kwargs)
    sender.send(digits)
    return [(seq, p) for seq, (_, p) in enumerate(run_sender(sender, 12 * len(digits) + 5))]


def feed_all(receiver: DtmfReceiver, packets: list[tuple[int, DtmfPacket]]) -> str:
    out = ""
    for seq, p in packets:
        d = receiver.feed(p.payload, p.timestamp, seq)
        if d is not None:
            out += d.digit
    return out


def test_receiver_reports_each_digit_once() -> None:
    packets = packets_for("159#")
    assert feed_all(DtmfReceiver(), packets) == "159#"


def test_receiver_repeated_digits_are_distinct_events() -> None:
    assert feed_all(DtmfReceiver(), packets_for("1111")) == "1111"


def test_receiver_with_lost_start_packet() -> None:
    packets = [(s, p) for s, p in packets_for("42") if not p.marker]
    assert feed_all(DtmfReceiver(), packets) == "42"


def test_receiver_with_only_end_packets() -> None:
    packets = [(s, p) for s, p in packets_for("42") if p.end]
    assert feed_all(DtmfReceiver(), packets) == "42"


def test_receiver_with_repeated_and_reordered_packets() -> None:
    packets = packets_for("37")
    shuffled = packets[:3] + [packets[1], packets[0]] + packets[3:] + packets[4:6]
    assert feed_all(DtmfReceiver(), shuffled) == "37"


def test_receiver_tracks_the_event_duration() -> None:
    receiver = DtmfReceiver(clock_rate=8000)
    feed_all(receiver, packets_for("5"))
    assert receiver.last_duration_ms == 100
    assert not receiver.in_event


def test_receiver_treats_a_long_event_in_segments_as_one_digit() -> None:
    sender = DtmfSender(clock_rate=48000)
    sender.send("0", duration_ms=2000)
    packets = [(seq, p) for seq, (_, p) in enumerate(run_sender(sender, 200, ts0=0, step=960))]
    receiver = DtmfReceiver(clock_rate=48000)
    assert feed_all(receiver, packets) == "0"


def test_receiver_ignores_non_dtmf_events_and_short_payloads() -> None:
    receiver = DtmfReceiver()
    assert receiver.feed(encode_event(40, 10, 160), 0, 1) is None  # a tone event, not DTMF
    assert receiver.feed(b"\x01", 160, 2) is None


def test_receiver_across_timestamp_wrap() -> None:
    packets = [(s, p) for s, p in packets_for("12")]
    wrapped = [
        (s, DtmfPacket(p.payload, (p.timestamp + (1 << 32) - 2000) & 0xFFFFFFFF, p.marker, p.end))
        for s, p in packets
    ]
    assert feed_all(DtmfReceiver(), wrapped) == "12"


def test_receiver_returns_event_details() -> None:
    receiver = DtmfReceiver()
    d = receiver.feed(encode_event("*", 12, 160), 4242, 7)
    assert d is not None
    assert (d.digit, d.event, d.timestamp, d.volume) == ("*", 10, 4242, 12)
    assert receiver.in_event


# -- in-band tones ------------------------------------------------------------------------------


def test_tone_has_the_two_frequencies_and_nothing_else() -> None:
    tone = dtmf_tone("5", 100)
    assert len(tone) == 4800 and tone.dtype == np.int16
    low, high = goertzel_power(tone, 770), goertzel_power(tone, 1336)
    others = [goertzel_power(tone, f) for f in (697, 852, 941, 1209, 1477, 1633)]
    assert max(others) < min(low, high) / 100  # > 20 dB below
    assert 10 * np.log10(low / 32768**2) == pytest.approx(-12, abs=0.5)  # per tone, RMS
    assert abs(int(tone[0])) < 200 and abs(int(tone[-1])) < 200  # ramped: no click


def test_goertzel_power_of_a_sine_is_its_mean_power() -> None:
    t = np.arange(960) / RATE
    x = 1000 * np.sin(2 * np.pi * 1000 * t)
    assert goertzel_power(x, 1000) == pytest.approx(1000**2 / 2, rel=0.01)
    assert goertzel_power(x, 1300) < 1000**2 / 2 / 1000


@pytest.mark.parametrize("digit", list("0123456789*#ABCD"))
def test_detector_finds_every_digit_with_noise(digit: str) -> None:
    rng = np.random.default_rng(ord(digit))
    x = dtmf_tone(digit, 60).astype(np.float64) + rng.normal(0, 300, 2880)  # about 25 dB SNR
    assert detect_dtmf(to_int16(x[960:1920])) == digit


@pytest.mark.parametrize("rate", [8000, 16000])
def test_detector_works_at_codec_rates(rate: int) -> None:
    tone = dtmf_tone("9", 40, rate=rate)
    assert detect_dtmf(tone, rate) == "9"


def test_detector_rejects_silence_speech_like_sounds_and_single_tones() -> None:
    t = np.arange(960) / RATE
    voiced = sum(0.5**k * np.sin(2 * np.pi * k * 140 * t) for k in range(1, 20))
    assert detect_dtmf(np.zeros(960)) is None
    assert detect_dtmf(to_int16(8000 * np.asarray(voiced))) is None
    assert detect_dtmf(to_int16(8000 * np.sin(2 * np.pi * 770 * t))) is None
    noise = np.random.default_rng(0).normal(0, 3000, 960)
    assert detect_dtmf(to_int16(noise)) is None
    quiet = dtmf_tone("1", 20, level_dbfs=-50)
    assert detect_dtmf(quiet) is None


def test_detector_rejects_excessive_twist() -> None:
    t = np.arange(960) / RATE
    x = 8000 * np.sin(2 * np.pi * 697 * t) + 1000 * np.sin(2 * np.pi * 1209 * t)  # 18 dB twist
    assert detect_dtmf(to_int16(x)) is None


def test_generator_and_streaming_detector_roundtrip() -> None:
    gen = DtmfToneGenerator(duration_ms=80, gap_ms=60)
    gen.send("2580#*")
    detector = DtmfDetector()
    found = ""
    frames = 0
    while gen.busy:
        frame = gen.read()
        assert frame is not None and frame.shape == (FRAME_SAMPLES,)
        frames += 1
        digit = detector.feed(frame)
        if digit:
            found += digit
    assert found == "2580#*"
    assert frames == 6 * 7  # 140 ms per digit
    assert gen.read() is None


def test_streaming_detector_ignores_blips_shorter_than_40ms() -> None:
    detector = DtmfDetector()
    frames = tone_frames(np.concatenate([dtmf_tone("3", 20), np.zeros(1920, dtype=np.int16)]))
    assert [detector.feed(f) for f in frames] == [None] * len(frames)


def test_tone_after_a_codec_is_still_detected() -> None:
    from softphone.media.codecs import make_codec

    codec = make_codec("PCMU", 0, 8000)
    detector = DtmfDetector()
    found = [detector.feed(codec.decode(codec.encode(f))) for f in tone_frames(dtmf_tone("7", 100))]
    assert [d for d in found if d] == ["7"]
    assert level_dbfs(dtmf_tone("7", 100)) < -6
