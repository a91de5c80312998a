"""The sound devices there are: listing them, here or in a child process; no audio, no numpy.

``devices.py`` (sources and sinks, numpy) re-exports all of it; the GUI imports this module alone
until a call needs audio, so that numpy and the media stack load with the first call.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

__all__ = ["AudioDeviceError", "DeviceInfo", "find_device", "list_devices", "probe_devices"]


class AudioDeviceError(Exception):
    """No such device, or it cannot be opened; the message is for the user."""


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float
    is_default_input: bool = False
    is_default_output: bool = False


def list_devices() -> list[DeviceInfo]:
    """The sound devices the system has; empty (never an exception) when there are none."""
    try:
        import sounddevice as sd  # type: ignore[import-untyped]

        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except Exception as exc:  # no PortAudio, no server: the user just has no devices
        log.info("no audio devices: %s", exc)
        return []
    out = []
    for index, dev in enumerate(devices):
        out.append(
            DeviceInfo(
                index,
                str(dev["name"]),
                int(dev["max_input_channels"]),
                int(dev["max_output_channels"]),
                float(dev["default_samplerate"]),
                index == default_in,
                index == default_out,
            )
        )
    return out


def find_device(name: str | None, *, inputs: bool, devices: list[DeviceInfo] | None = None) -> int | None:
    """The index of the device called ``name`` with inputs (or outputs); None: not there."""
    for device in list_devices() if devices is None else devices:
        if device.name == name and (device.inputs if inputs else device.outputs):
            return device.index
    return None


_PROBE = (
    "import json, sounddevice as sd\n"
    "d = sd.query_devices(); i, o = sd.default.device\n"
    "print(json.dumps([[k, x['name'], x['max_input_channels'], x['max_output_channels'],"
    " x['default_samplerate'], k == i, k == o] for k, x in enumerate(d)]))"
)


def probe_devices(timeout: float = 10.0) -> list[DeviceInfo] | None:
    """The devices as a fresh PortAudio sees them now, listed in a child process.

    PortAudio only enumerates devices when it is initialised, and re-initialising it in this
    process would close every open stream (a call's audio); a child process sees plugged and
    unplugged devices without touching them. None when the probe itself fails. Blocks: run it
    off the event loop.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout, check=False
        )
        import json

        rows = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.info("device probe failed: %s", exc)
        return None
    if rows is None:
        log.info("no audio devices (probe: %s)", done.stderr.strip()[-200:])
        return []
    return [
        DeviceInfo(int(r[0]), str(r[1]), int(r[2]), int(r[3]), float(r[4]), bool(r[5]), bool(r[6]))
        for r in rows
    ]


def sound_server_defaults(timeout: float = 2.0) -> dict[str, str]:
    """The sound server's (PulseAudio's, or PipeWire's through its Pulse interface) descriptions of its
    default devices: {"speaker": "Built-in Audio Analog Stereo", "microphone": ...}. PortAudio reaches the
    server only through ALSA's "pulse" and "default" plugins, which name no device; this says which one
    they lead to. Empty where there is no server or no ``pactl``. Blocks up to ``timeout``."""
    import json
    import shutil

    if shutil.which("pactl") is None:
        return {}
    result: dict[str, str] = {}
    try:
        info = subprocess.run(
            ["pactl", "--format=json", "info"], capture_output=True, text=True, timeout=timeout, check=False
        )
        defaults = json.loads(info.stdout) if info.returncode == 0 else {}
        for role, kind, key in (
            ("speaker", "sinks", "default_sink_name"),
            ("microphone", "sources", "default_source_name"),
        ):
            name = defaults.get(key)
            if not name:
                continue
            listed = subprocess.run(
                ["pactl", "--format=json", "list", kind],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            for device in json.loads(listed.stdout) if listed.returncode == 0 else []:
                if device.get("name") == name:
                    result[role] = str(device.get("description") or name)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.info("cannot ask the sound server for its devices: %s", exc)
    return result
