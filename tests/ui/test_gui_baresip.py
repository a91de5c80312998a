"""The GUI against a real baresip through the real Kamailio: calls both ways, audio checked by content.

The phone's microphone is the speech sample and its speaker a WAV recorder (MediaOptions play/record),
so what the windows do is heard, not assumed: the recording on the far side must match the sample.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from softphone.core.engine import Engine
from softphone.core.history import History
from softphone.media.session import MediaOptions
from softphone.ui.controller import PhoneController
from softphone.ui.main_window import MainWindow
from softphone.ui.preferences import Preferences
from tests.interop.conftest import kamailio, make_baresip, speech_8k  # noqa: F401
from tests.peers.audio import compare
from tests.peers.baresip import BaresipFactory
from tests.peers.kamailio import KamailioServer
from tests.ui.test_gui_calls import until
from tests.ui.test_gui_kamailio import fill

pytestmark = [pytest.mark.interop, pytest.mark.slow]

TALK = 4.0  # seconds of speech in each call


def phone(qtbot, play: Path, record: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    media = MediaOptions(codecs=["PCMU"], play=str(play), record=str(record))
    engine = Engine(listen=("127.0.0.1", 0), media=media)
    controller = PhoneController(engine, [], History(":memory:"), Preferences(), persist=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    return window


async def register(qtbot, window: MainWindow, k: KamailioServer, user: str, password: str) -> str:  # type: ignore[no-untyped-def]
    dialog = window.add_account()
    qtbot.addWidget(dialog)
    fill(dialog.form, k, user, password)
    dialog.accept()
    account_id = f"sip:{user}@{k.domain}"
    await until(lambda: "Registered" in window.account_text(account_id), 15)
    return account_id


def test_gui_dials_baresip_and_hangs_up_and_baresip_hears_the_speech(  # type: ignore[no-untyped-def]
    qtbot, qloop, kamailio: KamailioServer, make_baresip: BaresipFactory, speech_8k: Path, tmp_path: Path  # noqa: F811
) -> None:
    alice = phone(qtbot, speech_8k, tmp_path / "alice-heard.wav")
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], answer_mode="auto")

    async def scenario() -> None:
        await alice.engine.start()
        try:
            alice.show()
            account = await register(qtbot, alice, kamailio, "alice", "alice-secret")
            alice.dialer.account.setCurrentIndex(alice.dialer.account.findData(account))
            alice.dialer.input.setText("bob")
            alice.dialer.call_button.click()
            await until(lambda: bool(alice.call_windows), 10)
            window = next(iter(alice.call_windows.values()))
            qtbot.addWidget(window)
            await until(lambda: window.state_label.text() == "Connected", 15)
            assert window.q_codec.text().startswith("PCMU")
            await asyncio.sleep(TALK)
            window.hangup_button.click()
            await until(lambda: window.state_label.text() == "Call ended: you hung up", 10)
        finally:
            await alice.engine.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 90))
    bob.wait_event("CALL_CLOSED", timeout=10)
    recordings = bob.recordings()
    assert len(recordings) == 1
    match = compare(speech_8k, recordings[0])
    print(f"GUI -> baresip PCMU: {match}")
    assert match.correlation > 0.8
    if match.pesq_nb is not None:
        assert match.pesq_nb >= 3.5


def test_gui_answers_baresip_and_hears_it(  # type: ignore[no-untyped-def]
    qtbot, qloop, kamailio: KamailioServer, make_baresip: BaresipFactory, speech_8k: Path, tmp_path: Path  # noqa: F811
) -> None:
    heard = tmp_path / "alice-heard.wav"
    alice = phone(qtbot, speech_8k, heard)
    bob = make_baresip(user="bob", registrar=kamailio, codecs=["PCMU"], play_wav=speech_8k)

    async def scenario() -> None:
        await alice.engine.start()
        try:
            alice.show()
            await register(qtbot, alice, kamailio, "alice", "alice-secret")
            bob.dial(f"sip:alice@{kamailio.domain}")
            await until(lambda: bool(alice.call_windows), 15)
            window = next(iter(alice.call_windows.values()))
            qtbot.addWidget(window)
            assert window.state_label.text() == "Incoming call"
            assert "bob" in window.name_label.text() + window.address_label.text()
            window.answer_button.click()
            await until(lambda: window.state_label.text() == "Connected", 10)
            await asyncio.sleep(TALK)
            window.hangup_button.click()
            await until(lambda: window.state_label.text() == "Call ended: you hung up", 10)
        finally:
            await alice.engine.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 90))
    match = compare(speech_8k, heard)
    print(f"baresip -> GUI PCMU: {match}")
    assert match.correlation > 0.8
    if match.pesq_nb is not None:
        assert match.pesq_nb >= 3.5
