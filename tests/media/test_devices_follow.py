"""Calls follow sound devices that come and go (softphone.core.audio_devices.DeviceFollower):
unplugged -> the system default, back -> the chosen one, none at all -> silent with a clear error.
Device listings and openings are stand-ins; the PulseAudio tests run the real thing."""

from __future__ import annotations

from typing import Any

from softphone.core.audio_devices import DeviceFollower
from softphone.core.events import EngineEvent
from softphone.media.devices import AudioDeviceError, DeviceInfo, NullSink, SoundDeviceSink


class FakeSpeaker(SoundDeviceSink):
    def __init__(self, name: str, healthy: bool = True) -> None:  # no PortAudio stream
        self.device_name = name
        self._healthy = healthy
        self.closed = False

    def healthy(self, now: float | None = None) -> bool:
        return self._healthy

    def close(self) -> None:
        self.closed = True


class FakeMedia:
    def __init__(self, sink: Any) -> None:
        self.source: Any = None
        self.sink = sink

    def audio(self) -> tuple[Any, Any]:
        return self.source, self.sink

    def set_audio(self, source: Any, sink: Any, *, close_old: bool = False) -> None:
        if close_old and self.sink is not sink:
            self.sink.close()
        self.source, self.sink = source, sink


class FakeCall:
    id = "c1"
    account = None
    ended = False

    def __init__(self, sink: Any) -> None:
        self.media = FakeMedia(sink)


class FakeEngine:
    def __init__(self, call: FakeCall) -> None:
        self.calls = {call.id: call}
        self.events: list[EngineEvent] = []

    def emit(self, event: EngineEvent) -> None:
        self.events.append(event)


def outputs(*names: str) -> list[DeviceInfo]:
    return [DeviceInfo(i, n, 0, 2, 48000.0) for i, n in enumerate(names)]


def follower(call: FakeCall, available: set[str]) -> tuple[DeviceFollower, FakeEngine, list[str]]:
    engine = FakeEngine(call)
    rescans: list[str] = []

    def opener(role: str, name: str | None) -> Any:
        if name is None:
            if not available:
                raise AudioDeviceError("no speaker")
            return FakeSpeaker(sorted(available)[0])
        if name not in available:
            raise AudioDeviceError(f"no {name}")
        return FakeSpeaker(name)

    f = DeviceFollower(
        engine,
        lambda: None,
        lambda: "Headset",
        opener=opener,
        lister=lambda: None,
        rescan=lambda: rescans.append("x"),
    )
    return f, engine, rescans


def test_unplugged_speaker_moves_the_call_to_the_default_and_says_so() -> None:
    headset = FakeSpeaker("Headset")
    call = FakeCall(headset)
    f, engine, _ = follower(call, {"Built-in"})
    f.on_devices(outputs("Headset", "Built-in"))
    f.on_devices(outputs("Built-in"))
    assert call.media.sink.device_name == "Built-in" and headset.closed
    event = [e for e in engine.events if e.name == "audio_device"][-1]
    assert event.fields["role"] == "speaker" and event.fields["device"] == "Built-in"
    assert "'Headset' was unplugged" in event.fields["message"]
    assert [e.fields["removed"] for e in engine.events if e.name == "audio_devices_changed"] == [["Headset"]]


def test_the_chosen_speaker_coming_back_takes_the_call_back() -> None:
    call = FakeCall(FakeSpeaker("Built-in"))  # on the fallback already
    f, engine, rescans = follower(call, {"Built-in", "Headset"})
    f.on_devices(outputs("Built-in"))
    assert call.media.sink.device_name == "Built-in"
    f.on_devices(outputs("Built-in", "Headset"))
    assert call.media.sink.device_name == "Headset"
    assert rescans == ["x"]  # PortAudio re-initialised once to see the new device
    assert "is available" in engine.events[-1].fields["message"]


def test_a_speaker_that_stops_working_is_replaced_by_the_default() -> None:
    call = FakeCall(FakeSpeaker("Headset", healthy=False))
    f, engine, _ = follower(call, {"Built-in"})
    f.check()
    assert call.media.sink.device_name == "Built-in"
    assert "'Headset' stopped working" in engine.events[-1].fields["message"]


def test_no_device_at_all_leaves_the_call_silent_with_a_clear_error_once() -> None:
    call = FakeCall(FakeSpeaker("Headset", healthy=False))
    f, engine, _ = follower(call, set())
    f.check()
    f.check()
    assert isinstance(call.media.sink, NullSink)
    errors = [e for e in engine.events if e.name == "audio_device_error"]
    assert len(errors) == 1
    assert errors[0].fields["message"].endswith("the call goes on, but you hear nothing")
