"""Headset and keyboard media keys answer and hang up.

One small interface, ``MediaKeys``: ``start()`` then ``on_key(name)`` with ``play_pause``, ``stop``,
``next`` or ``previous``; ``set_active(bool)`` says whether a call rings or runs (the desktop then sends
the keys to us rather than to a music player).

- Linux: MPRIS (``org.mpris.MediaPlayer2``) on the session bus, with jeepney. GNOME's and KDE's media-key
  handlers, and the Bluetooth stack for a headset's button (AVRCP), send Play/Pause to the active MPRIS
  player; while a call rings or runs we say "Playing", so that is us.
- Windows (System Media Transport Controls) and macOS (MPRemoteCommandCenter) need their platform APIs
  through pywinrt or PyObjC, which the app does not ship yet: ``media_keys()`` gives ``NoMediaKeys`` there,
  and says so in the log.

What a key does is the controller's business (``PhoneController.media_key``): Play/Pause answers a ringing
call and hangs up a running one, Stop hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

BUS_NAME = "org.mpris.MediaPlayer2.softphone"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT = "org.mpris.MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
PROPERTIES = "org.freedesktop.DBus.Properties"
KEYS = {"PlayPause": "play_pause", "Play": "play_pause", "Pause": "play_pause", "Stop": "stop",
        "Next": "next", "Previous": "previous"}  # fmt: skip

KeyHandler = Callable[[str], None]


class MediaKeys(Protocol):
    async def start(self) -> bool: ...
    def set_active(self, active: bool) -> None: ...
    async def close(self) -> None: ...


class NoMediaKeys:
    """Where no media-key API is wired up: nothing happens, and the log says why once."""

    def __init__(self, on_key: KeyHandler, reason: str) -> None:
        self.on_key = on_key
        self.reason = reason

    async def start(self) -> bool:
        log.info("media keys: %s", self.reason)
        return False

    def set_active(self, active: bool) -> None:
        pass

    async def close(self) -> None:
        pass


class MprisMediaKeys:
    """An MPRIS player named "Softphone" that turns Play/Pause/Stop/Next/Previous into ``on_key``."""

    def __init__(self, on_key: KeyHandler) -> None:
        self.on_key = on_key
        self.active = False
        self._router: Any = None
        self._router_cm: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            log.info("media keys: no session bus")
            return False
        try:
            from jeepney import MatchRule
            from jeepney.bus_messages import message_bus
            from jeepney.io.asyncio import open_dbus_router

            self._router_cm = open_dbus_router(bus="SESSION")
            self._router = await asyncio.wait_for(self._router_cm.__aenter__(), 3)
            await asyncio.wait_for(self._router.send_and_get_reply(message_bus.RequestName(BUS_NAME)), 3)
            queue: asyncio.Queue[Any] = asyncio.Queue()
            self._router.filter(MatchRule(type="method_call", path=OBJECT_PATH), queue=queue, bufsize=64)
            self._task = asyncio.ensure_future(self._serve(queue))
        except Exception as exc:
            log.info("media keys unavailable: %s", exc)
            await self.close()
            return False
        return True

    def set_active(self, active: bool) -> None:
        """A call rings or runs: tell the desktop we are the player its media keys should go to."""
        if active == self.active:
            return
        self.active = active
        if self._router is None:
            return
        from jeepney import new_signal
        from jeepney.wrappers import DBusAddress

        changed = new_signal(DBusAddress(OBJECT_PATH, interface=PROPERTIES), "PropertiesChanged", "sa{sv}as",
                             (PLAYER, {"PlaybackStatus": ("s", self._status())}, []))  # fmt: skip
        with contextlib.suppress(RuntimeError):  # no running loop: nobody to tell
            asyncio.get_running_loop().create_task(self._router.send(changed))

    def _status(self) -> str:
        return "Playing" if self.active else "Stopped"

    def _properties(self, interface: str) -> dict[str, tuple[str, Any]]:
        if interface == ROOT:
            return {
                "Identity": ("s", "Softphone"),
                "DesktopEntry": ("s", "softphone"),
                "CanQuit": ("b", False),
                "CanRaise": ("b", False),
                "HasTrackList": ("b", False),
                "SupportedUriSchemes": ("as", ["sip", "sips", "tel"]),
                "SupportedMimeTypes": ("as", []),
            }
        if interface == PLAYER:
            return {
                "PlaybackStatus": ("s", self._status()),
                "CanControl": ("b", True),
                "CanPlay": ("b", True),
                "CanPause": ("b", True),
                "CanGoNext": ("b", True),
                "CanGoPrevious": ("b", True),
                "CanSeek": ("b", False),
                "Metadata": ("a{sv}", {"xesam:title": ("s", "Call")} if self.active else {}),
            }
        return {}

    async def _serve(self, queue: asyncio.Queue[Any]) -> None:
        from jeepney import new_error, new_method_return

        while True:
            message = await queue.get()
            fields = message.header.fields
            member, interface = fields.get(3), fields.get(2)  # HeaderFields.member, .interface
            try:
                if interface == PROPERTIES and member == "GetAll":
                    reply = new_method_return(message, "a{sv}", (self._properties(message.body[0]),))
                elif interface == PROPERTIES and member == "Get":
                    value = self._properties(message.body[0]).get(message.body[1])
                    if value is None:
                        reply = new_error(message, "org.freedesktop.DBus.Error.UnknownProperty")
                    else:
                        reply = new_method_return(message, "v", (value,))
                elif member in KEYS:
                    reply = new_method_return(message)
                    self.on_key(KEYS[member])
                else:
                    reply = new_method_return(message)  # Raise, Quit, Seek...: nothing to do
                await self._router.send(reply)
            except Exception:
                log.exception("media key %s failed", member)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._router_cm is not None:
            with contextlib.suppress(Exception):
                await self._router_cm.__aexit__(None, None, None)
            self._router_cm = None
            self._router = None


def media_keys(on_key: KeyHandler, platform: str = sys.platform) -> MediaKeys:
    if platform.startswith("linux") or "bsd" in platform:
        return MprisMediaKeys(on_key)
    return NoMediaKeys(
        on_key, f"not wired up on {platform} yet (System Media Transport Controls, MPRemoteCommandCenter)"
    )
