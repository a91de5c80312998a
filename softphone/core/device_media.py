"""Call media on the computer's sound devices: what the GUI gives the engine.

The GUI never reaches below softphone.core (docs/ARCHITECTURE.md): it names devices and
codecs, and this module builds the media of each call from them.
"""

from __future__ import annotations

from collections.abc import Callable

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
from .call import CallMedia, MediaNegotiationError

__all__ = [
    "AudioDeviceError",
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
) -> Callable[[], CallMedia]:
    """Media for each new call, from the settings at that moment; silence when a device is missing."""

    def factory() -> CallMedia:
        devices = list_devices()

        def find(name: str | None, inputs: bool) -> int | None:
            for device in devices:
                if device.name == name and (device.inputs if inputs else device.outputs):
                    return device.index
            return None

        def source() -> AudioSource:
            if not any(d.inputs for d in devices):
                return NullSource()
            return SoundDeviceSource(find(input_device(), True))

        def sink() -> AudioSink:
            if not any(d.outputs for d in devices):
                return NullSink()
            return SoundDeviceSink(find(output_device(), False))

        options = MediaOptions(codecs=list(codecs()), srtp=srtp(), source_factory=source, sink_factory=sink)
        return AudioCallMedia(options, error_type=MediaNegotiationError)

    return factory
