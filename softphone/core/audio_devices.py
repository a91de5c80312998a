"""Audio devices, as the GUI and the CLI see them (they never import softphone.media).

:class:`DeviceFollower` keeps the calls on working sound devices: when the microphone or the
speaker a call uses fails or is unplugged, the call moves to the system default (an
``audio_device`` event says so); when the chosen device comes back, the call moves back to it;
with no device at all the call goes on silent, and an ``audio_device_error`` event says that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

# The listing only: the sources and sinks (softphone.media.devices, numpy) are imported where a
# call's devices are looked at, so that the GUI starts without the media stack.
from ..media.device_list import AudioDeviceError, DeviceInfo, find_device, list_devices, probe_devices
from .events import EngineEvent

__all__ = ["DeviceFollower", "DeviceInfo", "audio_devices", "describe_devices"]

log = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0  # seconds between health checks of the open devices (cheap, in the loop)
LIST_INTERVAL = 3.0  # seconds between device listings during calls (a child process, off the loop)
IDLE_LIST_INTERVAL = 30.0  # and without calls: each listing costs ~0.1 s of CPU


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


Opener = Callable[[str, "str | None"], Any]  # (role, device name or None = default) -> source or sink


def open_device(role: str, name: str | None, devices: list[DeviceInfo] | None = None) -> Any:
    """A sound device for ``role`` ("microphone" or "speaker"): the named one, or the default."""
    inputs = role == "microphone"
    index = find_device(name, inputs=inputs, devices=devices) if name is not None else None
    if name is not None and index is None:
        raise AudioDeviceError(f"no {role} called {name!r}")
    from ..media.devices import SoundDeviceSink, SoundDeviceSource

    return SoundDeviceSource(index) if inputs else SoundDeviceSink(index)


def _reinitialize() -> None:
    from ..media.devices import reinitialize

    reinitialize()


class DeviceFollower:
    """Watches the devices of every call of an engine and moves calls when devices come and go."""

    def __init__(
        self,
        engine: Any,
        input_device: Callable[[], str | None],
        output_device: Callable[[], str | None],
        *,
        check_interval: float = CHECK_INTERVAL,
        list_interval: float = LIST_INTERVAL,
        lister: Callable[[], list[DeviceInfo] | None] = probe_devices,
        opener: Opener | None = None,
        rescan: Callable[[], None] = _reinitialize,
    ) -> None:
        self.engine = engine
        self.wanted = {"microphone": input_device, "speaker": output_device}
        self.check_interval = check_interval
        self.list_interval = list_interval
        self.lister = lister
        self.opener: Opener = opener or (lambda role, name: open_device(role, name))
        self.rescan = rescan
        self.names: set[str] | None = None  # device names at the last listing
        self._told: set[tuple[str, str]] = set()  # (call, role) already told it has no device
        self._chosen: dict[tuple[str, str], str | None] = {}  # (call, role) -> picked by the user in the call
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_list = 0.0
        while True:
            try:
                if loop.time() >= next_list or (
                    self._calls() and next_list - loop.time() > self.list_interval
                ):
                    next_list = loop.time() + (self.list_interval if self._calls() else IDLE_LIST_INTERVAL)
                    devices = await loop.run_in_executor(None, self.lister)
                    if devices is not None:
                        self.on_devices(devices)
                self.check()
            except Exception:
                log.exception("device follow failed")
            await asyncio.sleep(self.check_interval)

    # -- what the calls use --
    def _calls(self) -> list[Any]:
        return [c for c in list(self.engine.calls.values()) if not c.ended and hasattr(c.media, "audio")]

    @staticmethod
    def _devices(call: Any) -> dict[str, Any]:
        source, sink = call.media.audio()
        return {"microphone": source, "speaker": sink}

    def check(self) -> None:
        """Move calls off devices that stopped working; tell calls that have none."""
        calls = self._calls()
        if self._chosen:
            live = {c.id for c in calls}
            self._chosen = {key: name for key, name in self._chosen.items() if key[0] in live}
        if not calls:
            return
        from ..media.devices import NullSink, NullSource, SoundDeviceSink, SoundDeviceSource

        for call in calls:
            for role, device in self._devices(call).items():
                if device is None:
                    continue
                if isinstance(device, (SoundDeviceSource, SoundDeviceSink)) and not device.healthy():
                    name = device.device_name
                    self._switch(call, role, None, f"the {role} {name!r} stopped working")
                elif isinstance(device, (NullSource, NullSink)) and (call.id, role) not in self._told:
                    self._told.add((call.id, role))
                    self._no_device(call, role)

    def choose(self, call: Any, role: str, name: str | None) -> None:
        """The user picked a device for this call (None: the system default): use it, and follow it."""
        self._chosen[(call.id, role)] = name
        label = repr(name) if name else "the system default"
        self._switch(call, role, name, f"you chose {label}")

    def _wanted(self, call: Any, role: str) -> str | None:
        key = (call.id, role)
        return self._chosen[key] if key in self._chosen else self.wanted[role]()

    def on_devices(self, devices: list[DeviceInfo]) -> None:
        """A new device listing: follow unplugged and returning devices."""
        names = {d.name for d in devices}
        previous, self.names = self.names, names
        if previous is not None and names != previous:
            self.engine.emit(
                EngineEvent(
                    "audio_devices_changed",
                    None,
                    {"added": sorted(names - previous), "removed": sorted(previous - names)},
                )
            )
        rescanned = False
        calls = self._calls()
        if not calls:
            return
        from ..media.devices import NullSink, NullSource, SoundDeviceSink, SoundDeviceSource

        for call in calls:
            for role, device in self._devices(call).items():
                wanted = self._wanted(call, role)
                current = getattr(device, "device_name", None)
                is_sound = isinstance(device, (SoundDeviceSource, SoundDeviceSink))
                is_null = isinstance(device, (NullSource, NullSink))
                if not (is_sound or is_null) or (is_sound and wanted is None):
                    continue  # a file, a conference port, or already on the default: nothing to follow
                if is_sound and current == wanted:
                    if wanted not in names:
                        self._switch(call, role, None, f"the {role} {wanted!r} was unplugged")
                    continue
                # on a fallback (another device, or none at all): back as soon as it shows up
                if names == previous or not self._present(role, wanted, devices):
                    continue
                if not rescanned:
                    self.rescan()  # this process's PortAudio must see the new device to open it
                    rescanned = True
                label = repr(wanted) if wanted else "the system default"
                self._switch(call, role, wanted, f"the {role} {label} is available")

    @staticmethod
    def _present(role: str, name: str | None, devices: list[DeviceInfo]) -> bool:
        inputs = role == "microphone"
        usable = [d for d in devices if (d.inputs if inputs else d.outputs)]
        return bool(usable) if name is None else any(d.name == name for d in usable)

    def _switch(self, call: Any, role: str, name: str | None, why: str) -> None:
        try:
            new = self.opener(role, name)
        except AudioDeviceError as exc:
            if name is None:
                from ..media.devices import NullSink, NullSource

                new = NullSource() if role == "microphone" else NullSink()
                log.warning("call %s: %s, and %s", call.id, why, exc)
                self._told.add((call.id, role))
                self._no_device(call, role, why)
                self._replace(call, role, new)
            else:
                log.info("call %s: cannot open %s: %s", call.id, name, exc)
            return
        self._told.discard((call.id, role))
        self._replace(call, role, new)
        device_name = getattr(new, "device_name", None)
        message = f"{why[0].upper()}{why[1:]}; the call now uses {device_name!r}" + (
            "" if name else " (the system default)"
        )
        log.warning("call %s: %s", call.id, message)
        self._emit(call, "audio_device", role=role, device=device_name, message=message)

    @staticmethod
    def _replace(call: Any, role: str, new: Any) -> None:
        source, sink = call.media.audio()
        if role == "microphone":
            call.media.set_audio(new, sink, close_old=True)
        else:
            call.media.set_audio(source, new, close_old=True)

    def _no_device(self, call: Any, role: str, why: str | None = None) -> None:
        hears = "the other side hears nothing from you" if role == "microphone" else "you hear nothing"
        message = f"No {role}: the call goes on, but {hears}"
        if why:
            message = f"{why[0].upper()}{why[1:]} and there is no other {role}: the call goes on, but {hears}"
        self._emit(call, "audio_device_error", role=role, device=None, message=message)

    def _emit(self, call: Any, name: str, **fields: Any) -> None:
        account = call.account.id if getattr(call, "account", None) else None
        self.engine.emit(EngineEvent(name, account, {"call": call.id, **fields}))
