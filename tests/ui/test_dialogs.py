"""Account dialog (password to the keyring), settings, first-run wizard, contacts, trace, tray, instance."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from softphone.core.account import AccountConfig
from softphone.core.events import EngineEvent
from softphone.core.history import Contact, ContactNumber
from softphone.core.settings import load_accounts
from softphone.core.trace import TraceEntry
from softphone.ui.account_dialog import AccountDialog
from softphone.ui.preferences import Preferences
from tests.ui.helpers import make_window


def test_account_dialog_builds_the_account_and_the_dial_plan(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = AccountDialog()
    qtbot.addWidget(dialog)
    form = dialog.form
    assert form.srtp.currentData() == "optional"
    dialog.accept()  # nothing typed: told in words, not closed
    assert form.error_label.text() == "Please enter your user name."
    form.display_name.setText("Alice Example")
    form.user.setText("alice")
    form.domain.setText("example.com:5070")
    form.password.setText("s3cret")
    form.advanced.setChecked(True)
    assert form._advanced_body.isVisibleTo(dialog)
    form.transport.setCurrentIndex(form.transport.findData("tcp"))
    form.proxy.setText("proxy.example.com")
    form.srtp.setCurrentIndex(form.srtp.findData("required"))
    form.direct.setChecked(True)
    form.country.setText("+49")
    dialog.accept()
    config = dialog.result_config
    assert config is not None and dialog.result_extras is not None
    assert config.aor == "sip:alice@example.com:5070"
    assert config.display_name == "Alice Example" and config.password == "s3cret"
    assert config.transport == "tcp" and config.proxy == "sip:proxy.example.com"
    assert config.allow_direct_calls
    assert dialog.result_extras.srtp == "required" and dialog.result_extras.country_code == "49"


def test_adding_an_account_saves_it_and_the_password_goes_to_the_keyring(qtbot, private_profile) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = make_window([])
    controller.persist = True
    qtbot.addWidget(window)
    dialog = window.add_account()
    dialog.form.user.setText("bob")
    dialog.form.domain.setText("example.org")
    dialog.form.password.setText("pw-bob")
    dialog.form.register.setChecked(False)  # no network in this test
    dialog.accept()
    assert "sip:bob@example.org" in window.items
    assert private_profile.store[("softphone", "sip:bob@example.org")] == "pw-bob"
    (saved,) = load_accounts()
    assert saved.aor == "sip:bob@example.org" and saved.password is None
    config_dir = Path(__import__("os").environ["SOFTPHONE_CONFIG_DIR"])
    assert "pw-bob" not in (config_dir / "accounts.json").read_text()
    assert "Not registering" in window.account_text("sip:bob@example.org")


def test_editing_and_removing_an_account(qtbot, private_profile) -> None:  # type: ignore[no-untyped-def]
    alice = AccountConfig(aor="sip:alice@example.com", register=False)
    window, controller, _ = make_window([alice])
    qtbot.addWidget(window)
    dialog = window.edit_account(alice.id)
    assert dialog is not None
    assert dialog.form.user.text() == "alice" and dialog.form.password.placeholderText() == "unchanged"
    dialog.form.display_name.setText("Alice E.")
    dialog.accept()
    assert controller.accounts[alice.id].config.display_name == "Alice E."
    assert "Alice E." in window.account_text(alice.id)
    controller.remove_account(alice.id)
    assert window.items == {} and not window.no_account.isHidden()


def test_settings_say_when_there_is_no_sound_device_and_keep_the_codec_order(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("softphone.media.devices.list_devices", lambda: [])
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    settings = window.open_settings()
    qtbot.addWidget(settings)
    assert not settings.no_devices.isHidden()
    assert "No sound devices were found" in settings.no_devices.text()
    assert not settings.mic_test.isEnabled() and not settings.speaker_test.isEnabled()
    settings.codecs.setCurrentRow(2)  # PCMU up to first place
    settings._move_codec(-1)
    settings.codecs.setCurrentRow(1)
    settings._move_codec(-1)
    settings.codecs.item(3).setCheckState(Qt.CheckState.Unchecked)  # PCMA never
    settings.accept()
    assert controller.prefs.codecs == ["PCMU", "opus", "G722"]


def test_preferences_round_trip(tmp_path: Path) -> None:
    prefs = Preferences(codecs=["PCMA", "opus"], theme="dark")
    prefs.extras("sip:a@b").country_code = "44"
    prefs.save(tmp_path / "ui.json")
    back = Preferences.load(tmp_path / "ui.json")
    assert back.codecs == ["PCMA", "opus"] and back.theme == "dark"
    assert back.extras("sip:a@b").dial_plan().country_code == "44"
    (tmp_path / "bad.json").write_text("{not json")
    assert Preferences.load(tmp_path / "bad.json").codecs == Preferences().codecs
    (tmp_path / "odd.json").write_text(json.dumps({"codecs": ["nonsense"], "theme": "purple"}))
    odd = Preferences.load(tmp_path / "odd.json")
    assert odd.codecs == Preferences().codecs and odd.theme == "system"


def test_first_run_wizard_registers_and_reports_a_wrong_password(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    wizard = window.open_wizard()
    qtbot.addWidget(wizard)
    wizard.next()
    form = wizard.account.form
    form.user.setText("alice")
    form.domain.setText("example.com")
    wizard.next()  # no password: stays
    assert wizard.currentId() == 1 and "password" in form.error_label.text()
    form.password.setText("wrong")
    form.register.setChecked(False)  # the test drives the registration events itself
    wizard.next()
    assert wizard.currentId() == 2
    account_id = "sip:alice@example.com"
    assert account_id in controller.accounts
    assert not wizard.register.isComplete()
    controller.engine.emit(
        EngineEvent(
            "registration_failed",
            account_id,
            {
                "status": 401,
                "reason": "authentication failed: wrong user name or password",
                "permanent": True,
            },
        )
    )
    assert "wrong user name or password" in wizard.register.status.text()
    assert not wizard.register.retry.isHidden()
    wizard.back()
    form.password.setText("right")
    wizard.next()
    controller.engine.emit(EngineEvent("registered", account_id, {"expires": 600}))
    assert wizard.register.isComplete()
    assert "Registered" in wizard.register.status.text()
    assert list(controller.accounts) == [account_id]
    assert controller.accounts[account_id].config.password == "right"
    wizard.accept()
    assert controller.prefs.first_run_done


def test_contacts_with_several_numbers_and_vcard(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, controller, recorder = make_window([])
    qtbot.addWidget(window)
    dialog = window.new_contact()
    qtbot.addWidget(dialog)
    dialog.name.setText("Bob Builder")
    dialog.numbers.cellWidget(0, 1).setText("sip:bob@example.com")
    dialog.add_number("work", "sip:bob@work.example")
    dialog.accept()
    (bob,) = controller.history.contacts()
    assert [n.uri for n in bob.numbers] == ["sip:bob@example.com", "sip:bob@work.example"]
    assert "(+1 more)" in window.contacts_view.list.item(0).text()
    path = tmp_path / "out.vcf"
    assert window.contacts_view.export_vcard(str(path))
    assert "IMPP;TYPE=sip:sip:bob@work.example" in path.read_text()
    controller.history.delete_contact(bob.id or 0)
    assert window.contacts_view.import_vcard(str(path)) == 1
    assert window.contacts_view.list.count() == 1
    window.contacts_view.call_requested.emit("sip:bob@example.com")
    assert recorder.calls == [("sip:bob@example.com", None)]
    for w in window.call_windows.values():
        qtbot.addWidget(w)


def test_add_a_caller_from_the_history_to_the_contacts(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    window.add_contact_for("sip:erin@example.net", "erin@example.net")
    dialog = window.contacts_view.dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.numbers.cellWidget(0, 1).text() == "sip:erin@example.net"
    dialog.name.setText("Erin")
    dialog.accept()
    assert controller.history.find_contact("sip:erin@example.net") == Contact(
        "Erin", [ContactNumber("sip", "sip:erin@example.net")], id=1
    )


def test_trace_viewer_lists_messages_and_copies_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    controller.on_trace(
        TraceEntry("out", "192.0.2.1:5060", "REGISTER sip:example.com SIP/2.0\r\nCSeq: 1\r\n\r\n", 1.0)
    )
    trace = window.open_trace()
    qtbot.addWidget(trace)
    controller.on_trace(TraceEntry("in", "192.0.2.1:5060", "SIP/2.0 200 OK\r\nCSeq: 1\r\n\r\n", 2.0))
    assert trace.table.rowCount() == 2
    assert trace.table.item(0, 4).text() == "REGISTER sip:example.com SIP/2.0"
    assert trace.table.item(1, 1).text() == "←"
    trace.table.selectRow(1)
    assert "SIP/2.0 200 OK" in trace.detail.toPlainText()
    assert trace.copy_selection().startswith("<<<")
    assert QApplication.clipboard().text().count("192.0.2.1:5060") == 1
    everything = trace.copy_everything()
    assert "REGISTER" in everything and "200 OK" in everything
    trace.filter.setText("200 ok")
    assert trace.table.rowCount() == 1
    trace.tabs.setCurrentIndex(1)
    assert trace.ladder.peers == ["192.0.2.1:5060"]
    trace.clear()
    assert trace.table.rowCount() == 0 and not controller.trace


def test_tray_shows_missed_calls_and_do_not_disturb(qtbot) -> None:  # type: ignore[no-untyped-def]
    from softphone.ui.tray import Tray

    alice = AccountConfig(aor="sip:alice@example.com")
    window, controller, _ = make_window([alice])
    qtbot.addWidget(window)
    tray = Tray(window)
    assert "0 of 1 accounts registered" in tray.status_text()
    controller.engine.emit(EngineEvent("registered", alice.id, {"expires": 600}))
    assert "1 of 1 accounts registered" in tray.icon.toolTip()
    from softphone.core.history import CallRecord

    controller.history.add_call(CallRecord("incoming", "sip:x@y", outcome="missed", seen=False))
    window.update_missed(controller.missed_count())
    assert tray.missed_action.text() == "1 missed calls"
    tray.dnd_action.trigger()
    assert controller.do_not_disturb and "Do not disturb" in tray.icon.toolTip()


def test_single_instance_hands_the_uri_to_the_running_phone(qtbot) -> None:  # type: ignore[no-untyped-def]
    from softphone.ui.single_instance import SingleInstance, send_to_running

    first = SingleInstance(name="softphone-test-single-instance")
    assert first.listen()
    received: list[str] = []
    first.dial_requested.connect(received.append)
    try:
        assert send_to_running({"dial": "tel:+49 30 123"}, name="softphone-test-single-instance")
        qtbot.waitUntil(lambda: received == ["tel:+49 30 123"], timeout=3000)
        assert send_to_running({"dial": "callto://bob@example.com"}, name="softphone-test-single-instance")
        qtbot.waitUntil(lambda: len(received) == 2, timeout=3000)
        assert received[1] == "bob@example.com"
    finally:
        first.close()
    assert not send_to_running({"dial": "sip:x@y"}, name="softphone-test-single-instance")


def test_dial_uri_from_a_link_shows_the_window_and_dials(qtbot) -> None:  # type: ignore[no-untyped-def]
    window, _, recorder = make_window([])
    qtbot.addWidget(window)
    window.dial_uri("sip:bob@192.0.2.10")
    assert window.isVisible()
    assert recorder.calls == [("sip:bob@192.0.2.10", None)]
    for w in window.call_windows.values():
        qtbot.addWidget(w)


def test_general_settings_choose_the_language_and_start_with_the_system(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the interface language and "start with the system" are in the settings."""
    from softphone.ui import autostart

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("sys.platform", "linux")
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    settings = window.open_settings()
    qtbot.addWidget(settings)
    assert settings.language.findData("de") >= 0 and settings.language.findData("en") >= 0
    settings.language.setCurrentIndex(settings.language.findData("de"))
    assert not settings.autostart.isChecked()
    settings.autostart.setChecked(True)
    settings.accept()
    assert controller.prefs.language == "de"
    assert autostart.is_enabled("linux")
    assert (tmp_path / "xdg" / "autostart" / "softphone.desktop").is_file()


def test_close_to_tray_is_not_offered_without_a_tray(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from softphone.ui.tray import Tray

    monkeypatch.setattr(Tray, "available", staticmethod(lambda: False))
    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    settings = window.open_settings()
    qtbot.addWidget(settings)
    assert settings.close_to_tray.isHidden() and settings.start_hidden.isHidden()
    assert not settings.close_to_tray.isChecked()


def test_the_links_button_makes_softphone_the_handler(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from softphone.ui import url_handler

    calls: list[list[str]] = []
    monkeypatch.setattr(url_handler, "_run", lambda args: calls.append(list(args)) or 0)
    monkeypatch.setattr("sys.platform", "linux")
    window, _, _ = make_window([])
    qtbot.addWidget(window)
    settings = window.open_settings()
    qtbot.addWidget(settings)
    qtbot.mouseClick(settings.url_handler_button, Qt.MouseButton.LeftButton)
    assert [c[-1] for c in calls] == [f"x-scheme-handler/{s}" for s in url_handler.SCHEMES]
    assert "now opens sip:" in settings.url_handler_result.text()


def test_every_alt_key_of_the_account_page_is_used_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Keyboard users: a mnemonic shared by two labels (or with the wizard's Back/Next/Finish) only moves
    the focus between them; Alt+N must press Next."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    from softphone.ui.wizard import FirstRunWizard

    window, controller, _ = make_window([])
    qtbot.addWidget(window)
    wizard = FirstRunWizard(controller, window)
    qtbot.addWidget(wizard)
    texts = [w.text() for w in wizard.account.findChildren(QLabel) if w.buddy() is not None]
    texts += [w.text() for w in wizard.account.findChildren(QAbstractButton)]
    texts += ["&Back", "&Next", "&Finish"]
    letters = [t[t.index("&") + 1].lower() for t in texts if "&" in t.replace("&&", "")]
    duplicates = {letter for letter in letters if letters.count(letter) > 1}
    assert not duplicates, (duplicates, texts)
    label = next(w for w in wizard.account.findChildren(QLabel) if w.text() == "&Password:")
    assert label.buddy() is wizard.account.form.password


def test_trace_viewer_names_the_account_and_the_ladder_selects_a_message(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: with several accounts the list says whose message it is; a click on an arrow selects it."""
    from PySide6.QtCore import QPoint

    alice = AccountConfig(aor="sip:alice@example.com")
    work = AccountConfig(aor="sip:100@pbx.example.org")
    window, controller, _ = make_window([alice, work])
    qtbot.addWidget(window)
    register = "REGISTER sip:pbx.example.org SIP/2.0\r\nFrom: <sip:100@pbx.example.org>;tag=1\r\n"
    register += "To: <sip:100@pbx.example.org>\r\nCSeq: 1 REGISTER\r\n\r\n"
    invite = "INVITE sip:alice@192.0.2.9 SIP/2.0\r\nf: Bob <sip:bob@example.net>;tag=9\r\n"
    invite += "t: <sip:alice@example.com>\r\nCSeq: 1 INVITE\r\n\r\n"
    controller.on_trace(TraceEntry("out", "192.0.2.2:5060", register, 1.0))
    controller.on_trace(TraceEntry("in", "192.0.2.3:5060", invite, 2.0))
    trace = window.open_trace()
    qtbot.addWidget(trace)
    assert trace.table.item(0, 2).text() == "100@pbx.example.org"
    assert trace.table.item(1, 2).text() == "alice@example.com"
    trace.tabs.setCurrentIndex(1)
    ladder = trace.ladder
    y = ladder.MARGIN + 24 + ladder.ROW * 1 + ladder.ROW // 2  # the second arrow
    qtbot.mouseClick(ladder, Qt.MouseButton.LeftButton, pos=QPoint(200, y))
    assert [index.row() for index in trace.table.selectionModel().selectedRows()] == [1]
    assert "INVITE sip:alice@192.0.2.9" in trace.detail.toPlainText()


def test_auto_answer_and_call_forwarding_are_set_per_account(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: what MicroSIP and Linphone users expect in an account: auto-answer and forwarding."""
    dialog = AccountDialog()
    qtbot.addWidget(dialog)
    form = dialog.form
    form.user.setText("alice")
    form.domain.setText("example.com")
    form.password.setText("s3cret")
    form.advanced.setChecked(True)
    assert not form.forward_to.isEnabled() and not form.auto_answer_delay.isEnabled()
    form.forward.setCurrentIndex(form.forward.findData("no_answer"))
    assert form.forward_to.isEnabled() and form.forward_after.isEnabled()
    dialog.accept()  # no target: said in words
    assert "forward to" in form.error_label.text()
    form.forward_to.setText("+49 30 1234")
    form.forward_after.setValue(15)
    form.auto_answer.setChecked(True)
    form.auto_answer_delay.setValue(3)
    dialog.accept()
    config = dialog.result_config
    assert config is not None
    assert (config.forward, config.forward_to, config.forward_after) == ("no_answer", "+49 30 1234", 15.0)
    assert config.auto_answer and config.auto_answer_delay == 3.0
    again = AccountDialog(config=config)
    qtbot.addWidget(again)
    assert again.form.forward.currentData() == "no_answer" and again.form.auto_answer.isChecked()


def test_sound_devices_are_listed_in_words_not_alsa_names(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: "pulse" and "default" are ALSA's plugin names; the list says what they are, and keeps the
    name itself as the setting."""
    from softphone.media.device_list import DeviceInfo

    devices = [
        DeviceInfo(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 2, 48000.0),
        DeviceInfo(1, "pulse", 32, 32, 44100.0),
        DeviceInfo(2, "default", 32, 32, 44100.0, True, True),
    ]
    monkeypatch.setattr("softphone.core.device_media.list_devices", lambda: devices)
    window, _, _ = make_window([])
    qtbot.addWidget(window)
    settings = window.open_settings()
    qtbot.addWidget(settings)
    shown = [settings.output_device.itemText(i) for i in range(settings.output_device.count())]
    assert shown[1:] == ["HDA Intel PCH: ALC3246 Analog", "Sound server (PulseAudio or PipeWire)",
                         "Default device of the sound system"]  # fmt: skip
    assert settings.output_device.itemData(2) == "pulse"


def test_the_sound_server_entry_names_the_device_it_leads_to(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from softphone.media.device_list import DeviceInfo

    devices = [DeviceInfo(1, "pulse", 32, 32, 44100.0)]
    monkeypatch.setattr("softphone.core.device_media.list_devices", lambda: devices)
    monkeypatch.setattr(
        "softphone.core.device_media.sound_server_defaults",
        lambda: {"speaker": "Built-in Audio Analog Stereo", "microphone": "Headset Microphone"},
    )
    window, _, _ = make_window([])
    qtbot.addWidget(window)
    settings = window.open_settings()
    qtbot.addWidget(settings)
    assert settings.output_device.itemText(1) == "Sound server: Built-in Audio Analog Stereo"
    assert settings.input_device.itemText(1) == "Sound server: Headset Microphone"
