"""Incoming calls show a desktop notification with Answer and Decline (freedesktop.org notifications).

A private dbus-daemon (Debian's) is the session bus; a small notification server on it plays the
desktop's part: it records Notify/CloseNotification and presses buttons by emitting ActionInvoked,
exactly what GNOME Shell or KDE Plasma send when the user clicks.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from softphone.ui.tray import Tray  # noqa: E402  (after the PySide6 check in conftest)
from tests.ui.test_gui_calls import phone, until

pytestmark = pytest.mark.slow

PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"


@pytest.fixture
def session_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon not installed")
    address = f"unix:path={tmp_path / 'bus'}"
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={address}", "--print-address"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    printed = proc.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", printed)
    yield printed
    proc.terminate()
    proc.wait(5)


class NotificationServer:
    """The desktop's notification daemon, reduced to what a test needs."""

    def __init__(self) -> None:
        self.shown: list[tuple[int, str, str, list[str]]] = []
        self.closed: list[int] = []
        self._router: Any = None
        self._cm: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.asyncio import open_dbus_router

        self._cm = open_dbus_router(bus="SESSION")
        self._router = await self._cm.__aenter__()
        await self._router.send_and_get_reply(message_bus.RequestName("org.freedesktop.Notifications"))
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._router.filter(MatchRule(type="method_call", interface=IFACE), queue=queue, bufsize=64)
        self._task = asyncio.ensure_future(self._serve(queue))

    async def _serve(self, queue: asyncio.Queue[Any]) -> None:
        from jeepney import new_method_return

        while True:
            msg = await queue.get()
            member = msg.header.fields.get(3)
            if member == "GetServerInformation":
                reply = new_method_return(msg, "ssss", ("test", "softphone", "1", "1.2"))
            elif member == "Notify":
                _app, replaces, _icon, summary, body, actions, _hints, _timeout = msg.body
                ident = replaces or len(self.shown) + 1
                self.shown.append((ident, summary, body, list(actions)))
                reply = new_method_return(msg, "u", (ident,))
            elif member == "CloseNotification":
                self.closed.append(int(msg.body[0]))
                reply = new_method_return(msg)
            else:
                continue
            await self._router.send(reply)

    async def press(self, ident: int, action: str) -> None:
        from jeepney import DBusAddress, new_signal

        signal = new_signal(DBusAddress(PATH, interface=IFACE), "ActionInvoked", "us", (ident, action))
        await self._router.send(signal)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._cm is not None:
            await self._cm.__aexit__(None, None, None)


def ring_with_a_notification(qtbot, qloop, scenario) -> None:  # type: ignore[no-untyped-def]
    """caller dials callee, whose tray shows the notification; ``scenario(server, caller)`` goes on."""
    caller, callee = phone(qtbot), phone(qtbot)
    tray = Tray(callee)
    server = NotificationServer()

    async def run() -> None:
        await server.start()
        assert await tray.start_notifications()
        await caller.engine.start()
        await callee.engine.start()
        try:
            port = callee.engine.local[1]  # type: ignore[index]
            caller.dialer.input.setText(f"bob@127.0.0.1:{port}")
            caller.dialer.call_button.click()
            await until(lambda: bool(server.shown))
            await scenario(server, caller)
        finally:
            await tray.notifications.close()
            await server.stop()
            await caller.engine.stop()
            await callee.engine.stop()

    qloop.run_until_complete(asyncio.wait_for(run(), 60))


def caller_window(qtbot, caller):  # type: ignore[no-untyped-def]
    window = next(iter(caller.call_windows.values()))
    qtbot.addWidget(window)
    return window


def test_answer_from_the_notification_answers_the_call(qtbot, qloop, session_bus) -> None:  # type: ignore[no-untyped-def]
    async def scenario(server: NotificationServer, caller) -> None:  # type: ignore[no-untyped-def]
        ident, summary, body, actions = server.shown[0]
        assert summary == "Incoming call" and "bob" not in body  # the caller is shown, not us
        assert actions[actions.index("answer") + 1] == "Answer"
        assert actions[actions.index("decline") + 1] == "Decline"
        await server.press(ident, "answer")
        outgoing = caller_window(qtbot, caller)
        await until(lambda: outgoing.state_label.text() == "Connected")
        await until(lambda: ident in server.closed)  # answered: the notification goes away

    ring_with_a_notification(qtbot, qloop, scenario)


def test_decline_from_the_notification_rejects_the_call(qtbot, qloop, session_bus) -> None:  # type: ignore[no-untyped-def]
    async def scenario(server: NotificationServer, caller) -> None:  # type: ignore[no-untyped-def]
        await server.press(server.shown[0][0], "decline")
        outgoing = caller_window(qtbot, caller)
        await until(lambda: outgoing.state_label.text() == "Call ended: declined")

    ring_with_a_notification(qtbot, qloop, scenario)


def test_without_a_session_bus_notifications_are_unavailable(qtbot, qloop, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    tray = Tray(phone(qtbot))
    assert qloop.run_until_complete(tray.start_notifications()) is False
