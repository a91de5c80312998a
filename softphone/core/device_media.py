"""Call media on the computer's sound devices: what the GUI gives the engine.

The GUI never reaches below softphone.core (docs/ARCHITECTURE.md): it names devices and
codecs, and this module builds the media of each call from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..media.device_list import AudioDeviceError, list_devices, sound_server_defaults
from .audio_devices import DeviceFollower
from .call import CallMedia, MediaNegotiationError
from .call_tones import CallTones

if TYPE_CHECKING:
    from ..media.devices import AudioSink, AudioSource, SoundDeviceSink, SoundDeviceSource

log = logging.getLogger(__name__)

__all__ = [
    "AudioDeviceError",
    "DeviceFollower",
    "device_tones",
    "SoundDeviceSink",
    "SoundDeviceSource",
    "device_media_factory",
    "list_devices",
    "preload_media",
    "sound_server_defaults",
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
        # imported with the first call, not with the GUI: numpy, PyAV, aiortc and friends take half a second
        from ..media.devices import NullSink, NullSource, SoundDeviceSink, SoundDeviceSource
        from ..media.session import AudioCallMedia, MediaOptions

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


def preload_media() -> None:
    """Import the media stack now (about 0.8 s on a busy 2-core VM) rather than with the first call's
    media, which would otherwise send its INVITE or 180 that much later. Safe to run in a worker
    thread (``loop.run_in_executor(None, preload_media)``) once the main window is up."""
    from ..media import session  # noqa: F401 - imported for its side effect: every media module loaded


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
            from ..media.devices import SoundDeviceSink

            return SoundDeviceSink(index)

        return open_sink

    return CallTones(
        engine,
        ringer=sink_on(ringing_device),
        speaker=sink_on(output_device),
        region=region,
        ringtone=ringtone,
    )


def __getattr__(name: str) -> Any:
    """``SoundDeviceSource``/``SoundDeviceSink`` (the settings dialog's device tests), imported when
    asked for rather than with the GUI (numpy)."""
    if name in ("SoundDeviceSource", "SoundDeviceSink"):
        from ..media import devices

        return getattr(devices, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
