"""Real calls between two phones in one process: the engines on 127.0.0.1, the GUI drives them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest
from PySide6.QtWidgets import QApplication

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
    # call windows close themselves a few seconds after the call: that must not quit the test's loop
    QApplication.setQuitOnLastWindowClosed(False)
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


@contextlib.asynccontextmanager
async def running(*phones: MainWindow) -> AsyncIterator[None]:
    """The phones' engines started on 127.0.0.1 for the block, and stopped after it whatever happens."""
    for p in phones:
        await p.engine.start()
    try:
        yield
    finally:
        for p in phones:
            await p.engine.stop()


async def connect(qtbot, caller: MainWindow, callee: MainWindow, user: str):  # type: ignore[no-untyped-def]
    """caller dials callee by address through the dialer; callee answers. Returns both call windows."""
    port = callee.engine.local[1]  # type: ignore[index]
    before = set(callee.call_windows)
    caller.dialer.input.setText(f"{user}@127.0.0.1:{port}")
    caller.dialer.call_button.click()
    await until(lambda: bool(set(callee.call_windows) - before))
    incoming = callee.call_windows[next(iter(set(callee.call_windows) - before))]
    qtbot.addWidget(incoming)
    outgoing = [w for w in caller.call_windows.values() if w.info is not None and w.info.active][-1]
    qtbot.addWidget(outgoing)
    await until(lambda: outgoing.state_label.text() == "Ringing…")
    incoming.answer_button.click()
    await until(lambda: outgoing.state_label.text() == "Connected")
    return outgoing, incoming


def test_add_call_holds_the_first_and_merge_makes_a_conference(qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    alice, bob, carol = phone(qtbot), phone(qtbot), phone(qtbot)

    async def scenario() -> None:
        async with running(alice, bob, carol):
            alice.show()
            to_bob, _ = await connect(qtbot, alice, bob, "bob")
            assert not to_bob.merge_button.isEnabled()  # nothing to merge with yet
            to_bob.add_call_button.click()
            await until(lambda: to_bob.state_label.text() == "On hold")
            to_carol, _ = await connect(qtbot, alice, carol, "carol")
            await until(lambda: to_carol.merge_button.isEnabled())
            to_carol.merge_button.click()
            await until(lambda: all(c.conference for c in alice.controller.active_calls()))
            await until(lambda: to_bob.state_label.text() == "Connected")  # resumed to join the conference
            assert not to_carol.merge_button.isEnabled()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))


def test_blind_transfer_from_the_call_window_hands_the_call_over(qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    """RFC 3515: bob is asked to call carol; alice's call ends, carol's phone rings with bob."""
    alice, bob, carol = phone(qtbot), phone(qtbot), phone(qtbot)

    async def scenario() -> None:
        async with running(alice, bob, carol):
            alice.show()
            to_bob, _ = await connect(qtbot, alice, bob, "bob")
            port = carol.engine.local[1]  # type: ignore[index]
            assert to_bob.blind_transfer(f"carol@127.0.0.1:{port}")
            await until(lambda: bool(carol.call_windows), 15)
            ringing = next(iter(carol.call_windows.values()))
            qtbot.addWidget(ringing)
            assert ringing.state_label.text() == "Incoming call"
            ringing.answer_button.click()
            await until(lambda: ringing.state_label.text() == "Connected", 15)
            # the call carol took is bob's (he followed the REFER), not one from alice
            dialog = carol.controller.calls[ringing.call_id].call.dialog  # type: ignore[union-attr]
            assert dialog is not None and dialog.remote_target.port == bob.engine.local[1]  # type: ignore[index]
            await until(lambda: to_bob.state_label.text().startswith("Call ended"), 15)

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))


def test_attended_transfer_joins_the_two_other_parties(qtbot, qloop) -> None:  # type: ignore[no-untyped-def]
    """RFC 3891: bob replaces alice's call with carol; bob and carol end up talking."""
    alice, bob, carol = phone(qtbot), phone(qtbot), phone(qtbot)

    async def scenario() -> None:
        async with running(alice, bob, carol):
            alice.show()
            to_bob, _ = await connect(qtbot, alice, bob, "bob")
            to_bob.add_call_button.click()
            await until(lambda: to_bob.state_label.text() == "On hold")
            to_carol, at_carol = await connect(qtbot, alice, carol, "carol")
            to_bob._fill_transfer_menu()
            labels = [a.text() for a in to_bob.transfer_menu.actions()]
            assert any("attended" in label for label in labels), labels
            assert to_bob.attended_transfer(to_carol.call_id)
            await until(lambda: len([c for c in carol.controller.active_calls() if c.connected]) == 1, 15)
            await until(lambda: at_carol.state_label.text().startswith("Call ended"), 15)
            await until(lambda: not alice.controller.active_calls(), 15)
            bobs = [c for c in bob.controller.active_calls() if c.connected]
            assert len(bobs) == 1

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
