"""The media stack (numpy, PyAV, aiortc, aioice) loads with the first call's media, not with the
modules the GUI imports to start: it takes about half a second and 30 MiB (bench/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "av", "aiortc", "aioice", "pylibsrtp", "softphone.media.session", "softphone.media.stream")


def loaded_after(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_the_core_modules_the_gui_uses_do_not_load_the_media_stack() -> None:
    code = (
        "from softphone.core.engine import Engine\n"
        "from softphone.core.device_media import device_media_factory, device_tones, list_devices\n"
        "from softphone.core.audio_devices import DeviceFollower, audio_devices\n"
        "from softphone.core.call_tones import CallTones\n"
        "engine = Engine(listen=('127.0.0.1', 0), media_factory=device_media_factory("
        "lambda: ['opus'], lambda: 'optional', lambda: None, lambda: None))\n"
        "DeviceFollower(engine, lambda: None, lambda: None)\n"
        "device_tones(engine, lambda: None, lambda: None)\n"
    )
    assert loaded_after(code) == []


def test_the_gui_starts_without_the_media_stack() -> None:
    pytest.importorskip("PySide6")
    assert loaded_after("import softphone.ui.app") == []


def test_the_first_calls_media_loads_it() -> None:
    code = (
        "from softphone.core.engine import Engine, MediaOptions\n"
        "from softphone.core.device_media import device_media_factory\n"
        "media = device_media_factory(lambda: ['PCMU'], lambda: 'off', lambda: None, lambda: None)()\n"
        "assert type(media).__name__ == 'AudioCallMedia' and MediaOptions().codecs\n"
    )
    assert {"numpy", "av", "aiortc", "softphone.media.session"} <= set(loaded_after(code))


def test_the_names_core_gave_before_are_still_there() -> None:
    from softphone.core import device_media, engine
    from softphone.media import devices, session

    assert engine.MediaOptions is session.MediaOptions  # the CLI imports it from the engine
    assert device_media.SoundDeviceSource is devices.SoundDeviceSource  # the settings dialog's device test
    assert device_media.SoundDeviceSink is devices.SoundDeviceSink
    assert devices.list_devices is device_media.list_devices
    with pytest.raises(AttributeError):
        _ = engine.AudioCallMedia


def test_preload_media_loads_the_stack_ahead_of_the_first_call() -> None:
    code = "from softphone.core.device_media import preload_media\npreload_media()\n"
    assert {"numpy", "av", "aiortc", "softphone.media.session"} <= set(loaded_after(code))
