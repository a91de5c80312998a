"""Audio devices, as the GUI and the CLI see them (they never import softphone.media)."""

from __future__ import annotations

from ..media.devices import DeviceInfo, list_devices

__all__ = ["DeviceInfo", "audio_devices", "describe_devices"]


def audio_devices() -> list[DeviceInfo]:
    return list_devices()


def describe_devices() -> str:
    """The devices in words; says clearly when there are none."""
    devices = audio_devices()
    if not devices:
        return (
            "No audio devices found. Calls still work with files (--play/--record) or without sound; "
            "connect a headset or check that the sound system (PulseAudio, PipeWire, CoreAudio, WASAPI) runs."
        )
    lines = []
    for dev in devices:
        kinds = []
        if dev.inputs:
            kinds.append("microphone" + (" (default)" if dev.is_default_input else ""))
        if dev.outputs:
            kinds.append("speaker" + (" (default)" if dev.is_default_output else ""))
        lines.append(f"{dev.index:3}  {dev.name}  [{', '.join(kinds)}]")
    return "\n".join(lines)
