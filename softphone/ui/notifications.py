"""Desktop notifications with buttons (freedesktop.org Desktop Notifications over D-Bus).

An incoming call shows a notification with Answer and Decline; pressing one acts on the call even
while the main window is hidden.  Linux desktops (GNOME, KDE, XFCE, ...) serve the
``org.freedesktop.Notifications`` interface on the session bus; we talk to it with jeepney (pure
Python, already present as keyring's D-Bus backend).  Where there is no session bus or no
notification server (Windows, macOS, a bare X session), ``start()`` returns False and the tray's
balloon message is used instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
APP_NAME = "Softphone"

ActionHandler = Callable[[str, str], None]  # (key, action id)


class DesktopNotifications:
    """One notification per key (a call id); ``on_action(key, action)`` when a button is pressed."""

    def __init__(self, on_action: ActionHandler) -> None:
        self.on_action = on_action
        self._router: Any = None
        self._router_cm: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._ids: dict[str, int] = {}  # key -> server's notification id
        self._keys: dict[int, str] = {}
        self.available = False

    async def start(self) -> bool:
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return False
        try:
            from jeepney import MatchRule
            from jeepney.io.asyncio import open_dbus_router

            self._router_cm = open_dbus_router(bus="SESSION")
            self._router = await asyncio.wait_for(self._router_cm.__aenter__(), 3)
            await self._call("GetServerInformation", "", ())
            rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
            await self._add_match(rule)
            queue: asyncio.Queue[Any] = asyncio.Queue()
            self._router.filter(rule, queue=queue, bufsize=64)
            self._listener = asyncio.ensure_future(self._listen(queue))
        except Exception as exc:  # no bus, no server, a broken bus: the tray balloon does instead
            log.info("desktop notifications unavailable: %s", exc)
            await self.close()
            return False
        self.available = True
        return True

    async def _add_match(self, rule: Any) -> None:
        from jeepney.bus_messages import message_bus

        await asyncio.wait_for(self._router.send_and_get_reply(message_bus.AddMatch(rule)), 3)

    async def _call(self, method: str, signature: str, body: tuple[Any, ...]) -> tuple[Any, ...]:
        from jeepney import DBusAddress, MessageType, new_method_call

        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
        message = new_method_call(address, method, signature or None, body)
        reply = await asyncio.wait_for(self._router.send_and_get_reply(message), 3)
        if reply.header.message_type == MessageType.error:
            raise RuntimeError(f"{method}: {reply.body}")
        return tuple(reply.body)

    async def show(
        self, key: str, summary: str, body: str, actions: list[tuple[str, str]], *, urgent: bool = False
    ) -> None:
        """Show (or replace) the notification for ``key``; ``actions`` are (id, label) buttons."""
        if not self.available:
            return
        flat: list[str] = [part for action in actions for part in action]
        hints: dict[str, tuple[str, Any]] = {
            "urgency": ("y", 2 if urgent else 1),
            "category": ("s", "call.incoming" if urgent else "call"),
            "resident": ("b", urgent),
        }
        try:
            (server_id,) = await self._call(
                "Notify",
                "susssasa{sv}i",
                (APP_NAME, self._ids.get(key, 0), "call-start", summary, body, flat, hints, -1),
            )
        except Exception as exc:
            log.info("notification failed: %s", exc)
            return
        self._ids[key] = int(server_id)
        self._keys[int(server_id)] = key

    async def withdraw(self, key: str) -> None:
        server_id = self._ids.pop(key, None)
        if server_id is None or not self.available:
            return
        self._keys.pop(server_id, None)
        with contextlib.suppress(Exception):
            await self._call("CloseNotification", "u", (server_id,))

    async def _listen(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            message = await queue.get()
            member = message.header.fields.get(3)  # HeaderFields.member
            if member == "ActionInvoked":
                server_id, action = message.body
                key = self._keys.get(int(server_id))
                if key is not None:
                    try:
                        self.on_action(key, str(action))
                    except Exception:
                        log.exception("notification action %s failed", action)
            elif member == "NotificationClosed":
                key = self._keys.pop(int(message.body[0]), None)
                if key is not None:
                    self._ids.pop(key, None)

    async def close(self) -> None:
        self.available = False
        if self._listener is not None:
            self._listener.cancel()
            self._listener = None
        if self._router_cm is not None:
            with contextlib.suppress(Exception):
                await self._router_cm.__aexit__(None, None, None)
            self._router_cm = None
            self._router = None
