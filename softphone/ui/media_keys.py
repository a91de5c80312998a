"""Headset and keyboard media keys answer and hang up.

One small interface, ``MediaKeys``: ``start()`` then ``on_key(name)`` with ``play_pause``, ``stop``,
``next`` or ``previous``; ``set_active(bool)`` says whether a call rings or runs (the desktop then sends
the keys to us rather than to a music player).

- Linux: MPRIS (``org.mpris.MediaPlayer2``) on the session bus, with jeepney. GNOME's and KDE's media-key
  handlers, and the Bluetooth stack for a headset's button (AVRCP), send Play/Pause to the active MPRIS
  player; while a call rings or runs we say "Playing", so that is us.
- Windows: while a call rings or runs, the media keys are registered as the app's hot keys
  (``RegisterHotKey``, user32 through ctypes) and arrive as WM_HOTKEY through a Qt native event filter; they
  are given back to music players when the call ends. Headsets' buttons arrive as the same keys.
- macOS: ``MPRemoteCommandCenter`` (PyObjC's MediaPlayer framework, where installed): the play/pause, stop,
  next and previous commands, with "now playing" set while a call is up. Without PyObjC, ``NoMediaKeys``
  says so in the log.

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


WM_HOTKEY = 0x0312
MOD_NOREPEAT = 0x4000
VIRTUAL_KEYS = {0xB3: "play_pause", 0xB2: "stop", 0xB0: "next", 0xB1: "previous"}  # VK_MEDIA_*
HOTKEY_BASE = 0x5350  # our hot-key ids: one per key


class WindowsMediaKeys:
    """Windows: the media keys as hot keys of this app while a call is up (``user32`` injected for tests)."""

    def __init__(self, on_key: KeyHandler, user32: Any = None) -> None:
        self.on_key = on_key
        self.active = False
        self._user32 = user32
        self._filter: Any = None

    async def start(self) -> bool:
        if self._user32 is None:
            import ctypes

            self._user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        from PySide6.QtCore import QAbstractNativeEventFilter, QCoreApplication

        keys = self

        class HotKeys(QAbstractNativeEventFilter):
            def nativeEventFilter(self, event_type: Any, message: Any) -> tuple[bool, int]:
                return keys.native_event(event_type, message), 0

        self._filter = HotKeys()
        app = QCoreApplication.instance()
        if app is not None:
            app.installNativeEventFilter(self._filter)
        return True

    def native_event(self, event_type: Any, message: Any) -> bool:
        """A Windows MSG: WM_HOTKEY for one of our keys calls ``on_key``."""
        if bytes(event_type) not in (b"windows_generic_MSG", b"windows_dispatcher_MSG"):
            return False
        from ctypes import wintypes

        msg = wintypes.MSG.from_address(int(message))
        key = VIRTUAL_KEYS.get(msg.wParam - HOTKEY_BASE + 0xB0) if msg.message == WM_HOTKEY else None
        if key is None:
            return False
        self.on_key(key)
        return True

    def set_active(self, active: bool) -> None:
        """Take the media keys while a call is up, give them back to music players afterwards."""
        if active == self.active or self._user32 is None:
            return
        self.active = active
        for vk in VIRTUAL_KEYS:
            hotkey_id = HOTKEY_BASE + vk - 0xB0
            if active:
                if not self._user32.RegisterHotKey(None, hotkey_id, MOD_NOREPEAT, vk):
                    log.info("media key %#x is taken by another program", vk)
            else:
                self._user32.UnregisterHotKey(None, hotkey_id)

    async def close(self) -> None:
        self.set_active(False)


class MacMediaKeys:
    """macOS: MPRemoteCommandCenter's commands (PyObjC), "now playing" while a call is up."""

    def __init__(self, on_key: KeyHandler) -> None:
        self.on_key = on_key
        self._center: Any = None
        self._info: Any = None

    async def start(self) -> bool:
        try:
            from MediaPlayer import (  # type: ignore[import-not-found]
                MPNowPlayingInfoCenter,
                MPRemoteCommandCenter,
            )
        except ImportError:
            log.info("media keys: PyObjC's MediaPlayer framework is not installed")
            return False
        center = MPRemoteCommandCenter.sharedCommandCenter()
        for command, key in (
            (center.togglePlayPauseCommand(), "play_pause"),
            (center.playCommand(), "play_pause"),
            (center.pauseCommand(), "play_pause"),
            (center.stopCommand(), "stop"),
            (center.nextTrackCommand(), "next"),
            (center.previousTrackCommand(), "previous"),
        ):
            command.setEnabled_(True)
            command.addTargetWithHandler_(lambda _event, key=key: (self.on_key(key), 0)[1])  # 0: success
        self._center = center
        self._info = MPNowPlayingInfoCenter.defaultCenter()
        return True

    def set_active(self, active: bool) -> None:
        if self._info is not None:
            self._info.setPlaybackState_(1 if active else 3)  # MPNowPlayingPlaybackStatePlaying / Stopped

    async def close(self) -> None:
        self.set_active(False)


def media_keys(on_key: KeyHandler, platform: str = sys.platform) -> MediaKeys:
    if platform.startswith("linux") or "bsd" in platform:
        return MprisMediaKeys(on_key)
    if platform == "win32":
        return WindowsMediaKeys(on_key)
    if platform == "darwin":
        return MacMediaKeys(on_key)
    return NoMediaKeys(on_key, f"no media-key support on {platform}")
