"""Real calls between two phones in one process: the engines on 127.0.0.1, the GUI drives them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from softphone.core.engine import Engine
from softphone.core.history import History
from softphone.media.session import MediaOptions
from softphone.ui.controller import PhoneController
from softphone.ui.main_window import MainWindow
from softphone.ui.preferences import Preferences

pytestmark = pytest.mark.slow


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the GUI")
        await asyncio.sleep(0.05)


def phone(qtbot, history: History | None = None) -> MainWindow:  # type: ignore[no-untyped-def]
    engine = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"], media_timeout=30))
    controller = PhoneController(engine, [], history or History(":memory:"), Preferences(), persist=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    return window


def test_direct_call_answer_hold_and_hang_up_between_two_windows(qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    caller, callee = phone(qtbot), phone(qtbot)

    async def scenario() -> None:
        await caller.engine.start()
        await callee.engine.start()
        try:
            port = callee.engine.local[1]  # type: ignore[index]
            caller.show()
            caller.dialer.input.setText(f"bob@127.0.0.1:{port}")
            caller.dialer.call_button.click()
            await until(lambda: bool(callee.call_windows))
            incoming = next(iter(callee.call_windows.values()))
            qtbot.addWidget(incoming)
            assert incoming.state_label.text() == "Incoming call"
            outgoing = next(iter(caller.call_windows.values()))
            qtbot.addWidget(outgoing)
            await until(lambda: outgoing.state_label.text() == "Ringing…")
            incoming.answer_button.click()
            await until(lambda: outgoing.state_label.text() == "Connected")
            await until(lambda: incoming.state_label.text() == "Connected")
            assert outgoing.q_codec.text().startswith("PCMU")
            outgoing.hold_button.click()
            await until(lambda: outgoing.state_label.text() == "On hold")
            await until(lambda: incoming.state_label.text() == "Held by the other side")
            outgoing.hold_button.click()
            await until(lambda: incoming.state_label.text() == "Connected")
            outgoing.keypad_button.click()
            outgoing.dialpad.buttons["7"].click()
            await until(lambda: "7" in callee.controller.calls[incoming.call_id].dtmf_in)
            outgoing.hangup_button.click()
            await until(lambda: incoming.state_label.text() == "Call ended: the other side hung up")
            await until(lambda: outgoing.state_label.text() == "Call ended: you hung up")
            await until(lambda: len(callee.controller.history.calls()) == 1)
            assert callee.controller.history.calls()[0].outcome == "answered"
            assert caller.controller.history.calls()[0].outcome == "answered"
        finally:
            await caller.engine.stop()
            await callee.engine.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))


def test_a_missed_call_is_in_the_history_after_a_restart(qtbot, qloop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "history.sqlite3"
    caller, callee = phone(qtbot), phone(qtbot, History(path))

    async def scenario() -> None:
        await caller.engine.start()
        await callee.engine.start()
        try:
            port = callee.engine.local[1]  # type: ignore[index]
            caller.dial(f"sip:bob@127.0.0.1:{port}")
            await until(lambda: bool(callee.call_windows))
            outgoing = next(iter(caller.call_windows.values()))
            qtbot.addWidget(outgoing)
            qtbot.addWidget(next(iter(callee.call_windows.values())))
            await until(lambda: outgoing.state_label.text() == "Ringing…")
            outgoing.hangup_button.click()  # the caller gives up: missed at the callee
            await until(lambda: callee.controller.missed_count() == 1)
        finally:
            await caller.engine.stop()
            await callee.engine.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert callee.tabs.tabText(1) == "History (1)"
    callee.controller.history.close()
    # the app starts again: the missed call is still there, marked and counted
    again = phone(qtbot, History(path))
    assert again.tabs.tabText(1) == "History (1)"
    assert "Missed" in again.history_view.list.item(0).text()
    again.controller.history.close()
