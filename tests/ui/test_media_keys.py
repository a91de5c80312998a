"""Headset and keyboard media keys (issue 12): the MPRIS player on a private session bus (Debian's
dbus-daemon), driven the way a desktop's media-key handler drives it; and what each key does to calls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt

from softphone.core.account import AccountConfig
from softphone.core.events import EngineEvent
from softphone.ui.media_keys import (
    BUS_NAME,
    HOTKEY_BASE,
    MOD_NOREPEAT,
    OBJECT_PATH,
    WM_HOTKEY,
    MacMediaKeys,
    MprisMediaKeys,
    NoMediaKeys,
    WindowsMediaKeys,
    media_keys,
)
from tests.ui.fakes import FakeCall
from tests.ui.helpers import make_window
from tests.ui.test_notifications import session_bus  # noqa: F401 (the private bus)

ALICE = AccountConfig(aor="sip:alice@example.com")


async def _call(method: str, interface: str, signature: str | None = None, body: tuple[Any, ...] = ()) -> Any:
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.asyncio import open_dbus_router

    async with open_dbus_router(bus="SESSION") as router:
        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=interface)
        reply = await router.send_and_get_reply(new_method_call(address, method, signature, body))
        assert reply.header.message_type != MessageType.error, reply.body
        return reply.body


@pytest.mark.slow
def test_the_desktops_play_pause_reaches_the_phone_over_mpris(session_bus: str) -> None:  # noqa: F811
    async def scenario() -> None:
        pressed: list[str] = []
        keys = MprisMediaKeys(pressed.append)
        assert await keys.start()
        try:
            identity = await _call(
                "Get", "org.freedesktop.DBus.Properties", "ss", ("org.mpris.MediaPlayer2", "Identity")
            )
            assert identity[0] == ("s", "Softphone")
            status = await _call(
                "Get",
                "org.freedesktop.DBus.Properties",
                "ss",
                ("org.mpris.MediaPlayer2.Player", "PlaybackStatus"),
            )
            assert status[0] == ("s", "Stopped")
            keys.set_active(True)  # a call rings: the media keys are ours
            status = await _call(
                "Get",
                "org.freedesktop.DBus.Properties",
                "ss",
                ("org.mpris.MediaPlayer2.Player", "PlaybackStatus"),
            )
            assert status[0] == ("s", "Playing")
            await _call("PlayPause", "org.mpris.MediaPlayer2.Player")
            await _call("Stop", "org.mpris.MediaPlayer2.Player")
            assert pressed == ["play_pause", "stop"]
        finally:
            await keys.close()

    asyncio.run(scenario())


def test_play_pause_answers_a_ringing_call_and_hangs_up_a_running_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = make_window([ALICE])
    qtbot.addWidget(window)
    controller.engine.emit(EngineEvent("registered", ALICE.id, {"expires": 600}))
    call = FakeCall(controller.engine, "incoming", "sip:carol@example.org", "Carol", ALICE)
    call.emit("incoming", **{"from": "sip:carol@example.org", "display_name": "Carol"})
    qtbot.addWidget(window.call_windows[call.id])
    assert controller.media_key("play_pause") == "answer"
    qtbot.waitUntil(lambda: call.state == "connected")
    assert controller.media_key("play_pause") == "hangup"
    qtbot.waitUntil(lambda: call.state == "ended")
    assert controller.media_key("play_pause") is None  # nothing to do: no call
    assert Qt  # (Qt imported for qtbot's event loop)


def test_each_system_has_its_media_keys() -> None:
    assert isinstance(media_keys(lambda key: None, platform="linux"), MprisMediaKeys)
    assert isinstance(media_keys(lambda key: None, platform="win32"), WindowsMediaKeys)
    assert isinstance(media_keys(lambda key: None, platform="darwin"), MacMediaKeys)
    other = media_keys(lambda key: None, platform="haiku")
    assert isinstance(other, NoMediaKeys) and not asyncio.run(other.start())


class FakeUser32:
    def __init__(self) -> None:
        self.registered: set[int] = set()

    def RegisterHotKey(self, hwnd: object, hotkey_id: int, modifiers: int, vk: int) -> bool:  # noqa: N802
        assert hwnd is None and modifiers == MOD_NOREPEAT
        self.registered.add(vk)
        return True

    def UnregisterHotKey(self, hwnd: object, hotkey_id: int) -> bool:  # noqa: N802
        self.registered.discard(hotkey_id - HOTKEY_BASE + 0xB0)
        return True


def test_windows_takes_the_media_keys_only_while_a_call_is_up(qapp) -> None:  # type: ignore[no-untyped-def]
    """The keys are hot keys of the app during a call and go back to music players after it; a WM_HOTKEY
    message (as Windows sends it) becomes the key."""
    import ctypes
    from ctypes import wintypes

    pressed: list[str] = []
    user32 = FakeUser32()
    keys = WindowsMediaKeys(pressed.append, user32=user32)
    assert asyncio.run(keys.start())
    assert user32.registered == set()
    keys.set_active(True)
    assert user32.registered == {0xB3, 0xB2, 0xB0, 0xB1}
    msg = wintypes.MSG()
    msg.message, msg.wParam = WM_HOTKEY, HOTKEY_BASE + 0xB3 - 0xB0
    assert keys.native_event(b"windows_generic_MSG", ctypes.addressof(msg))
    msg.message = 0x0100  # WM_KEYDOWN: not ours
    assert not keys.native_event(b"windows_generic_MSG", ctypes.addressof(msg))
    assert pressed == ["play_pause"]
    keys.set_active(False)
    assert user32.registered == set()
