"""The main window: accounts with live state, the dialer with its dial plan, pad and search."""

from __future__ import annotations

from PySide6.QtCore import Qt

from softphone.core.account import AccountConfig
from softphone.core.events import EngineEvent
from softphone.core.history import CallRecord, Contact, ContactNumber
from softphone.ui.preferences import AccountExtras, Preferences
from tests.ui.helpers import make_window


def test_account_rows_follow_registration_and_say_why_it_failed(qtbot) -> None:  # type: ignore[no-untyped-def]
    alice = AccountConfig(aor="sip:alice@example.com", display_name="Alice")
    work = AccountConfig(aor="sip:100@pbx.example.org")
    window, controller, _ = make_window([alice, work])
    qtbot.addWidget(window)
    assert "Not registered" in window.account_text(alice.id)
    controller.engine.emit(EngineEvent("registering", alice.id, {"registrar": "sip:example.com"}))
    assert "Registering" in window.account_text(alice.id)
    controller.engine.emit(EngineEvent("registered", alice.id, {"expires": 600}))
    assert "Registered" in window.account_text(alice.id)
    controller.engine.emit(
        EngineEvent(
            "registration_failed",
            work.id,
            {"status": 503, "reason": "server unreachable", "retry_in": 30.0, "permanent": False},
        )
    )
    text = window.account_text(work.id)
    assert "Failed: server unreachable" in text and "retrying in 30 s" in text
    row = window.items[work.id]
    assert "server unreachable" in row.accessibleName()
    # the dialer's account choice follows: the registered account is offered first
    assert window.dialer.selected_account() == alice.id


def test_no_account_says_direct_calls_still_work(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, _, _ = make_window([])
    qtbot.addWidget(window)
    window.show()
    assert window.no_account.isVisible()
    assert "directly" in window.no_account.text()
    assert window.dialer.selected_account() is None


def test_dialling_a_pasted_number_applies_the_accounts_dial_plan(qtbot) -> None:  # type: ignore[no-untyped-def]
    alice = AccountConfig(aor="sip:alice@example.com")
    prefs = Preferences()
    prefs.accounts[alice.id] = AccountExtras(country_code="49")
    window, controller, recorder = make_window([alice], prefs)
    qtbot.addWidget(window)
    controller.engine.emit(EngineEvent("registered", alice.id, {"expires": 600}))
    window.dialer.input.setText("+49 (0)30 123")
    qtbot.keyClick(window.dialer.input, Qt.Key.Key_Return)
    assert recorder.calls == [("004930123", alice.id)]
    window.dialer.input.setText("sip:bob@example.org")
    qtbot.mouseClick(window.dialer.call_button, Qt.MouseButton.LeftButton)
    assert recorder.calls[-1] == ("sip:bob@example.org", alice.id)
    for window_ in window.call_windows.values():
        qtbot.addWidget(window_)


def test_a_number_without_an_account_is_explained(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, _, recorder = make_window([])
    qtbot.addWidget(window)
    window.show()
    window.dialer.input.setText("030 123")
    window.dialer.dial()
    assert recorder.calls == []
    assert window.banner.isVisible() and "needs an account" in window.banner.text()
    window.dialer.input.setText("bob@192.0.2.10")
    window.dialer.dial()
    assert recorder.calls == [("bob@192.0.2.10", None)]
    for window_ in window.call_windows.values():
        qtbot.addWidget(window_)


def test_dial_pad_types_into_the_dialer(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, _, _ = make_window([])
    qtbot.addWidget(window)
    for key in "12#":
        qtbot.mouseClick(window.dialpad.buttons[key], Qt.MouseButton.LeftButton)
    assert window.dialer.input.text() == "12#"
    assert window.dialer.call_button.isEnabled()
    window.dialer.input.clear()
    assert not window.dialer.call_button.isEnabled()


def test_search_as_you_type_over_contacts_and_history(qtbot) -> None:  # type: ignore[no-untyped-def]
    alice = AccountConfig(aor="sip:alice@example.com")
    window, controller, recorder = make_window([alice])
    qtbot.addWidget(window)
    window.show()
    controller.history.add_contact(
        Contact(
            "Bob Builder",
            [ContactNumber("mobile", "+49 151 234"), ContactNumber("sip", "sip:bob@example.com")],
        )
    )
    controller.history.add_call(CallRecord("incoming", "sip:bobby@other.example", "Bobby"))
    window.dialer.input.setText("bob")
    suggestions = window.dialer.suggestions
    assert suggestions.isVisible()
    texts = [suggestions.item(i).text() for i in range(suggestions.count())]
    assert texts[0].startswith("Bob Builder") and "+49 151 234" in texts[0]
    assert any("bobby@other.example" in t for t in texts)
    window.dialer.input.setText("xyz-nothing")
    assert not suggestions.isVisible()
    # a name typed and Enter: the best match is called
    window.dialer.input.setText("bob b")
    window.dialer.dial()
    assert recorder.calls[-1][0] == "+49 151 234".replace(" ", "").replace("+", "00")
    for window_ in window.call_windows.values():
        qtbot.addWidget(window_)


def test_do_not_disturb_reaches_the_engine(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    window.dnd_action.trigger()
    assert controller.engine.do_not_disturb
    assert window.dnd_label.text() == "Do not disturb"
    window.dnd_action.trigger()
    assert not controller.engine.do_not_disturb


def test_every_control_has_an_accessible_name(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QListWidget

    alice = AccountConfig(aor="sip:alice@example.com")
    window, _, _ = make_window([alice])
    qtbot.addWidget(window)
    unnamed = []
    for kind in (QAbstractButton, QLineEdit, QComboBox, QListWidget):
        for widget in window.findChildren(kind):
            if widget.objectName().startswith("qt_") or isinstance(widget.parent(), QLineEdit):
                continue  # Qt's own parts (menu extension, a line edit's clear and icon buttons)
            if not (widget.accessibleName() or (isinstance(widget, QAbstractButton) and widget.text())):
                unnamed.append(f"{type(widget).__name__}")
    assert unnamed == []


def test_about_shows_version_licence_notices_and_folders_and_copies_diagnostics(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Help -> About (issue 10: the third-party notices; issue 12: version, licence, website, folders)."""
    from PySide6.QtWidgets import QApplication

    from softphone import HOMEPAGE, __version__
    from softphone.core.settings import config_dir
    from softphone.ui.about_dialog import AboutDialog

    window, _, _ = make_window([])
    qtbot.addWidget(window)
    window.show_about()
    about = window.dialogs[-1]
    assert isinstance(about, AboutDialog)
    assert __version__ in about.summary.text() and "MIT" in about.summary.text()
    assert HOMEPAGE in about.summary.text()
    assert str(config_dir()) in about.places.text()
    notices = about.notices.toPlainText()
    for carried in ("PySide6", "aiortc", "av ", "Qt 6", "FFmpeg", "libsrtp", "OpenSSL"):
        assert carried in notices, carried
    qtbot.mouseClick(about.copy_button, Qt.MouseButton.LeftButton)
    copied = QApplication.clipboard().text()
    assert f"Softphone {__version__}" in copied and "Settings:" in copied


def test_an_account_just_added_becomes_the_one_to_call_from(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: after the wizard, "Call from" no longer says "Direct call", and `bob` can be called."""
    window, controller, recorder = make_window([])
    qtbot.addWidget(window)
    window.show()
    window.dialer.input.setText("bob")
    assert not window.dialer.call_button.isEnabled()
    spawn, controller.spawn = controller.spawn, lambda coro: coro.close()  # no registration in this test
    controller.add_account(AccountConfig(aor="sip:alice@example.com", password="secret"))
    controller.spawn = spawn
    assert window.dialer.selected_account() == "sip:alice@example.com"
    assert window.dialer.call_button.isEnabled() and not window.dialer.reason.isVisible()
    qtbot.mouseClick(window.dialer.call_button, Qt.MouseButton.LeftButton)
    assert recorder.calls == [("bob", "sip:alice@example.com")]


def test_the_dialer_says_why_a_call_cannot_be_placed(qtbot) -> None:  # type: ignore[no-untyped-def]
    alice = AccountConfig(aor="sip:alice@example.com")
    window, _, _ = make_window([alice])
    qtbot.addWidget(window)
    window.show()
    window.dialer.account.setCurrentIndex(window.dialer.account.findText("Direct call (no account)"))
    window.dialer.input.setText("bob")
    assert not window.dialer.call_button.isEnabled()
    assert window.dialer.reason.isVisible()
    assert "choose your account" in window.dialer.reason.text() and "bob@" in window.dialer.reason.text()
    window.dialer.input.setText("bob@192.0.2.10")
    assert window.dialer.call_button.isEnabled() and not window.dialer.reason.isVisible()
    window.dialer.input.setText("!!")
    assert "is not a number or a SIP address" in window.dialer.reason.text()


def test_the_no_account_hint_leaves_the_status_bar_when_an_account_exists(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    assert "No account yet" in window.statusBar().currentMessage()
    controller.spawn = lambda coro: coro.close()
    controller.add_account(AccountConfig(aor="sip:alice@example.com", password="secret"))
    assert "No account yet" not in window.statusBar().currentMessage()


def test_avatar_initials_come_from_names_not_hosts() -> None:
    from softphone.ui.call_window import avatar_initials

    assert avatar_initials("bob@127.0.0.1") == "B"
    assert avatar_initials("Bob Smith") == "BS"
    assert avatar_initials("alice.jones@example.com") == "AJ"
    assert avatar_initials("+49 30 1234") == "#"
    assert avatar_initials("100@pbx.example.org") == "#"


def test_the_password_hint_says_where_the_password_really_goes(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: with no keyring the dialog must not promise one."""
    from softphone.ui import account_dialog

    window, _, _ = make_window([])
    qtbot.addWidget(window)
    monkeypatch.setattr(account_dialog, "keyring_available", lambda: True)
    assert "keyring" in account_dialog.password_store_text(window)
    monkeypatch.setattr(account_dialog, "keyring_available", lambda: False)
    text = account_dialog.password_store_text(window)
    assert "No system keyring" in text and "secrets.json" in text and "readable only by you" in text
