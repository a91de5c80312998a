"""Call media on the computer's sound devices: what the GUI gives the engine.

The GUI never reaches below softphone.core (docs/ARCHITECTURE.md): it names devices and
codecs, and this module builds the media of each call from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..media.devices import (
    AudioDeviceError,
    AudioSink,
    AudioSource,
    NullSink,
    NullSource,
    SoundDeviceSink,
    SoundDeviceSource,
    list_devices,
)
from ..media.session import AudioCallMedia, MediaOptions
from .audio_devices import DeviceFollower
from .call import CallMedia, MediaNegotiationError
from .call_tones import CallTones

log = logging.getLogger(__name__)

__all__ = [
    "AudioDeviceError",
    "DeviceFollower",
    "device_tones",
    "SoundDeviceSink",
    "SoundDeviceSource",
    "device_media_factory",
    "list_devices",
]


def device_media_factory(
    codecs: Callable[[], list[str]],
    srtp: Callable[[], str],
    input_device: Callable[[], str | None],
    output_device: Callable[[], str | None],
    aec: Callable[[], str] = lambda: "auto",
) -> Callable[[], CallMedia]:
    """Media for each new call, from the settings at that moment; silence when a device is missing.

    Echo cancellation is on ("auto") unless ``aec`` says otherwise: a loudspeaker's echo is the
    norm on a computer; headset users may turn it off (docs/AEC.md).
    """

    def factory() -> CallMedia:
        devices = list_devices()

        def find(name: str | None, inputs: bool) -> int | None:
            for device in devices:
                if device.name == name and (device.inputs if inputs else device.outputs):
                    return device.index
            return None

        def source() -> AudioSource:
            if not any(d.inputs for d in devices):
                log.warning("no microphone: the call goes on, but the other side hears nothing from you")
                return NullSource()
            return SoundDeviceSource(find(input_device(), True))

        def sink() -> AudioSink:
            if not any(d.outputs for d in devices):
                log.warning("no speaker: the call goes on, but you hear nothing")
                return NullSink()
            return SoundDeviceSink(find(output_device(), False))

        options = MediaOptions(
            codecs=list(codecs()), srtp=srtp(), source_factory=source, sink_factory=sink, aec=aec()
        )
        return AudioCallMedia(options, error_type=MediaNegotiationError)

    return factory


def device_tones(
    engine: Any,
    ringing_device: Callable[[], str | None],
    output_device: Callable[[], str | None],
    *,
    region: str = "eu",
    ringtone: str | None = None,
) -> CallTones:
    """Call tones on the sound devices: the ringtone on the ringing device, busy/error on the speaker."""

    def sink_on(name: Callable[[], str | None]) -> Callable[[], AudioSink]:
        def open_sink() -> AudioSink:
            devices = list_devices()
            if not any(d.outputs for d in devices):
                raise AudioDeviceError("no speaker to ring on")
            index = next((d.index for d in devices if d.name == name() and d.outputs), None)
            return SoundDeviceSink(index)

        return open_sink

    return CallTones(
        engine,
        ringer=sink_on(ringing_device),
        speaker=sink_on(output_device),
        region=region,
        ringtone=ringtone,
    )
