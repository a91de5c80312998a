"""The GUI against a real Kamailio: the first-run wizard registers, a wrong password is reported in
words, and a call goes through the registrar to a second phone."""

from __future__ import annotations

import asyncio

import pytest

from softphone.core.engine import Engine
from softphone.core.history import History
from softphone.media.session import MediaOptions
from softphone.ui.controller import PhoneController
from softphone.ui.main_window import MainWindow
from softphone.ui.preferences import Preferences
from tests.interop.conftest import kamailio  # noqa: F401  (the session's registrar)
from tests.peers.kamailio import KamailioServer
from tests.ui.test_gui_calls import until

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def phone(qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    engine = Engine(listen=("127.0.0.1", 0), media=MediaOptions(codecs=["PCMU"]))
    controller = PhoneController(engine, [], History(":memory:"), Preferences(), persist=False)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    return window


def fill(form, k: KamailioServer, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    form.user.setText(user)
    form.domain.setText(k.domain)
    form.password.setText(password)
    form.advanced.setChecked(True)
    form.proxy.setText(f"sip:{k.host}:{k.udp_port}")


def test_wizard_registers_wrong_password_is_reported_and_a_call_goes_through(
    qtbot,  # type: ignore[no-untyped-def]
    qloop,
    kamailio: KamailioServer,  # noqa: F811
) -> None:
    alice, carol = phone(qtbot), phone(qtbot)

    async def scenario() -> None:
        await alice.engine.start()
        await carol.engine.start()
        try:
            alice.show()
            wizard = alice.open_wizard()
            qtbot.addWidget(wizard)
            wizard.next()
            fill(wizard.account.form, kamailio, "alice", "alice-secret")
            wizard.next()
            assert wizard.currentId() == 2
            await until(lambda: wizard.register.isComplete(), 15)
            assert "Registered" in wizard.register.status.text()
            wizard.accept()
            alice_id = f"sip:alice@{kamailio.domain}"
            assert "Registered" in alice.account_text(alice_id)
            assert "alice" in kamailio.ul_dump()

            # a wrong password, through the account dialog: the list says so in words
            dialog = alice.add_account()
            qtbot.addWidget(dialog)
            fill(dialog.form, kamailio, "bob", "not-bobs-password")
            dialog.accept()
            bob_id = f"sip:bob@{kamailio.domain}"
            await until(lambda: "Failed" in alice.account_text(bob_id), 15)
            assert "wrong user name or password" in alice.account_text(bob_id)

            # carol registers in a second phone; alice calls her by user name through Kamailio
            carol_dialog = carol.add_account()
            qtbot.addWidget(carol_dialog)
            fill(carol_dialog.form, kamailio, "carol", "carol-secret")
            carol_dialog.accept()
            carol_id = f"sip:carol@{kamailio.domain}"
            await until(lambda: "Registered" in carol.account_text(carol_id), 15)
            alice.dialer.account.setCurrentIndex(alice.dialer.account.findData(alice_id))
            alice.dialer.input.setText("carol")
            alice.dialer.call_button.click()
            await until(lambda: bool(carol.call_windows), 15)
            incoming = next(iter(carol.call_windows.values()))
            qtbot.addWidget(incoming)
            outgoing = next(iter(alice.call_windows.values()))
            qtbot.addWidget(outgoing)
            # answer once carol's phone rings (its 180 reached alice): the offer has been answered then
            await until(lambda: outgoing.state_label.text() == "Ringing…", 15)
            incoming.answer_button.click()
            await until(lambda: outgoing.state_label.text() == "Connected", 15)
            incoming.hangup_button.click()
            await until(lambda: outgoing.state_label.text() == "Call ended: the other side hung up", 15)
            assert alice.controller.history.calls()[0].remote_uri.startswith("sip:carol@")
        finally:
            await alice.engine.stop()
            await carol.engine.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 90))
