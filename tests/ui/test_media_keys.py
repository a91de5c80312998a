"""Headset and keyboard media keys (issue 12): the MPRIS player on a private session bus (Debian's
dbus-daemon), driven the way a desktop's media-key handler drives it; and what each key does to calls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt

from softphone.core.account import AccountConfig
from softphone.core.events import EngineEvent
from softphone.ui.media_keys import BUS_NAME, OBJECT_PATH, MprisMediaKeys, NoMediaKeys, media_keys
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


def test_other_systems_say_media_keys_are_not_wired_up() -> None:
    keys = media_keys(lambda key: None, platform="win32")
    assert isinstance(keys, NoMediaKeys) and "win32" in keys.reason
    assert not asyncio.run(keys.start())
